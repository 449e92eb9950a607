from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from modelsnest.api.deps import GatewayDep
from modelsnest.catalog.types import ModelInfo
from modelsnest.errors import ModelError
from modelsnest.exact_json import dumps, money

router = APIRouter()


def model_object(model: ModelInfo, created: int) -> dict[str, Any]:
    price = model.pricing
    return {
        "id": model.slug,
        "object": "model",
        "created": created,
        "owned_by": model.vendor,
        "name": model.name,
        "category": model.category,
        "endpoint": model.endpoint,
        "status": model.status,
        "context_length": model.context_length,
        "max_output_tokens": model.max_output_tokens,
        "capabilities": dict(model.capabilities),
        "pricing": None
        if price is None
        else {
            "unit": price.unit,
            "input": money(price.input_nanos),
            "output": money(price.output_nanos),
            "currency": "USD",
        },
        "available": bool(model.routes) and model.status != "disabled",
    }


@router.get("/models")
async def list_models(gateway: GatewayDep) -> Response:
    """Every catalog model (OpenAI list shape) with its category, price per unit and status."""
    snapshot = await gateway.catalog.get()
    created = int(snapshot.loaded_at.timestamp())
    data = [model_object(m, created) for m in snapshot.models.values() if m.status != "disabled"]
    return Response(dumps({"object": "list", "data": data}), media_type="application/json")


@router.get("/models/{slug:path}")
async def get_model(slug: str, gateway: GatewayDep) -> Response:
    snapshot = await gateway.catalog.get()
    model = snapshot.models.get(slug)
    if model is None or model.status == "disabled":
        raise ModelError(f"model '{slug}' does not exist", code="MODEL_NOT_FOUND", param="model")
    return Response(
        dumps(model_object(model, int(snapshot.loaded_at.timestamp()))), media_type="application/json"
    )
