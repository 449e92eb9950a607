"""Annotated dependencies, so route signatures read like plain parameters."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from modelsnest.auth.key_verifier import ApiKeyPrincipal
from modelsnest.gateway.service import Gateway
from modelsnest.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def get_gateway(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


def request_id(request: Request) -> str:
    return str(request.scope.get("state", {}).get("request_id") or "")


async def api_key(request: Request) -> ApiKeyPrincipal:
    gateway = get_gateway(request)
    return await gateway.keys.verify(request.headers.get("authorization"))


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
GatewayDep = Annotated[Gateway, Depends(get_gateway)]
ApiKeyDep = Annotated[ApiKeyPrincipal, Depends(api_key)]
RequestIdDep = Annotated[str, Depends(request_id)]
