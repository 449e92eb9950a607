"""The interface the gateway calls, and the reference implementation behind it (used where
there is no hot backend, e.g. an in-memory SQLite database, and as the yardstick in tests)."""

from __future__ import annotations

from typing import Any, Protocol

from modelsnest.billing import holds, settlement
from modelsnest.billing.types import HoldResult, SettleResult, StoredReply, UsageRecord
from modelsnest.db.engine import SessionFactory


class HotLedger(Protocol):
    """``billing.hold/settle/release`` without the session argument: same effects in the
    database, same results, same errors."""

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
    ) -> HoldResult: ...

    async def settle(
        self, *, hold_id: str, cost_nanos: int, usage: UsageRecord, reply: StoredReply | None = None
    ) -> SettleResult: ...

    async def release(self, *, hold_id: str, usage: UsageRecord | None = None) -> None: ...

    async def close(self) -> None: ...


class ReferenceLedger:
    """``HotLedger`` over the reference functions (SQLAlchemy sessions)."""

    backend = "reference"

    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

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
        return await holds.hold(
            self._sessions,
            user_id=user_id,
            amount_nanos=amount_nanos,
            idempotency_key=idempotency_key,
            api_token_id=api_token_id,
            request_id=request_id,
            ttl_seconds=ttl_seconds,
            meta=meta,
        )

    async def settle(
        self, *, hold_id: str, cost_nanos: int, usage: UsageRecord, reply: StoredReply | None = None
    ) -> SettleResult:
        return await settlement.settle(
            self._sessions, hold_id=hold_id, cost_nanos=cost_nanos, usage=usage, reply=reply
        )

    async def release(self, *, hold_id: str, usage: UsageRecord | None = None) -> None:
        await holds.release(self._sessions, hold_id=hold_id, usage=usage)

    async def close(self) -> None:
        return None
