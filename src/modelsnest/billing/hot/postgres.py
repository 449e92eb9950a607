"""The PostgreSQL hot ledger: a raw asyncpg pool, one prepared statement (cached per
connection by asyncpg) per common-path operation, and holds and settles group-committed
(``_pg_group``): the requests of one moment share one round trip and one commit. See ``_pg_sql``."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from modelsnest.billing import holds, settlement
from modelsnest.billing.hot import _pg_sql as sql
from modelsnest.billing.hot._common import (
    Encoder,
    check_release_usage,
    checked_cost,
    delegate_hold,
    hold_request,
    insufficient,
    ledger_description,
    reply_values,
    usage_daily_values,
    usage_log_values,
)
from modelsnest.billing.hot._pg_group import Group
from modelsnest.billing.types import HoldResult, SettleResult, StoredReply, UsageRecord
from modelsnest.db.base import utcnow
from modelsnest.db.engine import SessionFactory

# A statement that failed on one of these was rolled back whole, so nothing was written:
# the reference implementation can safely redo the call and give the exact answer
# (a replay, NotFound for an unknown API key, Conflict for a reused request id, …).
_HAND_OVER = (asyncpg.IntegrityConstraintViolationError, asyncpg.TransactionRollbackError)
_SQLALCHEMY_ONLY = ("prepared_statement_name_func", "async_fallback")


def connect_args(async_database_url: str) -> tuple[str, dict[str, Any]]:
    """asyncpg's DSN and keyword arguments for the URL SQLAlchemy is given.

    ``ssl`` (what ``db.url.to_async_url`` makes of ``sslmode``) goes to asyncpg as its
    ``ssl`` argument; SQLAlchemy's ``prepared_statement_cache_size`` (0 behind PgBouncer in
    transaction mode) becomes asyncpg's ``statement_cache_size``; its other options are dropped."""
    url = make_url(async_database_url)
    query = {k: v for k, v in url.query.items() if k not in _SQLALCHEMY_ONLY}
    kwargs: dict[str, Any] = {}
    if "ssl" in query:
        kwargs["ssl"] = query.pop("ssl")
    if "prepared_statement_cache_size" in query:
        kwargs["statement_cache_size"] = int(str(query.pop("prepared_statement_cache_size")))
    dsn = url.set(drivername="postgresql", query=query).render_as_string(hide_password=False)
    return dsn, kwargs


async def _keep_session(connection: Any) -> None:
    """The pool's reset on release. asyncpg's default runs ``RESET ALL; UNLISTEN *; …``, one
    more round trip per call; these connections only ever run the single autocommit statements
    below (no SET, LISTEN, advisory lock, cursor or open transaction), so there is nothing to
    reset. A connection whose statement was cancelled is still cleaned up by asyncpg itself."""


