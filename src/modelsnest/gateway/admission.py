"""What every billable request goes through before the upstream is called, whatever its
modality: model resolution, key permissions, pricing, limits and the credit hold."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from modelsnest import billing
from modelsnest.auth.caller import Caller
from modelsnest.catalog.types import ModelInfo, PriceInfo
from modelsnest.errors import (
    InvalidRequest,
    ModelError,
    ModelsnestError,
    PermissionDenied,
    RateLimited,
    UsageTransactionFailed,
    describe,
    error_code,
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
    "rerank": "/api/v1/rerank",
}


@dataclass
class Admission:
    """A request that passed every check and holds credits; must end in settle or release."""

    caller: Caller
    model: ModelInfo
    price: PriceInfo
    request_id: str
    limit_state: LimitState
    hold_id: str | None = None
    hold_nanos: int = 0
    slot_held: bool = True
    extra: dict[str, Any] = field(default_factory=dict)
    # The routes to try when routing preferences chose them (``gateway.preferences``), else
    # the model's own; the route that answers may be another model's, which is then billed.
    routes: Sequence[Any] | None = None

    async def free_slot(self, gateway: Gateway) -> None:
        """Give back the user's concurrency slot (once)."""
        if self.slot_held:
            self.slot_held = False
            await gateway.limits.concurrency.leave(self.caller.user_id)


async def resolve_model(gateway: Gateway, caller: Caller, slug: str, endpoint: str) -> ModelInfo:
    snapshot = await gateway.catalog.get()
    model = snapshot.models.get(slug)
    if model is None:
        raise ModelError(
            f"model '{slug}' does not exist; GET /api/v1/models lists the available models",
            code="MODEL_NOT_FOUND",
            param="model",
        )
    if not caller.allows_model(slug):
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
    caller: Caller,
    model: ModelInfo,
    price: PriceInfo,
    *,
    request_id: str,
    hold_nanos: int,
    endpoint: str,
    hold_ttl_seconds: int | None = None,
) -> Admission:
    """Limits, spend limit, concurrency slot, then the hold. Raises 402/429 and frees what it took."""
    limit_state = await gateway.limits.check_request(caller.limit_scope, caller.rpm_limit, caller.tpm_limit)
    if caller.spend_limit_reached(hold_nanos):
        raise RateLimited("this API key has reached its spend limit", retry_after=3600)
    await gateway.limits.concurrency.enter(caller.user_id, gateway.settings.user_concurrency_limit)
    try:
        hold = await gateway.ledger.hold(
            user_id=caller.user_id,
            amount_nanos=hold_nanos,
            idempotency_key=f"hold:{request_id}",
            api_token_id=caller.key_id,
            request_id=request_id,
            ttl_seconds=hold_ttl_seconds or gateway.settings.hold_ttl_seconds,
            meta={
                "model": model.slug,
                "endpoint": endpoint,
                "origin": caller.origin,
                "price_version_id": price.version_id,
            },
        )
    except BaseException:
        await gateway.limits.concurrency.leave(caller.user_id)
        raise
    return Admission(
        caller=caller,
        model=model,
        price=price,
        request_id=request_id,
        limit_state=limit_state,
        hold_id=hold.hold_id,
        hold_nanos=hold_nanos,
    )


def usage_record(admission: Admission, endpoint: str, **fields: Any) -> billing.UsageRecord:
    """The request's usage row; it records the price version it was admitted (and billed) at."""
    fields.setdefault("price_version_id", admission.price.version_id)
    return billing.UsageRecord(
        request_id=admission.request_id,
        user_id=admission.caller.user_id,
        api_token_id=admission.caller.key_id,
        endpoint=endpoint,
        model_slug=admission.model.slug,
        origin=admission.caller.origin,
        **fields,
    )


def prompt_hold_tokens(estimate: int) -> int:
    """Prompt tokens to hold for: our estimate plus a margin for tokenizer differences."""
    return estimate + estimate // 4 + 16


async def finish(
    gateway: Gateway,
    admission: Admission,
    *,
    cost_nanos: int,
    usage: billing.UsageRecord,
    tokens: int = 0,
    reply: billing.StoredReply | None = None,
) -> billing.SettleResult:
    """Settle exactly (usage row, and the stored answer of an idempotent request, committed
    before the client sees the answer), free the slot."""
    try:
        assert admission.hold_id is not None
        result = await gateway.ledger.settle(
            hold_id=admission.hold_id, cost_nanos=cost_nanos, usage=usage, reply=reply
        )
    except Exception as exc:
        # The hold stays until the sweeper resolves it; the client gets no unpaid content.
        log.error("settlement of %s failed: %r", admission.request_id, exc)
        raise UsageTransactionFailed("the usage could not be recorded; you have not been charged") from exc
    finally:
        await admission.free_slot(gateway)
    await gateway.limits.add_tokens(admission.caller.limit_scope, admission.caller.tpm_limit, tokens)
    if result.charged_nanos > 0 and gateway.on_charged is not None:
        gateway.on_charged(admission.caller.user_id, result.balance_after_nanos)
    return result


def failure_record(
    admission: Admission, endpoint: str, exc: BaseException, started: float
) -> billing.UsageRecord:
    """The usage row of a request that failed after admission (it costs nothing)."""
    status = describe(exc).status
    code = error_code(exc)
    # The real message (an upstream's own words included) stays in our log row, never the client's.
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
    routes = admission.routes if admission.routes is not None else admission.model.routes
    try:
        result, served = await first_success(routes, gateway.breaker, gateway.rng, call)
    except BaseException as exc:
        await abort(gateway, admission, failure_record(admission, endpoint, exc, started))
        raise
    answered = getattr(served.route, "model", None)
    if isinstance(answered, ModelInfo) and answered is not admission.model:
        admission.model = answered  # a fallback model answered: it is the one billed
        admission.price = served.route.price
    return result, served


async def abort(gateway: Gateway, admission: Admission, usage: billing.UsageRecord) -> None:
    """The request failed: release the whole hold (no error costs anything) and log it."""
    try:
        if admission.hold_id is not None:
            await gateway.ledger.release(hold_id=admission.hold_id, usage=usage)
    finally:
        await admission.free_slot(gateway)
