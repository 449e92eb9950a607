"""What the ledger hands back and takes in. Plain dataclasses: no ORM objects leave the package."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

USAGE_STATUSES: Final = frozenset({"success", "error", "cancelled", "partial"})
# Where a call came from: "api" (an API key), "playground" (a logged-in user in the dashboard's
# chat playground, usually without a key), "store" (an API Store product call).
USAGE_ORIGINS: Final = frozenset({"api", "playground", "store"})


@dataclass(frozen=True)
class Balance:
    user_id: int
    balance_nanos: int
    reserved_nanos: int

    @property
    def available_nanos(self) -> int:
        """What a new hold may still take: the balance minus what in-flight calls reserved."""
        return self.balance_nanos - self.reserved_nanos


@dataclass(frozen=True)
class TransactionResult:
    transaction_id: int
    user_id: int
    amount_nanos: int
    balance_after_nanos: int
    replayed: bool


@dataclass(frozen=True)
class HoldResult:
    hold_id: str
    user_id: int
    amount_nanos: int
    expires_at: datetime
    replayed: bool


@dataclass
class UsageRecord:
    """One request as the usage log and the daily rollup see it (cost is not part of it:
    the ledger writes the cost it actually charged).

    Every field is the ``usage_logs`` column of the same name (``billing.usage.usage_log_row``
    maps them one to one), so a new field needs only its column. ``api_token_id`` is None for a
    call made without a key (the rollup then counts it under key 0)."""

    request_id: str
    user_id: int
    api_token_id: int | None
    endpoint: str
    model_slug: str
    provider_name: str | None = None
    upstream_model: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    units: int = 0
    unit_type: str | None = None
    latency_ms: int | None = None
    ttft_ms: int | None = None
    status: str = "success"  # success | error | cancelled | partial
    http_status: int | None = None
    error_code: str | None = None
    error_message: str | None = None
    cancelled: bool = False
    streamed: bool = False
    meta: dict[str, Any] | None = None
    origin: str = "api"  # one of USAGE_ORIGINS
    # Token details: parts of prompt_tokens/completion_tokens (``providers.types.Usage``).
    cached_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    audio_input_tokens: int = 0
    audio_output_tokens: int = 0
    # The selling price version billed, and the bill by dimension (``Costing.as_record()``).
    price_version_id: int | None = None
    cost_breakdown: list[dict[str, Any]] | None = None
    # What the serving route's provider charges for this usage (None: unknown), and the cost
    # price version it was computed from. Margin = the charge - this, exact per row.
    upstream_cost_nanos: int | None = None
    upstream_price_version_id: int | None = None


@dataclass(frozen=True)
class StoredReply:
    """The answer to a request that carried an ``Idempotency-Key``, stored by ``settle`` in
    the same transaction as the charge: a retry finds either this answer or nothing charged.

    ``record_id`` is the ``idempotency_records`` row the gateway claimed (status 'pending')
    for the same API key as the usage record's ``api_token_id``."""

    record_id: int
    status: int  # HTTP status of the answer
    body: bytes
    media_type: str  # e.g. "application/json", "audio/mpeg"
    headers: dict[str, str]  # answer headers to replay (provider, cost headers …)


@dataclass(frozen=True)
class SettleResult:
    hold_id: str
    transaction_id: int | None  # None when nothing was charged (no ledger row for a zero cost)
    charged_nanos: int
    balance_after_nanos: int
    replayed: bool


@dataclass(frozen=True)
class TransactionView:
    id: int
    user_id: int
    type: str
    amount_nanos: int
    balance_after_nanos: int
    reference_type: str | None
    reference_id: str | None
    description: str | None
    actor: str | None
    meta: dict[str, Any] | None
    created_at: datetime


@dataclass(frozen=True)
class SweepReport:
    settled: int
    released: int
    failed: int = 0  # holds whose resolution raised; logged, left active, retried next sweep


# The reference type of an operator's deduction allowed to take the balance below zero
# (``adjust(allow_negative=True)``): a debt ``verify_invariants`` accepts, like a payment refund's.
OVERDRAFT = "admin_overdraft"
