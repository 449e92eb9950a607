"""Sign-up, sign-in (with the two-factor step), sign-out, password reset, e-mail verification.

Field names are part of the interface (tests, password managers, scripts): ``email``,
``password``, ``name``, ``accept_terms``, ``code``, ``token``, ``next``, ``csrf_token``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from modelsnest.auth.accounts import SignInResult
from modelsnest.auth.signing import PENDING_LOGIN_MAX_AGE
from modelsnest.errors import AuthError, Conflict, InvalidRequest, RateLimited
from modelsnest.web import context as web
from modelsnest.web.cookies import PENDING_LOGIN_COOKIE, delete_cookie, set_cookie
from modelsnest.web.deps import TWO_FACTOR_SETUP, CsrfChecked, CurrentUser, RequireUser
from modelsnest.web.errors import redirect
from modelsnest.web.forms import Form
from modelsnest.web.paths import safe_next
from modelsnest.web.render import flash, render

router = APIRouter(include_in_schema=False)

SIGNUP_FIELDS = ("email", "password", "name", "accept_terms")


def _throttled(exc: RateLimited) -> tuple[int, dict[str, str]]:
    return 429, {"Retry-After": str(exc.retry_after)}


async def _form_page(
    request: Request,
    template: str,
    form: Form,
    status: int,
    headers: dict[str, str] | None = None,
    **values: Any,
) -> Response:
    return await render(
        request,
        template,
        {"form": form.shown(), "errors": form.errors, **values},
        status_code=status,
        headers=headers,
    )


async def _signed_in_response(request: Request, result: SignInResult, next_url: str) -> Response:
    """After a successful sign-in: the previous session (if any) ends, a new one starts."""
    previous = await web.signed_in(request)
    if previous is not None:
        await web.accounts(request).sign_out(previous)
    assert result.session_token is not None
    await web.start_session(request, result.session_token)
    if await web.accounts(request).admin_needs_enrolment(result.user):
        flash(request, "Administrators must use two-factor sign-in: set it up to continue.", "warning")
        return redirect(request, TWO_FACTOR_SETUP + "?required=admin")
    return redirect(request, next_url)


# --- sign up ---------------------------------------------------------------------------------


@router.get("/signup")
async def signup_page(request: Request, user: CurrentUser) -> Response:
    next_url = safe_next(request.query_params.get("next"))
    if user is not None:
        return redirect(request, next_url)
    return await render(request, "pages/accounts/signup.html", _signup_values(request, next_url))


def _signup_values(request: Request, next_url: str) -> dict[str, Any]:
    return {"next": next_url, "signup_bonus_nanos": web.services(request).settings.signup_bonus_nanos}


@router.post("/signup")
async def signup(request: Request, _: CsrfChecked) -> Response:
    form = await Form.read(request)
    next_url = safe_next(form.get("next"))
    extra = _signup_values(request, next_url)
    try:
        result = await web.accounts(request).sign_up(
            email=form.get("email"),
            password=form.get("password"),
            name=form.get("name"),
            accepted_terms=form.checked("accept_terms"),
            client=web.client(request),
            site_url=web.site_url(request),
        )
    except RateLimited as exc:
        status, headers = _throttled(exc)
        form.fail("_form", f"too many sign-ups from your network: try again in {exc.retry_after} seconds")
        return await _form_page(request, "pages/accounts/signup.html", form, status, headers, **extra)
    except Conflict:
        form.fail(
            "email", "an account with this e-mail address already exists: sign in, or reset your password"
        )
        return await _form_page(request, "pages/accounts/signup.html", form, 409, **extra)
    except InvalidRequest as exc:
        form.fail_with(exc, fields=SIGNUP_FIELDS)
        return await _form_page(request, "pages/accounts/signup.html", form, 400, **extra)
    if web.services(request).settings.email_verification_required:
        flash(request, f"Welcome! We sent a confirmation link to {result.user.email}.", "success")
    else:
        flash(request, "Welcome to Modelsnest! Create your first API key to start.", "success")
    return await _signed_in_response(request, result, next_url)


# --- sign in ---------------------------------------------------------------------------------


@router.get("/login")
async def login_page(request: Request, user: CurrentUser) -> Response:
    next_url = safe_next(request.query_params.get("next"))
    if user is not None:
        return redirect(request, next_url)
    return await render(request, "pages/accounts/login.html", {"next": next_url})


@router.post("/login")
async def login(request: Request, _: CsrfChecked) -> Response:
    form = await Form.read(request)
    next_url = safe_next(form.get("next"))
    try:
        result = await web.accounts(request).sign_in(
            form.get("email"), form.get("password"), web.client(request)
        )
    except RateLimited as exc:
        status, headers = _throttled(exc)
        form.fail("_form", f"too many sign-in attempts: wait {exc.retry_after} seconds and try again")
        return await _form_page(request, "pages/accounts/login.html", form, status, headers, next=next_url)
    except AuthError:
        form.fail("_form", "wrong e-mail address or password")
        return await _form_page(request, "pages/accounts/login.html", form, 400, next=next_url)
    if result.needs_second_factor:
        assert result.pending_token is not None
        set_cookie(request, PENDING_LOGIN_COOKIE, result.pending_token, max_age=PENDING_LOGIN_MAX_AGE)
        target = "/login/two-factor" + (f"?next={next_url}" if next_url != "/dashboard" else "")
        return redirect(request, target)
    return await _signed_in_response(request, result, next_url)


@router.get("/login/two-factor")
async def two_factor_page(request: Request) -> Response:
    if web.accounts(request).pending_user_id(request.cookies.get(PENDING_LOGIN_COOKIE)) is None:
        flash(request, "Your sign-in expired: enter your password again.", "warning")
        return redirect(request, "/login")
    return await render(
        request, "pages/accounts/two_factor.html", {"next": safe_next(request.query_params.get("next"))}
    )


@router.post("/login/two-factor")
async def two_factor_submit(request: Request, _: CsrfChecked) -> Response:
    form = await Form.read(request)
    next_url = safe_next(form.get("next"))
    try:
        result = await web.accounts(request).complete_second_factor(
            request.cookies.get(PENDING_LOGIN_COOKIE), form.get("code"), web.client(request)
        )
    except AuthError:
        delete_cookie(request, PENDING_LOGIN_COOKIE)
        flash(request, "Your sign-in expired: enter your password again.", "warning")
        return redirect(request, "/login")
    except RateLimited as exc:
        status, headers = _throttled(exc)
        form.fail("_form", f"too many codes tried: wait {exc.retry_after} seconds and try again")
        return await _form_page(
            request, "pages/accounts/two_factor.html", form, status, headers, next=next_url
        )
    except InvalidRequest as exc:
        form.fail_with(exc, fields=("code",))
        return await _form_page(request, "pages/accounts/two_factor.html", form, 400, next=next_url)
    delete_cookie(request, PENDING_LOGIN_COOKIE)
    return await _signed_in_response(request, result, next_url)


# --- sign out --------------------------------------------------------------------------------


@router.get("/logout")
async def logout_page(request: Request, user: CurrentUser) -> Response:
    return await render(request, "pages/accounts/logout.html")


@router.post("/logout")
async def logout(request: Request, user: CurrentUser) -> Response:
    if user is not None:
        await web.accounts(request).sign_out(user)
    web.end_session_cookie(request)
    flash(request, "You are signed out.", "info")
    return redirect(request, "/login")


# --- forgotten password ----------------------------------------------------------------------


@router.get("/forgot-password")
async def forgot_password_page(request: Request) -> Response:
    return await render(request, "pages/accounts/forgot_password.html", {"sent": False})


@router.post("/forgot-password")
async def forgot_password(request: Request, _: CsrfChecked) -> Response:
    form = await Form.read(request)
    email = form.get("email").strip()
    if not email or "@" not in email:
        form.fail("email", "enter the e-mail address of your account")
        return await _form_page(request, "pages/accounts/forgot_password.html", form, 400, sent=False)
    try:
        await web.accounts(request).request_password_reset(email, web.client(request), web.site_url(request))
    except RateLimited as exc:
        status, headers = _throttled(exc)
        form.fail(
            "_form", f"too many reset requests from your network: try again in {exc.retry_after} seconds"
        )
        return await _form_page(
            request, "pages/accounts/forgot_password.html", form, status, headers, sent=False
        )
    return await render(request, "pages/accounts/forgot_password.html", {"sent": True, "email": email})


@router.get("/reset-password")
async def reset_password_page(request: Request) -> Response:
    token = request.query_params.get("token", "")
    valid = bool(token) and await web.accounts(request).reset_link_valid(token)
    return await render(
        request,
        "pages/accounts/reset_password.html",
        {"invalid": not valid, "token": token},
        status_code=200 if valid else 400,
    )


@router.post("/reset-password")
async def reset_password(request: Request, _: CsrfChecked) -> Response:
    form = await Form.read(request)
    token = form.get("token")
    try:
        await web.accounts(request).reset_password(
            token, form.get("password"), web.client(request), web.site_url(request)
        )
    except AuthError:
        return await render(
            request, "pages/accounts/reset_password.html", {"invalid": True, "token": ""}, status_code=400
        )
    except RateLimited as exc:
        status, headers = _throttled(exc)
        form.fail("_form", f"too many attempts: try again in {exc.retry_after} seconds")
        return await _form_page(
            request, "pages/accounts/reset_password.html", form, status, headers, invalid=False, token=token
        )
    except InvalidRequest as exc:
        form.fail_with(exc, fields=("password",))
        return await _form_page(
            request, "pages/accounts/reset_password.html", form, 400, invalid=False, token=token
        )
    web.end_session_cookie(request)
    flash(request, "Your password is changed. Sign in with the new one.", "success")
    return redirect(request, "/login")


# --- e-mail verification ---------------------------------------------------------------------


@router.get("/verify-email")
async def verify_email(request: Request) -> Response:
    token = request.query_params.get("token", "")
    verified = await web.accounts(request).verify_email(token) if token else None
    return await render(
        request,
        "pages/accounts/verify_email.html",
        {"verified": verified},
        status_code=200 if verified else 400,
    )


@router.post("/verify-email/resend")
async def resend_verification(request: Request, user: RequireUser) -> Response:
    form = await Form.read(request)
    try:
        await web.accounts(request).resend_verification(user.user, web.site_url(request))
    except RateLimited as exc:
        flash(
            request,
            f"A link was sent moments ago: wait {exc.retry_after} seconds before asking again.",
            "warning",
        )
    else:
        flash(request, f"We sent a new confirmation link to {user.user.email}.", "success")
    return redirect(request, safe_next(form.get("next"), "/dashboard"))
