"""Dependencies of page routes (the dashboard's and the admin panel's engineers use these):

    CurrentUser   SignedIn | None   the visitor's session, or None; checks CSRF on non-GET
    RequireUser   SignedIn          anonymous → 303 /login?next=<this page>; checks CSRF on non-GET
    RequireAdmin  SignedIn          as RequireUser; a non-admin gets the 403 page; an admin
                                    without 2FA while MODELSNEST_ADMIN_REQUIRE_2FA is on is sent
                                    to enrol first
    CsrfChecked   None              for anonymous forms (sign-in, sign-up, reset)

Every state-changing request (anything but GET, HEAD, OPTIONS) through these must carry the
visitor's CSRF token: the form field ``csrf_token`` (``{{ csrf_field() }}``) or the
``X-CSRF-Token`` header (htmx sends it from the page's meta tag). A missing or wrong token
is a 403 page.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from modelsnest.auth.web_sessions import SignedIn
from modelsnest.web import context as web
from modelsnest.web.errors import LoginRequired, PageError, RedirectTo

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
TWO_FACTOR_SETUP = "/dashboard/settings/two-factor"

CSRF_FAILED = PageError(
    403,
    "This form has expired",
    "For your security the form could not be accepted (its security token is missing or out of date). "
    "Go back, reload the page and send it again. Cookies must be enabled.",
)


async def check_csrf(request: Request) -> None:
    if request.method in SAFE_METHODS:
        return
    submitted = request.headers.get(web.CSRF_HEADER)
    if not submitted:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            value = (await request.form()).get(web.CSRF_FIELD)
            submitted = value if isinstance(value, str) else None
    if not await web.csrf_valid(request, submitted):
        raise CSRF_FAILED


async def current_user(request: Request) -> SignedIn | None:
    await check_csrf(request)
    return await web.signed_in(request)


async def require_user(request: Request) -> SignedIn:
    found = await web.signed_in(request)
    if found is None:
        next_url = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method not in SAFE_METHODS:
            next_url = request.url.path
        raise LoginRequired(next_url)
    await check_csrf(request)
    return found


async def require_admin(request: Request) -> SignedIn:
    found = await require_user(request)
    if not found.is_admin:
        raise PageError(
            403,
            "Administrators only",
            "This page is part of the admin panel. Your account is not an administrator.",
        )
    if await web.accounts(request).admin_needs_enrolment(found.user):
        raise RedirectTo(TWO_FACTOR_SETUP + "?required=admin")
    return found


CurrentUser = Annotated[SignedIn | None, Depends(current_user)]
RequireUser = Annotated[SignedIn, Depends(require_user)]
RequireAdmin = Annotated[SignedIn, Depends(require_admin)]
CsrfChecked = Annotated[None, Depends(check_csrf)]
