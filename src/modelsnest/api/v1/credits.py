"""Buying credits from a program: start a checkout, read payments back, list them."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, NoReturn

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from modelsnest.api.body import read_body
from modelsnest.api.deps import CallerDep, ServicesDep
from modelsnest.api.schemas import credits as schemas
from modelsnest.errors import InvalidRequest
from modelsnest.exact_json import dumps

router = APIRouter(prefix="/credits")


def _json(value: Any, status_code: int = 200) -> Response:
    return Response(dumps(value), status_code=status_code, media_type="application/json")


def _no_constants(name: str) -> NoReturn:
    raise InvalidRequest(f"{name} is not a number JSON allows", code="INVALID_AMOUNT", param="amount_usd")


def _body(raw: bytes) -> dict[str, Any]:
    """The JSON body with numbers kept exact (Decimal, never float)."""
    try:
        body = json.loads(raw or b"null", parse_float=Decimal, parse_constant=_no_constants)
    except (ValueError, RecursionError) as exc:
        raise InvalidRequest("the body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise InvalidRequest('the body must be a JSON object: {"provider": "...", "amount_usd": "10.00"}')
    return body


@router.post("/checkout", operation_id="create_checkout", summary="Buy credits", **schemas.CHECKOUT)
async def checkout(request: Request, caller: CallerDep, services: ServicesDep) -> Response:
    """Start a top-up; send the payer to ``checkout_url``. Credited once the provider confirms."""
    body = _body(await read_body(request, services.settings.max_json_body_bytes))
    save_card = body.get("save_card", False)
    if not isinstance(save_card, bool):
        raise InvalidRequest("save_card must be true or false", param="save_card")
    payment = await services.payments.create_checkout(
        caller,
        provider=body.get("provider"),
        amount_usd=body.get("amount_usd"),
        request_base=str(request.base_url),
        save_card=save_card,
    )
    return _json(payment.to_json(), status_code=201)


@router.get("/payments/{payment_id}", operation_id="get_payment", summary="A payment", **schemas.GET)
async def get_payment(payment_id: str, caller: CallerDep, services: ServicesDep) -> Response:
    return _json((await services.payments.get_payment(caller, payment_id)).to_json())


@router.get("/payments", operation_id="list_payments", summary="Your payments", **schemas.LIST)
async def list_payments(
    caller: CallerDep,
    services: ServicesDep,
    limit: int = Query(50, ge=1, le=200),
    before: str | None = Query(None, max_length=40),
) -> Response:
    """The caller's payments, newest first; ``before`` = the last id seen for the next page."""
    rows = await services.payments.list_payments(caller, limit=limit + 1, before=before)
    return _json(
        {
            "object": "list",
            "data": [p.to_json() for p in rows[:limit]],
            "has_more": len(rows) > limit,
            "providers": [{"name": o.name, "label": o.label} for o in services.payments.providers()],
        }
    )
