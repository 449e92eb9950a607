"""What every billable request goes through before the upstream is called, whatever its
modality: model resolution, key permissions, pricing, limits and the credit hold."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from modelsnest import billing
from modelsnest.auth.key_verifier import ApiKeyPrincipal
from modelsnest.catalog.types import ModelInfo, PriceInfo
from modelsnest.errors import (
    InvalidRequest,
    ModelError,
    ModelsnestError,
    PermissionDenied,
    RateLimited,
    UsageTransactionFailed,
)
from modelsnest.gateway.fallback import Served, first_success
from modelsnest.gateway.limits import LimitState
from modelsnest.gateway.service import Gateway

log = logging.getLogger(__name__)
T = TypeVar("T")

# Which catalog endpoints each API path serves.
ENDPOINT_NAMES = {
    "chat": "/api/v1/chat/completions",
    "embeddings": "/api/v1/embeddings",
    "images": "/api/v1/images/generations",
    "transcription": "/api/v1/audio/transcriptions",
    "speech": "/api/v1/audio/speech",
    "video": "/api/v1/video/generations",
}


@dataclass
class Admission:
    """A request that passed every check and holds credits; must end in settle or release."""

    principal: ApiKeyPrincipal
    model: ModelInfo
    price: PriceInfo
    request_id: str
    limit_state: LimitState
    hold_id: str | None = None
    hold_nanos: int = 0
    slot_held: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    async def free_slot(self, gateway: Gateway) -> None:
        """Give back the user's concurrency slot (once)."""
        if self.slot_held:
            self.slot_held = False
            await gateway.limits.concurrency.leave(self.principal.user_id)


async def resolve_model(gateway: Gateway, principal: ApiKeyPrincipal, slug: str, endpoint: str) -> ModelInfo:
    snapshot = await gateway.catalog.get()
    model = snapshot.models.get(slug)
    if model is None:
        raise ModelError(
            f"model '{slug}' does not exist; GET /api/v1/models lists the available models",
            code="MODEL_NOT_FOUND",
            param="model",
        )
    if not principal.allows_model(slug):
        raise PermissionDenied(f"this API key may not use model '{slug}'", code="MODEL_NOT_ALLOWED")
    if model.status == "disabled":
        raise ModelError(f"model '{slug}' is currently unavailable", code="MODEL_UNAVAILABLE", param="model")
    if model.endpoint != endpoint:
        raise InvalidRequest(
            f"model '{slug}' is served at {ENDPOINT_NAMES.get(model.endpoint, model.endpoint)}, not here",
            code="MODEL_UNAVAILABLE",
            param="model",
        )
    if not model.routes:
        raise ModelError(f"model '{slug}' has no available provider", code="MODEL_UNAVAILABLE", param="model")
    return model


async def admit(
    gateway: Gateway,
    principal: ApiKeyPrincipal,
    model: ModelInfo,
    price: PriceInfo,
    *,
    request_id: str,
    hold_nanos: int,
    endpoint: str,
    hold_ttl_seconds: int | None = None,
) -> Admission:
    """Limits, spend limit, concurrency slot, then the hold. Raises 402/429 and frees what it took."""
    limit_state = await gateway.limits.check_request(
        principal.key_id, principal.rpm_limit, principal.tpm_limit
    )
    if (
        principal.spend_limit_nanos is not None
        and principal.spent_nanos + hold_nanos > principal.spend_limit_nanos
    ):
        raise RateLimited("this API key has reached its spend limit", retry_after=3600)
    await gateway.limits.concurrency.enter(principal.user_id, gateway.settings.user_concurrency_limit)
    try:
        hold = await gateway.ledger.hold(
            user_id=principal.user_id,
            amount_nanos=hold_nanos,
            idempotency_key=f"hold:{request_id}",
            api_token_id=principal.key_id,
            request_id=request_id,
            ttl_seconds=hold_ttl_seconds or gateway.settings.hold_ttl_seconds,
            meta={"model": model.slug, "endpoint": endpoint},
        )
    except BaseException:
        await gateway.limits.concurrency.leave(principal.user_id)
        raise
    return Admission(
        principal=principal,
        model=model,
        price=price,
        request_id=request_id,
        limit_state=limit_state,
        hold_id=hold.hold_id,
        hold_nanos=hold_nanos,
    )


def usage_record(admission: Admission, endpoint: str, **fields: Any) -> billing.UsageRecord:
    return billing.UsageRecord(
        request_id=admission.request_id,
        user_id=admission.principal.user_id,
        api_token_id=admission.principal.key_id,
        endpoint=endpoint,
        model_slug=admission.model.slug,
        **fields,
    )


async def finish(
    gateway: Gateway, admission: Admission, *, cost_nanos: int, usage: billing.UsageRecord, tokens: int = 0
) -> billing.SettleResult:
    """Settle exactly (usage row committed before the client sees the answer), free the slot."""
    try:
        assert admission.hold_id is not None
        result = await gateway.ledger.settle(hold_id=admission.hold_id, cost_nanos=cost_nanos, usage=usage)
    except Exception as exc:
        # The hold stays until the sweeper resolves it; the client gets no unpaid content.
        log.error("settlement of %s failed: %r", admission.request_id, exc)
        raise UsageTransactionFailed("the usage could not be recorded; you have not been charged") from exc
    finally:
        await admission.free_slot(gateway)
    await gateway.limits.add_tokens(admission.principal.key_id, admission.principal.tpm_limit, tokens)
    return result


async def finish_served(
    gateway: Gateway,
    admission: Admission,
    served: Served,
    endpoint: str,
    started: float,
    *,
    cost_nanos: int,
    tokens: int = 0,
    **fields: Any,
) -> billing.SettleResult:
    """``finish`` for a request a route answered: the usage row names who served it and when."""
    return await finish(
        gateway,
        admission,
        cost_nanos=cost_nanos,
        tokens=tokens,
        usage=usage_record(
            admission,
            endpoint,
            provider_name=served.provider_name,
            upstream_model=served.upstream_model,
            latency_ms=fields.pop("latency_ms", int((time.perf_counter() - started) * 1000)),
            status="success",
            http_status=200,
            **fields,
        ),
    )


def failure_record(
    admission: Admission, endpoint: str, exc: BaseException, started: float
) -> billing.UsageRecord:
    """The usage row of a request that failed after admission (it costs nothing)."""
    status = exc.status if isinstance(exc, ModelsnestError) else 500
    code = exc.code if isinstance(exc, ModelsnestError) else "INTERNAL_ERROR"
    message = exc.message if isinstance(exc, ModelsnestError) else type(exc).__name__
    return usage_record(
        admission,
        endpoint,
        latency_ms=int((time.perf_counter() - started) * 1000),
        status="error",
        http_status=status,
        error_code=code,
        error_message=message[:500],
    )


async def call_routes(
    gateway: Gateway, admission: Admission, endpoint: str, started: float, call: Callable[[Any], Awaitable[T]]
) -> tuple[T, Served]:
    """The upstream call with fallback; any failure releases the whole hold before it propagates."""
    try:
        return await first_success(admission.model.routes, gateway.breaker, gateway.rng, call)
    except BaseException as exc:
        await abort(gateway, admission, failure_record(admission, endpoint, exc, started))
        raise


async def abort(gateway: Gateway, admission: Admission, usage: billing.UsageRecord) -> None:
    """The request failed: release the whole hold (no error costs anything) and log it."""
    try:
        if admission.hold_id is not None:
            await gateway.ledger.release(hold_id=admission.hold_id, usage=usage)
    finally:
        await admission.free_slot(gateway)
