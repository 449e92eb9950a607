"""Annotated dependencies, so route signatures read like plain parameters."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from modelsnest.auth.caller import Caller
from modelsnest.gateway.service import Gateway
from modelsnest.services import Services

# Every dependency is ``async def``: FastAPI runs plain ``def`` ones in a thread pool, a
# thread hop per dependency per request.


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def get_services(request: Request) -> Services:
    return services_of(request)


async def get_gateway(request: Request) -> Gateway:
    return services_of(request).gateway


async def request_id(request: Request) -> str:
    return str(request.scope.get("state", {}).get("request_id") or "")


async def api_caller(request: Request) -> Caller:
    """The caller of an ``/api/v1`` route: the owner of the ``Authorization: Bearer ptr_…`` key."""
    principal = await services_of(request).keys.verify(request.headers.get("authorization"))
    return Caller.from_key(principal)


ServicesDep = Annotated[Services, Depends(get_services)]
GatewayDep = Annotated[Gateway, Depends(get_gateway)]
CallerDep = Annotated[Caller, Depends(api_caller)]
RequestIdDep = Annotated[str, Depends(request_id)]
