"""Annotated dependencies, so route signatures read like plain parameters."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from modelsnest.auth.key_verifier import ApiKeyPrincipal
from modelsnest.gateway.service import Gateway
from modelsnest.runtime import Runtime

# Every dependency is ``async def``: FastAPI runs plain ``def`` ones in a thread pool, a
# thread hop per dependency per request.


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def get_gateway(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


async def request_id(request: Request) -> str:
    return str(request.scope.get("state", {}).get("request_id") or "")


async def api_key(request: Request) -> ApiKeyPrincipal:
    gateway: Gateway = request.app.state.gateway
    return await gateway.keys.verify(request.headers.get("authorization"))


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
GatewayDep = Annotated[Gateway, Depends(get_gateway)]
ApiKeyDep = Annotated[ApiKeyPrincipal, Depends(api_key)]
RequestIdDep = Annotated[str, Depends(request_id)]
