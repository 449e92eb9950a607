"""What the ledger hands back and takes in. Plain dataclasses: no ORM objects leave the package."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

USAGE_STATUSES: Final = frozenset({"success", "error", "cancelled", "partial"})


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
    the ledger writes the cost it actually charged)."""

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
