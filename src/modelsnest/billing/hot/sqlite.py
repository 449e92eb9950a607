"""The SQLite hot ledger: the reference's statements as plain ``sqlite3`` calls, run by the
group-committing writer thread (``_writer``). A job raises ``Delegate`` for anything but the
common path; its savepoint is rolled back and the reference implementation redoes the call."""

from __future__ import annotations

import sqlite3
from typing import Any, Final

from modelsnest.billing import _db, holds, settlement
from modelsnest.billing.hot._columns import (
    HOLD_COLUMNS,
    LEDGER_COLUMNS,
    REPLY_COLUMNS,
    USAGE_DAILY_COLUMNS,
    USAGE_LOG_COLUMNS,
    ordered,
)
from modelsnest.billing.hot._common import (
    Delegate,
    Encoder,
    HoldRequest,
    check_release_usage,
    checked_cost,
    delegate_hold,
    hold_request,
    insufficient,
    ledger_description,
    reply_values,
    settle_key,
    usage_daily_values,
    usage_log_values,
)
from modelsnest.billing.hot._writer import Writer
from modelsnest.billing.types import HoldResult, SettleResult, StoredReply, UsageRecord
from modelsnest.billing.usage import ROLLUP_KEY, ROLLUP_SUMMED
from modelsnest.db.base import utcnow
from modelsnest.db.engine import SessionFactory

_GATE: Final = (
    "UPDATE user_credits SET reserved_nanos = reserved_nanos + ?, updated_at = ? "
    "WHERE user_id = ? AND balance_nanos - reserved_nanos >= ?"
)
_HOLD_VALUES: Final = ordered(
    _db.holds,
    {
        "id": ":id",
        "user_id": ":user_id",
        "api_token_id": ":api_token_id",
        "request_id": ":request_id",
        "amount_nanos": ":amount_nanos",
        "status": "'active'",
        "idempotency_key": ":idempotency_key",
        "created_at": ":now",
        "expires_at": ":expires_at",
        "meta": ":meta",
    },
)
_INSERT_HOLD: Final = (
    f"INSERT INTO credit_holds ({', '.join(HOLD_COLUMNS)}) VALUES ({', '.join(_HOLD_VALUES)})"
)
_KEY_TAKEN: Final = "SELECT 1 FROM credit_holds WHERE idempotency_key = ?"
_AVAILABLE: Final = "SELECT balance_nanos - reserved_nanos FROM user_credits WHERE user_id = ?"
_SETTLE_HOLD: Final = (
    "UPDATE credit_holds SET status = 'settled', finished_at = ?, settled_nanos = ? "
    "WHERE id = ? AND status = 'active' AND user_id = ? AND amount_nanos >= ? RETURNING amount_nanos"
)
_DEBIT: Final = (
    "UPDATE user_credits SET balance_nanos = balance_nanos - ?, reserved_nanos = reserved_nanos - ?, "
    "updated_at = ? WHERE user_id = ? RETURNING balance_nanos"
)
_ENTRY_VALUES: Final = ordered(
    _db.ledger,
    {
        "user_id": ":user_id",
        "type": "'usage'",
        "amount_nanos": ":amount_nanos",
        "balance_after_nanos": ":balance_after_nanos",
        "reference_type": "'request'",
        "reference_id": ":reference_id",
        "idempotency_key": ":idempotency_key",
        "description": ":description",
        "created_at": ":now",
    },
)
_INSERT_ENTRY: Final = (
    f"INSERT INTO credit_transactions ({', '.join(LEDGER_COLUMNS)}) VALUES ({', '.join(_ENTRY_VALUES)})"
)
_LINK_ENTRY: Final = "UPDATE credit_holds SET transaction_id = ? WHERE id = ?"
_SPENT: Final = "UPDATE api_tokens SET spent_nanos = spent_nanos + ? WHERE id = ?"
# The reply (REPLY_COLUMNS), then the record id and the API key: only a pending record of that key.
_STORE_REPLY: Final = (
    f"UPDATE idempotency_records SET {', '.join(f'{name} = ?' for name in REPLY_COLUMNS)} "
    "WHERE id = ? AND status = 'pending' AND api_token_id = ?"
)
_RELEASE_HOLD: Final = (
    "UPDATE credit_holds SET status = 'released', finished_at = ? "
    "WHERE id = ? AND status = 'active' RETURNING user_id, amount_nanos"
)
_UNRESERVE: Final = (
    "UPDATE user_credits SET reserved_nanos = reserved_nanos - ?, updated_at = ? WHERE user_id = ?"
)
_INSERT_USAGE: Final = (
    f"INSERT INTO usage_logs ({', '.join(USAGE_LOG_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in USAGE_LOG_COLUMNS)})"
)
_ADD_TO_DAY: Final = (
    f"INSERT INTO usage_daily ({', '.join(USAGE_DAILY_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in USAGE_DAILY_COLUMNS)}) "
    f"ON CONFLICT ({', '.join(ROLLUP_KEY)}) DO UPDATE SET "
    + ", ".join(f"{name} = usage_daily.{name} + excluded.{name}" for name in ROLLUP_SUMMED)
)


