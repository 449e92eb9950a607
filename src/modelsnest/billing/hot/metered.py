"""A ``HotLedger`` that records metrics around another: every paid request passes here once
to hold and once to settle or release, with its usage row, so this is the one place that sees
each request's outcome whatever its modality (streams and deferred video jobs included)."""

from __future__ import annotations

import time
from typing import Any

from modelsnest.billing.hot.protocol import HotLedger
from modelsnest.billing.types import HoldResult, SettleResult, StoredReply, UsageRecord
from modelsnest.observability import metrics


def observe_usage(usage: UsageRecord) -> None:
    """The request's outcome, latency and time to first token, from its usage row."""
    metrics.child(
        metrics.GATEWAY_REQUESTS,
        usage.endpoint,
        usage.model_slug,
        usage.provider_name or "none",
        usage.status,
    ).inc()
    if usage.latency_ms is not None:
        metrics.child(metrics.GATEWAY_LATENCY, usage.endpoint, usage.model_slug).observe(
            usage.latency_ms / 1000
        )
    if usage.streamed and usage.ttft_ms is not None:
        metrics.child(metrics.TIME_TO_FIRST_TOKEN, usage.model_slug).observe(usage.ttft_ms / 1000)


class MeteredLedger:
    def __init__(self, inner: HotLedger) -> None:
        self.inner = inner
        self.backend = getattr(inner, "backend", type(inner).__name__)
        self._hold_seconds = metrics.child(metrics.LEDGER_SECONDS, "hold")
        self._settle_seconds = metrics.child(metrics.LEDGER_SECONDS, "settle")
        self._release_seconds = metrics.child(metrics.LEDGER_SECONDS, "release")

    async def hold(
        self,
        *,
        user_id: int,
        amount_nanos: int,
        idempotency_key: str,
        api_token_id: int | None = None,
        request_id: str | None = None,
        ttl_seconds: int = 900,
        meta: dict[str, Any] | None = None,
    ) -> HoldResult:
        started = time.perf_counter()
        result = await self.inner.hold(
            user_id=user_id,
            amount_nanos=amount_nanos,
            idempotency_key=idempotency_key,
            api_token_id=api_token_id,
            request_id=request_id,
            ttl_seconds=ttl_seconds,
            meta=meta,
        )
        self._hold_seconds.observe(time.perf_counter() - started)
        metrics.HOLDS_OPEN.inc()
        return result

    async def settle(
        self, *, hold_id: str, cost_nanos: int, usage: UsageRecord, reply: StoredReply | None = None
    ) -> SettleResult:
        started = time.perf_counter()
        try:
            result = await self.inner.settle(hold_id=hold_id, cost_nanos=cost_nanos, usage=usage, reply=reply)
        finally:
            metrics.HOLDS_OPEN.dec()
        self._settle_seconds.observe(time.perf_counter() - started)
        observe_usage(usage)
        return result

    async def release(self, *, hold_id: str, usage: UsageRecord | None = None) -> None:
        started = time.perf_counter()
        try:
            await self.inner.release(hold_id=hold_id, usage=usage)
        finally:
            metrics.HOLDS_OPEN.dec()
        self._release_seconds.observe(time.perf_counter() - started)
        if usage is not None:
            observe_usage(usage)

    async def close(self) -> None:
        await self.inner.close()

    def __getattr__(self, name: str) -> Any:  # backend extras (the SQLite writer's counters)
        return getattr(self.inner, name)
