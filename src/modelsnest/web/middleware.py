"""Pure-ASGI middleware for pages: writes the cookies routes queued, and the security headers
every HTML response carries. API paths pass through untouched (and unslowed)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from modelsnest.web.cookies import queued
from modelsnest.web.paths import is_page_path

# Scripts and styles come from our own /static only (no inline script anywhere); a page can be
# framed by nobody; forms post only to us.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
)


class WebMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_page_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})

        async def send_with_cookies(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name for name, _ in headers}
                latest: dict[str, str] = {}
                for cookie_name, header in queued(state):
                    latest[cookie_name] = header  # the last write of a cookie wins
                headers += [(b"set-cookie", header.encode("latin-1")) for header in latest.values()]
                is_html = any(n == b"content-type" and v.startswith(b"text/html") for n, v in headers)
                if is_html:
                    headers += [(n, v) for n, v in SECURITY_HEADERS if n not in names]
                    if b"cache-control" not in names:
                        # Pages carry personal data and CSRF tokens: never from a shared cache,
                        # never from history after signing out. A public page may say otherwise.
                        headers.append((b"cache-control", b"no-store"))
                    elif latest:
                        # A response that sets a cookie is one visitor's: never shared.
                        headers = [(n, v) for n, v in headers if n != b"cache-control"]
                        headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_cookies)
