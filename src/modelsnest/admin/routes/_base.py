"""What every admin page handler shares: the guarded router, the acting administrator and
how a domain error comes back to the operator."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from modelsnest.admin.audit import Actor
from modelsnest.auth.web_sessions import SignedIn
from modelsnest.errors import ModelsnestError
from modelsnest.web import context as web
from modelsnest.web.deps import require_admin
from modelsnest.web.errors import redirect
from modelsnest.web.render import flash, render
from modelsnest.web.templating import sentence

PREFIX = "/admin"
TEMPLATES = "pages/admin/"


def section() -> APIRouter:
    """A part of the panel: under ``/admin``, every route guarded by ``require_admin``."""
    return APIRouter(prefix=PREFIX, include_in_schema=False, dependencies=[Depends(require_admin)])


async def acting_admin(request: Request, signed_in: Annotated[SignedIn, Depends(require_admin)]) -> Actor:
    return Actor(user_id=signed_in.user_id, email=signed_in.user.email, ip=web.client(request).ip)


AdminActor = Annotated[Actor, Depends(acting_admin)]


async def page(
    request: Request, template: str, values: dict[str, Any], *, status_code: int = 200
) -> Response:
    return await render(request, TEMPLATES + template, {"area": "admin", **values}, status_code=status_code)


def done(request: Request, url: str, message: str, kind: str = "success") -> Response:
    flash(request, message, kind)
    return redirect(request, url)


def failed(request: Request, url: str, error: ModelsnestError) -> Response:
    return done(request, url, sentence(error.message), "danger")


def int_param(request: Request, name: str, default: int = 1) -> int:
    try:
        return int(request.query_params.get(name, str(default)))
    except ValueError:
        return default
