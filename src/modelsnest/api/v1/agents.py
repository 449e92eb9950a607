"""The reads that go with the APIs coding agents speak: a stored Response
(``GET /responses/{id}``) and the calling key (``GET /key``, OpenRouter's shape)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path
from fastapi.responses import Response

from modelsnest.api.deps import CallerDep, GatewayDep
from modelsnest.api.schemas import agents as schemas
from modelsnest.auth.key_status import key_status
from modelsnest.errors import AuthError
from modelsnest.exact_json import dumps, money
from modelsnest.gateway.responses import get_response

router = APIRouter()


def _json(value: Any) -> Response:
    return Response(dumps(value), media_type="application/json")


@router.get(
    "/responses/{response_id}",
    operation_id="get_response",
    summary="Retrieve a stored response",
    **schemas.GET_RESPONSE,
)
async def retrieve_response(
    caller: CallerDep,
    gateway: GatewayDep,
    response_id: str = Path(..., description="A response id (`resp_…`)."),
) -> Response:
    """A response created with `store` (the default) by this account; 404 for any other id."""
    body = await get_response(gateway.sessions, caller.user_id, response_id)
    return Response(body, media_type="application/json")


@router.get("/key", operation_id="get_key", summary="The calling API key", **schemas.KEY)
async def current_key(caller: CallerDep, gateway: GatewayDep) -> Response:
    """The key's name, prefix, limits and spend (today, this week, this month, in all)."""
    if caller.key_id is None:
        raise AuthError("this endpoint needs an API key", code="MISSING_AUTH_HEADER")
    status = await key_status(gateway.sessions, caller.key_id)
    remaining = status.remaining_nanos
    return _json(
        {
            "data": {
                "label": status.name,
                "name": status.name,
                "prefix": status.prefix,
                "created_at": status.created_at.isoformat(),
                "expires_at": status.expires_at.isoformat() if status.expires_at else None,
                "limit": money(status.spend_limit_nanos) if status.spend_limit_nanos is not None else None,
                "limit_remaining": money(remaining) if remaining is not None else None,
                "limit_reset": None,
                "usage": money(status.spent_total_nanos),
                "usage_daily": money(status.spent_today_nanos),
                "usage_weekly": money(status.spent_week_nanos),
                "usage_monthly": money(status.spent_month_nanos),
                "is_free_tier": False,
                "is_provisioning_key": False,
                "rate_limit": {
                    "requests": status.rpm_limit,
                    "interval": "1m",
                    "tokens_per_minute": status.tpm_limit,
                },
                "allowed_models": status.allowed_models,
            }
        }
    )
