"""The cookies pages set, and how: HttpOnly, SameSite=Lax, ``Secure`` when the request came
over HTTPS or the public URL is https. Routes queue cookies on the request (``set_cookie``,
``delete_cookie``); ``WebMiddleware`` writes them on whatever response goes out, redirects
and error pages included."""

from __future__ import annotations

from http.cookies import SimpleCookie
from typing import Final

from starlette.requests import Request

SESSION_COOKIE: Final = "ms_session"
ANON_COOKIE: Final = "ms_anon"  # the random id an anonymous visitor's CSRF token is bound to
PENDING_LOGIN_COOKIE: Final = "ms_login"  # between the password step and the second factor
FLASH_COOKIE: Final = "ms_flash"

STATE_KEY: Final = "web_cookies"


def is_secure(request: Request) -> bool:
    if request.url.scheme == "https":
        return True
    public_url = request.app.state.services.settings.public_url
    return bool(public_url and str(public_url).startswith("https://"))


def set_cookie(
    request: Request, name: str, value: str, *, max_age: int | None = None, http_only: bool = True
) -> None:
    """Queue a cookie for the response. ``max_age`` None: a browser-session cookie."""
    cookie: SimpleCookie = SimpleCookie()
    cookie[name] = value
    morsel = cookie[name]
    morsel["path"] = "/"
    morsel["samesite"] = "Lax"
    if http_only:
        morsel["httponly"] = True
    if is_secure(request):
        morsel["secure"] = True
    if max_age is not None:
        morsel["max-age"] = max_age
    _queue(request).append((name, morsel.OutputString()))


def delete_cookie(request: Request, name: str) -> None:
    set_cookie(request, name, "", max_age=0)


def queued(scope_state: dict[str, object]) -> list[tuple[str, str]]:
    value = scope_state.get(STATE_KEY)
    return value if isinstance(value, list) else []


def _queue(request: Request) -> list[tuple[str, str]]:
    state = request.scope.setdefault("state", {})
    jar = state.get(STATE_KEY)
    if not isinstance(jar, list):
        jar = []
        state[STATE_KEY] = jar
    return jar
