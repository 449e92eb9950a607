"""Errors in pages are pages: a sentence of what went wrong and what to do, in the site's
style, with the right status; never a traceback or a JSON body. ``/api/...`` keeps its
OpenAI-shaped JSON: ``install_page_errors`` wraps the API's handlers and only takes over for
page paths.

For the lead's single error renderer: ``render_error_page(request, status, title, message)``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from modelsnest.errors import ModelsnestError, RateLimited
from modelsnest.web.paths import is_page_path
from modelsnest.web.render import render

log = logging.getLogger(__name__)

Handler = Callable[[Request, Any], Awaitable[Response]]

# What a visitor reads for each status when the code raising it said nothing better.
DEFAULT_MESSAGES: dict[int, tuple[str, str]] = {
    400: (
        "That request did not work",
        "Something in the request was not right. Go back, check the form and try again.",
    ),
    401: ("Please sign in", "Sign in to see this page."),
    403: (
        "You cannot open this page",
        "Your account does not have access to this page. If you think it should, ask an administrator.",
    ),
    404: (
        "Page not found",
        "There is no page at this address. Check the link, or start again from the home page.",
    ),
    405: (
        "That action is not available here",
        "This page does not accept that kind of request. Go back and use the page's own buttons.",
    ),
    409: (
        "That conflicts with something else",
        "The change conflicts with the current state. Reload the page and try again.",
    ),
    413: ("That is too large", "The upload or form is larger than we accept. Send something smaller."),
    429: ("Too many attempts", "Please wait a little before trying again."),
    500: (
        "Something went wrong on our side",
        "The error has been logged. Try again in a moment; if it keeps happening, contact support.",
    ),
    503: (
        "We are briefly unavailable",
        "Modelsnest is restarting or under maintenance. Try again in a minute.",
    ),
}


class PageError(Exception):
    """Raise from a page route or dependency to answer with an error page."""

    def __init__(
        self,
        status: int,
        title: str | None = None,
        message: str | None = None,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        default_title, default_message = DEFAULT_MESSAGES.get(status, (_phrase(status), ""))
        super().__init__(title or default_title)
        self.status = status
        self.title = title or default_title
        self.message = message or default_message
        self.headers = headers or {}


class LoginRequired(Exception):
    """An anonymous visitor on a signed-in page: sent to /login and back afterwards."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


class RedirectTo(Exception):
    """Leave a dependency for another page (e.g. an admin who must enrol 2FA first)."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


async def render_error_page(
    request: Request,
    status: int,
    title: str | None = None,
    message: str | None = None,
    *,
    headers: dict[str, str] | None = None,
) -> Response:
    """The error page of ``status``, with the default title and message where none is given."""
    default_title, default_message = DEFAULT_MESSAGES.get(status, (_phrase(status), ""))
    return await render(
        request,
        "pages/error.html",
        {"status": status, "title": title or default_title, "message": message or default_message},
        status_code=status,
        headers=headers,
        safe=True,
    )


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def login_redirect(request: Request, next_url: str) -> Response:
    target = "/login?" + urlencode({"next": next_url})
    return redirect(request, target)


def redirect(request: Request, url: str) -> Response:
    """303 to ``url``; an htmx request gets ``HX-Redirect`` so the whole page moves."""
    if request.headers.get("hx-request") == "true":
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def install_page_errors(app: FastAPI) -> None:
    """Answer errors on page paths with pages, delegating API paths to the handlers already
    installed (``api.errors.install_error_handlers`` must run first)."""
    previous: dict[Any, Handler] = dict(app.exception_handlers)

    def delegate(kind: type[BaseException]) -> Handler | None:
        return previous.get(kind)

    async def page_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PageError)
        return await render_error_page(request, exc.status, exc.title, exc.message, headers=exc.headers)

    async def login_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        return login_redirect(request, exc.next_url)

    async def redirect_to(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RedirectTo)
        return redirect(request, exc.url)

    def wrap(kind: type[Exception], on_page: Callable[[Request, Any], Awaitable[Response]]) -> None:
        fallback = delegate(kind)

        async def handler(request: Request, exc: Exception) -> Response:
            if is_page_path(request.url.path) or fallback is None:
                try:
                    return await on_page(request, exc)
                except Exception:  # the error page itself failed: a plain answer, never a loop
                    log.exception("error page failed")
                    return Response(
                        "Something went wrong on our side.", status_code=500, media_type="text/plain"
                    )
            return await fallback(request, exc)

        app.add_exception_handler(kind, handler)

    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return await render_error_page(request, exc.status_code, headers=dict(exc.headers or {}))

    async def domain_error(request: Request, exc: ModelsnestError) -> Response:
        if exc.status >= 500:
            log.error("page failed: %s (%s)", exc.message, exc.code)
            return await render_error_page(request, exc.status)
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
        return await render_error_page(request, exc.status, message=_sentence(exc.message), headers=headers)

    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        # Page routes read their forms themselves; what FastAPI validates is the path and
        # query, where a malformed value (``/dashboard/keys/abc``) names no page.
        in_path = any(error.get("loc", ("",))[0] == "path" for error in exc.errors())
        return await render_error_page(request, 404 if in_path else 400)

    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error in a page", exc_info=exc)
        return await render_error_page(request, 500)

    app.add_exception_handler(PageError, page_error)
    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(RedirectTo, redirect_to)
    wrap(StarletteHTTPException, http_error)
    wrap(ModelsnestError, domain_error)
    wrap(RequestValidationError, invalid_request)
    wrap(Exception, unexpected)


def _sentence(text: str) -> str:
    text = text.strip()
    return (text[:1].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")) if text else text
