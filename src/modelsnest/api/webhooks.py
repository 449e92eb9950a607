"""Payment providers' webhooks. A delivery that does not verify is a 400 and does nothing; a
verified one is stored and applied (2xx even when it names no payment of ours, so the
provider stops retrying); a provider error while applying it is a 5xx, so it retries."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from modelsnest.api.deps import ServicesDep

router = APIRouter(prefix="/webhooks", include_in_schema=False)  # called by providers, not clients


@router.post("/{provider}")
async def webhook(
    provider: Literal["stripe", "paypal", "coinbase"], request: Request, services: ServicesDep
) -> JSONResponse:
    result = await services.payments.handle_webhook(provider, await request.body(), dict(request.headers))
    return JSONResponse({"received": True, "outcome": result.outcome})