def _write_usage(connection: sqlite3.Connection, log_row: tuple[Any, ...], day_row: tuple[Any, ...]) -> None:
    try:
        connection.execute(_INSERT_USAGE, log_row)
    except sqlite3.IntegrityError as exc:  # a reused request id or an unknown API key
        raise Delegate from exc
    connection.execute(_ADD_TO_DAY, day_row)


class SqliteHotLedger:
    backend = "sqlite"

    def __init__(self, path: str, sessions: SessionFactory, encoder: Encoder) -> None:
        self._sessions = sessions
        self._encoder = encoder
        self._writer = Writer(path)

    @property
    def writer(self) -> Writer:
        return self._writer

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
        request = hold_request(
            user_id=user_id,
            amount_nanos=amount_nanos,
            idempotency_key=idempotency_key,
            api_token_id=api_token_id,
            request_id=request_id,
            ttl_seconds=ttl_seconds,
            meta=meta,
        )
        enc = self._encoder
        now = enc.time(request.now)
        row = {
            "id": request.hold_id,
            "user_id": request.user_id,
            "api_token_id": request.api_token_id,
            "request_id": request.request_id,
            "amount_nanos": request.amount,
            "idempotency_key": request.key,
            "now": now,
            "expires_at": enc.time(request.expires_at),
            "meta": enc.json(request.meta),
        }

        def job(connection: sqlite3.Connection) -> None:
            _hold(connection, request, now, row)

        try:
            await self._writer.run(job)
        except Delegate:
            return await delegate_hold(self._sessions, request)
        return request.result()

    async def settle(
        self, *, hold_id: str, cost_nanos: int, usage: UsageRecord, reply: StoredReply | None = None
    ) -> SettleResult:
        cost = checked_cost(cost_nanos, usage, reply)
        now = utcnow()
        enc = self._encoder
        at = enc.time(now)
        log_row = usage_log_values(enc, usage, cost=cost, now=now)
        day_row = usage_daily_values(enc, usage, cost=cost, now=now)
        entry = {
            "user_id": usage.user_id,
            "amount_nanos": -cost,
            "reference_id": usage.request_id,
            "idempotency_key": settle_key(hold_id),
            "description": ledger_description(usage),
            "now": at,
        }
        answer = None
        if reply is not None:
            answer = (*reply_values(enc, reply), reply.record_id, usage.api_token_id)

        def job(connection: sqlite3.Connection) -> tuple[int | None, int]:
            held = connection.execute(_SETTLE_HOLD, (at, cost, hold_id, usage.user_id, cost)).fetchall()
            if not held:  # not active, not this user's, or smaller than the cost
                raise Delegate
            (balance,) = connection.execute(_DEBIT, (cost, held[0][0], at, usage.user_id)).fetchone()
            transaction_id: int | None = None
            if cost > 0:
                transaction_id = connection.execute(
                    _INSERT_ENTRY, {**entry, "balance_after_nanos": balance}
                ).lastrowid
                connection.execute(_LINK_ENTRY, (transaction_id, hold_id))
            if answer is not None:
                connection.execute(_STORE_REPLY, answer)
            _write_usage(connection, log_row, day_row)
            if cost > 0 and usage.api_token_id is not None:
                connection.execute(_SPENT, (cost, usage.api_token_id))
            return transaction_id, int(balance)

        try:
            transaction_id, balance = await self._writer.run(job)
        except Delegate:
            return await settlement.settle(
                self._sessions, hold_id=hold_id, cost_nanos=cost, usage=usage, reply=reply
            )
        return SettleResult(hold_id, transaction_id, cost, balance, replayed=False)

    async def release(self, *, hold_id: str, usage: UsageRecord | None = None) -> None:
        check_release_usage(usage)
        now = utcnow()
        enc = self._encoder
        at = enc.time(now)
        rows = None
        if usage is not None:
            rows = (
                usage_log_values(enc, usage, cost=0, now=now),
                usage_daily_values(enc, usage, cost=0, now=now),
            )

        def job(connection: sqlite3.Connection) -> None:
            held = connection.execute(_RELEASE_HOLD, (at, hold_id)).fetchall()
            if not held or (usage is not None and usage.user_id != held[0][0]):
                raise Delegate  # already released (a no-op), settled, unknown, or not this user's
            connection.execute(_UNRESERVE, (held[0][1], at, held[0][0]))
            if rows is not None:
                _write_usage(connection, *rows)

        try:
            await self._writer.run(job)
        except Delegate:
            await holds.release(self._sessions, hold_id=hold_id, usage=usage)

    async def close(self) -> None:
        await self._writer.close()


def _hold(connection: sqlite3.Connection, request: HoldRequest, now: Any, row: dict[str, Any]) -> None:
    gate = connection.execute(_GATE, (request.amount, now, request.user_id, request.amount))
    if gate.rowcount != 1:
        taken = connection.execute(_KEY_TAKEN, (request.key,)).fetchone()
        if taken is not None or request.amount == 0:  # a replay, or a free call without an account
            raise Delegate
        available = connection.execute(_AVAILABLE, (request.user_id,)).fetchone()
        raise insufficient(request.amount, None if available is None else available[0])
    try:
        connection.execute(_INSERT_HOLD, row)
    except sqlite3.IntegrityError as exc:  # the key is taken (a replay), or the API key does not exist
        raise Delegate from exc
