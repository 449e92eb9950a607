"""Per-request facts every page needs, computed once per request and kept on its scope: who
is signed in, the CSRF token their forms carry, and the client's address."""

from __future__ import annotations

import secrets

from starlette.requests import Request

from modelsnest.auth.accounts import Accounts, Client
from modelsnest.auth.web_sessions import SignedIn
from modelsnest.services import Services
from modelsnest.web.cookies import ANON_COOKIE, SESSION_COOKIE, delete_cookie, set_cookie

_SIGNED_IN = "web_signed_in"
_ANON_ID = "web_anon_id"
ANON_COOKIE_MAX_AGE = 365 * 86400
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


def accounts(request: Request) -> Accounts:
    return services(request).accounts


async def signed_in(request: Request) -> SignedIn | None:
    """The visitor's valid session, else None (a stale cookie is cleared)."""
    state = request.scope.setdefault("state", {})
    if _SIGNED_IN in state:
        found: SignedIn | None = state[_SIGNED_IN]
        return found
    token = request.cookies.get(SESSION_COOKIE)
    result = await accounts(request).resolve(token) if token else None
    if token and result is None:
        delete_cookie(request, SESSION_COOKIE)
    state[_SIGNED_IN] = result
    return result


def remember_signed_in(request: Request, value: SignedIn | None) -> None:
    request.scope.setdefault("state", {})[_SIGNED_IN] = value


async def start_session(request: Request, token: str) -> None:
    """Hand the browser a new session (after sign-in, or a rotation); the rest of this request
    (a page rendered now, its CSRF token) already belongs to it."""
    set_cookie(request, SESSION_COOKIE, token)
    remember_signed_in(request, await accounts(request).resolve(token))


def end_session_cookie(request: Request) -> None:
    delete_cookie(request, SESSION_COOKIE)
    remember_signed_in(request, None)


def anon_id(request: Request) -> str:
    """The anonymous visitor's random id (from their cookie, or new and queued as one)."""
    state = request.scope.setdefault("state", {})
    value = state.get(_ANON_ID) or request.cookies.get(ANON_COOKIE)
    if not value or len(value) > 64:
        value = secrets.token_urlsafe(24)
        set_cookie(request, ANON_COOKIE, value, max_age=ANON_COOKIE_MAX_AGE)
    state[_ANON_ID] = value
    return str(value)


async def csrf_token(request: Request) -> str:
    """The token this visitor's forms must carry: their session's, or one bound to their
    anonymous cookie."""
    current = await signed_in(request)
    if current is not None:
        return current.csrf_token
    return accounts(request).signer.anon_csrf_token(anon_id(request))


async def csrf_valid(request: Request, submitted: str | None) -> bool:
    if not submitted:
        return False
    current = await signed_in(request)
    if current is not None and secrets.compare_digest(current.csrf_token, submitted):
        return True
    return accounts(request).signer.check_anon_csrf_token(request.cookies.get(ANON_COOKIE), submitted)


def client(request: Request) -> Client:
    host = request.client.host if request.client is not None else None
    return Client(ip=host, user_agent=request.headers.get("user-agent"))


def site_url(request: Request) -> str:
    """Absolute base for links in e-mails: MODELSNEST_PUBLIC_URL, else the request's own."""
    configured = services(request).settings.public_url
    return str(configured or request.base_url).rstrip("/")
