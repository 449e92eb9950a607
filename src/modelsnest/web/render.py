"""Render a page: the template plus what every page needs (the visitor, their CSRF token,
toasts, the app shell's balance and unread count, the current path for active links)."""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from modelsnest import billing, notifications
from modelsnest.auth.web_sessions import SignedIn
from modelsnest.web import context as web
from modelsnest.web.cookies import FLASH_COOKIE, delete_cookie, set_cookie
from modelsnest.web.templating import current_csrf_token, current_path

log = logging.getLogger(__name__)

# Public pages for anonymous visitors: short enough that a price or status change shows soon.
PUBLIC_MAX_AGE = 300

FLASH_KINDS = ("success", "info", "warning", "danger")


async def render(
    request: Request,
    template: str,
    values: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    safe: bool = False,
    public: bool = False,
    max_age: int = PUBLIC_MAX_AGE,
) -> HTMLResponse:
    """The page (or fragment) ``template`` with ``values``. ``safe``: for error pages, which
    must render even when the database is down (the shell's figures are then left out).
    ``public``: a page of the site with no form, the same for every anonymous visitor: for
    them it carries no CSRF token (no cookie is set) and may be cached for a few minutes;
    a signed-in visitor's copy is never cached (its header names them). ``max_age``: how
    long a public page may be cached, in seconds."""
    services = web.services(request)
    try:
        current = await web.signed_in(request)
    except Exception:
        if not safe:
            raise
        log.warning("error page rendered without the visitor's session", exc_info=True)
        current = None
    cacheable = public and current is None
    if cacheable:
        headers = {
            "Cache-Control": f"public, max-age={max_age}",
            "Vary": "Cookie, HX-Request",
            **(headers or {}),
        }
    context: dict[str, Any] = {
        "request": request,
        "current_path": request.url.path,
        "signed_in": current,
        "user": current.user if current is not None else None,
        "csrf_token": (
            current.csrf_token if current is not None else (None if cacheable else _anon_token(request))
        ),
        "toasts": _take_flashes(request),
        "is_htmx": request.headers.get("hx-request") == "true",
        "shell": await _shell(services, current, safe=safe),
        "verification_required": services.settings.email_verification_required,
        "errors": {},
        "form": {},
    }
    context.update(values or {})
    token = current_csrf_token.set(context["csrf_token"])
    path = current_path.set(request.url.path)
    try:
        html = services.pages.env.get_template(template).render(context)
    finally:
        current_csrf_token.reset(token)
        current_path.reset(path)
    return HTMLResponse(html, status_code=status_code, headers=headers)


def _anon_token(request: Request) -> str:
    return web.accounts(request).signer.anon_csrf_token(web.anon_id(request))


async def _shell(services: Any, current: SignedIn | None, *, safe: bool) -> dict[str, Any]:
    if current is None:
        return {"balance_nanos": None, "unread": 0}
    try:
        balance = await billing.get_balance(services.sessions, current.user_id)
        unread = await notifications.unread_count(services.sessions, current.user_id)
    except Exception:
        if not safe:
            raise
        return {"balance_nanos": None, "unread": 0}
    return {"balance_nanos": balance.available_nanos, "unread": unread}


def flash(request: Request, message: str, kind: str = "success") -> None:
    """A toast for the next page this visitor sees (after a redirect)."""
    signer = web.accounts(request).signer
    pending = _pending_flashes(request) + [[kind if kind in FLASH_KINDS else "info", message]]
    request.scope.setdefault("state", {})["web_flashes"] = pending
    set_cookie(request, FLASH_COOKIE, signer.dumps("flash", pending[-3:]), max_age=60)


def _pending_flashes(request: Request) -> list[list[str]]:
    value = request.scope.get("state", {}).get("web_flashes")
    return value if isinstance(value, list) else []


def _take_flashes(request: Request) -> list[dict[str, str]]:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw or _pending_flashes(request):
        return []
    delete_cookie(request, FLASH_COOKIE)
    value = web.accounts(request).signer.loads("flash", raw, max_age=120)
    if not isinstance(value, list):
        return []
    return [
        {"kind": str(item[0]), "message": str(item[1])}
        for item in value
        if isinstance(item, list) and len(item) == 2 and item[0] in FLASH_KINDS
    ]


def with_toast(response: Response, message: str, kind: str = "success") -> Response:
    """For an htmx answer: app.js shows a toast from the ``HX-Trigger`` header."""
    response.headers["HX-Trigger"] = json.dumps({"toast": {"message": message, "kind": kind}})
    return response