class PostgresHotLedger:
    backend = "postgresql"

    def __init__(
        self, async_database_url: str, sessions: SessionFactory, encoder: Encoder, *, pool_size: int
    ) -> None:
        self._dsn, self._connect_kwargs = connect_args(async_database_url)
        self._sessions = sessions
        self._encoder = encoder
        # Holds get a pool of their own, a third of the connections (a hold is one short
        # statement; settles carry the usage rows), committing asynchronously.
        self._hold_pool_size = max(1, pool_size // 3)
        self._pool_size = max(1, pool_size - self._hold_pool_size)
        self.server_settings = {"application_name": "modelsnest-hot-ledger"}
        # A hold lost in a crash is harmless: nothing was charged and no answer was sent, and
        # its settlement (committed synchronously, after it in the WAL) makes it durable too.
        # So a hold does not wait for its own WAL flush.
        self.hold_server_settings = {**self.server_settings, "synchronous_commit": "off"}
        self._pool: Any = None
        self._hold_pool: Any = None
        self._holds = Group(lambda: self._get_hold_pool(), sql.HOLD, key="id", order=1, name="hold")
        self._settles = Group(lambda: self._get_pool(), sql.SETTLE, key="hold_id", order=1, name="settle")
        self._opening = asyncio.Lock()
        self._closed = False

    async def _get_pool(self) -> Any:
        """Settles and releases: synchronous commits."""
        if self._pool is None:
            async with self._opening:
                if self._closed:
                    raise RuntimeError("the hot ledger is closed")
                if self._pool is None:
                    self._pool = await self._create_pool(self._pool_size, self.server_settings)
        return self._pool

    async def _get_hold_pool(self) -> Any:
        if self._hold_pool is None:
            async with self._opening:
                if self._closed:
                    raise RuntimeError("the hot ledger is closed")
                if self._hold_pool is None:
                    self._hold_pool = await self._create_pool(self._hold_pool_size, self.hold_server_settings)
        return self._hold_pool

    async def _create_pool(self, size: int, server_settings: dict[str, str]) -> Any:
        return await asyncpg.create_pool(
            self._dsn,
            min_size=min(2, size),
            max_size=size,
            server_settings=server_settings,
            timeout=10,  # as db.engine: an unreachable server fails in seconds
            reset=_keep_session,
            **self._connect_kwargs,
        )

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
        try:
            created = await self._holds.fetchrow(
                request.hold_id,
                (
                    request.hold_id,
                    request.user_id,
                    request.amount,
                    request.api_token_id,
                    request.request_id,
                    request.key,
                    enc.json(request.meta),
                    enc.time(request.now),
                    enc.time(request.expires_at),
                ),
            )
        except _HAND_OVER:  # the key is taken (a replay), or the API key does not exist
            return await delegate_hold(self._sessions, request)
        if created is not None:
            return request.result()
        pool = await self._get_hold_pool()
        refused = await pool.fetchrow(sql.HOLD_REFUSED, request.key, request.user_id)
        if refused["taken"] or request.amount == 0:  # a replay, or a free call without an account
            return await delegate_hold(self._sessions, request)
        raise insufficient(request.amount, refused["available"])

    async def settle(
        self, *, hold_id: str, cost_nanos: int, usage: UsageRecord, reply: StoredReply | None = None
    ) -> SettleResult:
        cost = checked_cost(cost_nanos, usage, reply)
        now = utcnow()
        enc = self._encoder
        answer = () if reply is None else (reply.record_id, *reply_values(enc, reply))
        args = (
            hold_id,
            usage.user_id,
            cost,
            enc.time(now),
            ledger_description(usage),
            usage.api_token_id,
            *usage_log_values(enc, usage, cost=cost, now=now),
            *usage_daily_values(enc, usage, cost=cost, now=now),
            *answer,
        )
        try:
            if reply is None:
                row = await self._settles.fetchrow(hold_id, args)
            else:  # rare (idempotent requests): its own statement, alone
                row = await (await self._get_pool()).fetchrow(sql.SETTLE_WITH_REPLY, *args)
        except _HAND_OVER:
            row = None
        if row is None:
            return await settlement.settle(
                self._sessions, hold_id=hold_id, cost_nanos=cost, usage=usage, reply=reply
            )
        transaction_id = row["transaction_id"]
        return SettleResult(hold_id, transaction_id, cost, int(row["balance_nanos"]), replayed=False)

    async def release(self, *, hold_id: str, usage: UsageRecord | None = None) -> None:
        check_release_usage(usage)
        now = utcnow()
        enc = self._encoder
        pool = await self._get_pool()
        try:
            if usage is None:
                released = await pool.fetchval(sql.RELEASE, hold_id, enc.time(now))
            else:
                released = await pool.fetchval(
                    sql.RELEASE_WITH_USAGE,
                    hold_id,
                    enc.time(now),
                    usage.user_id,
                    *usage_log_values(enc, usage, cost=0, now=now),
                    *usage_daily_values(enc, usage, cost=0, now=now),
                )
        except _HAND_OVER:
            released = 0
        if not released:  # already released (a no-op), settled, unknown, or not this user's
            await holds.release(self._sessions, hold_id=hold_id, usage=usage)

    async def close(self) -> None:
        await self._holds.close()
        await self._settles.close()
        async with self._opening:
            self._closed = True
            pools = [p for p in (self._pool, self._hold_pool) if p is not None]
            self._pool = self._hold_pool = None
        for pool in pools:
            await pool.close()
