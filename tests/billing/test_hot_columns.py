"""Drift guard: the hot ledger's statements write the same columns as the tables have and as
the reference functions write, so that a new column (a usage field with a default, say) cannot
be dropped silently by the fast path while the row-by-row comparisons still pass.

The statements are parsed (sqlglot), not read from the lists they were built from: what is
checked is the SQL each backend actually runs — every statement of both backends for the
table check, and, per operation, what the hot ledger executes against what the reference
executes (captured from the engine) on both databases."""

from __future__ import annotations

import contextlib
import dataclasses
import sqlite3
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from types import ModuleType
from typing import Any

import pytest
import sqlglot
from sqlalchemy import event, select
from sqlglot import exp

from modelsnest import billing
from modelsnest.billing import _db
from modelsnest.billing.hot import HotLedger, ReferenceLedger, _pg_sql, create_hot_ledger
from modelsnest.billing.hot import sqlite as sqlite_backend
from modelsnest.billing.hot._columns import LEFT_OUT
from modelsnest.db.models import UsageDaily, UsageLog
from modelsnest.runtime import Runtime
from tests.billing.helpers import USD, MakeApiToken, MakeUser, claim_record

Writes = dict[tuple[str, str], set[str]]  # (table, insert | update | upsert) -> columns written
BACKENDS: dict[str, tuple[ModuleType, str]] = {
    "postgresql": (_pg_sql, "postgres"),
    "sqlite": (sqlite_backend, "sqlite"),
}
TABLES = {
    t.name: t for t in (_db.usage_logs, _db.usage_daily, _db.ledger, _db.holds, _db.credits, _db.api_tokens)
}


def writes_of(sql: str, dialect: str) -> Writes:
    found: Writes = {}
    for node in sqlglot.parse_one(sql, read=dialect).find_all(exp.Insert, exp.Update):
        if isinstance(node, exp.Insert):
            target = node.this
            assert isinstance(target, exp.Schema), f"an INSERT without a column list: {sql}"
            columns = [c.name for c in target.expressions]
            assert len(columns) == len(set(columns)), sql
            found.setdefault((target.this.name, "insert"), set()).update(columns)
            conflict = node.args.get("conflict")
            if conflict is not None and conflict.expressions:
                upsert = found.setdefault((target.this.name, "upsert"), set())
                upsert.update(e.this.name for e in conflict.expressions)
        else:
            found.setdefault((node.this.name, "update"), set()).update(e.this.name for e in node.expressions)
    return found


def merge(into: Writes, more: Writes) -> Writes:
    for key, columns in more.items():
        into.setdefault(key, set()).update(columns)
    return into


def statements(module: ModuleType) -> list[str]:
    return [
        value
        for name, value in vars(module).items()
        if name.isupper() or name.startswith("_") and name[1:].isupper()
        if isinstance(value, str)
        and value.lstrip().upper().startswith(("WITH", "INSERT", "UPDATE", "SELECT"))
    ]


@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_every_insert_writes_every_column_not_left_to_the_database_on_purpose(backend: str) -> None:
    module, dialect = BACKENDS[backend]
    inserts: Writes = {}
    for sql in statements(module):
        merge(inserts, {k: v for k, v in writes_of(sql, dialect).items() if k[1] == "insert"})
    assert {table for table, _ in inserts} == {
        "usage_logs",
        "usage_daily",
        "credit_transactions",
        "credit_holds",
    }
    for (table, _), columns in inserts.items():
        expected = {c.name for c in TABLES[table].c} - set(LEFT_OUT[table])
        assert columns == expected, f"{backend} INSERT INTO {table}: {columns ^ expected} differ"


def test_what_is_left_to_the_database_is_real_and_explained() -> None:
    for table, columns in LEFT_OUT.items():
        for name, reason in columns.items():
            assert name in TABLES[table].c, f"{table}.{name} is not a column"
            column = TABLES[table].c[name]
            assert column.primary_key or column.nullable or column.server_default is not None, (
                f"{table}.{name} is left out but the database cannot fill it in"
            )
            assert len(reason) > 20, f"say why {table}.{name} is left out"


def test_every_usage_record_field_is_a_usage_logs_column() -> None:
    names = {f.name for f in dataclasses.fields(billing.UsageRecord)}
    assert names <= {c.name for c in _db.usage_logs.c}
    assert {c.name for c in _db.usage_logs.c} - names == {"id", "cost_nanos", "created_at"}


# --- per operation: what the hot ledger runs against what the reference runs -------------------


@pytest.fixture
async def hot(runtime: Runtime) -> AsyncIterator[HotLedger]:
    ledger = create_hot_ledger(runtime.settings.async_database_url, runtime.sessions, pool_size=2)
    yield ledger
    await ledger.close()


class _RecordingConnection:
    def __init__(self, connection: sqlite3.Connection, log: list[str]) -> None:
        self._connection, self._log = connection, log

    def execute(self, sql: str, parameters: Any = ()) -> sqlite3.Cursor:
        self._log.append(sql)
        return self._connection.execute(sql, parameters)


class _RecordingPool:
    def __init__(self, pool: Any, log: list[str]) -> None:
        self._pool, self._log = pool, log

    async def fetchrow(self, sql: str, *args: Any) -> Any:
        self._log.append(sql)
        return await self._pool.fetchrow(sql, *args)

    async def fetchval(self, sql: str, *args: Any) -> Any:
        self._log.append(sql)
        return await self._pool.fetchval(sql, *args)

    @contextlib.asynccontextmanager
    async def acquire(self) -> AsyncIterator[_RecordingPool]:
        """A group commit's connection (``_pg_group``): the same recording."""
        async with self._pool.acquire() as connection:
            yield _RecordingPool(connection, self._log)

    async def fetchmany(self, sql: str, args: Any) -> Any:
        self._log.append(sql)
        return await self._pool.fetchmany(sql, args)


def record_hot(ledger: HotLedger, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The SQL the hot ledger sends to its own connections (not through SQLAlchemy)."""
    log: list[str] = []
    if isinstance(ledger, sqlite_backend.SqliteHotLedger):
        writer, run = ledger.writer, ledger.writer.run

        async def recorded(job: Callable[[sqlite3.Connection], Any]) -> Any:
            return await run(lambda connection: job(_RecordingConnection(connection, log)))  # type: ignore[arg-type]

        monkeypatch.setattr(writer, "run", recorded)
    else:
        for getter in ("_get_pool", "_get_hold_pool"):
            get_pool = getattr(ledger, getter)

            async def recording_pool(get_pool: Any = get_pool) -> _RecordingPool:
                return _RecordingPool(await get_pool(), log)

            monkeypatch.setattr(ledger, getter, recording_pool)
    return log


def record_engine(runtime: Runtime) -> list[str]:
    """The SQL SQLAlchemy sends (the reference, and the hot ledger only when it delegates)."""
    log: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        log.append(statement)

    event.listen(runtime.engine.sync_engine, "before_cursor_execute", before)
    return log


Operation = Callable[[HotLedger, int, int], Awaitable[object]]


def _usage(user: int, token: int | None) -> billing.UsageRecord:
    return billing.UsageRecord(f"cols-{uuid.uuid4().hex[:12]}", user, token, "chat.completions", "m")


async def _hold(ledger: HotLedger, user: int, token: int) -> str:
    held = await ledger.hold(
        user_id=user, amount_nanos=5_000, idempotency_key=uuid.uuid4().hex, api_token_id=token
    )
    return held.hold_id


OPERATIONS = ("hold", "settle", "settle with reply", "release with usage", "release")


async def _operation(
    name: str, ledger: HotLedger, runtime: Runtime, user: int, token: int
) -> Callable[[], Awaitable[object]]:
    """The call to record (what it needs beforehand is done now, unrecorded)."""
    if name == "hold":
        return lambda: _hold(ledger, user, token)
    hold_id = await _hold(ledger, user, token)
    if name == "settle":
        return lambda: ledger.settle(hold_id=hold_id, cost_nanos=4_000, usage=_usage(user, token))
    if name == "settle with reply":
        reply = billing.StoredReply(
            await claim_record(runtime.sessions, token), 200, b"{}", "application/json", {"a": "b"}
        )
        return lambda: ledger.settle(
            hold_id=hold_id, cost_nanos=4_000, usage=_usage(user, token), reply=reply
        )
    if name == "release with usage":
        return lambda: ledger.release(hold_id=hold_id, usage=_usage(user, token))
    return lambda: ledger.release(hold_id=hold_id)


@pytest.mark.parametrize("operation", OPERATIONS)
async def test_each_hot_operation_writes_the_columns_the_reference_writes(
    runtime: Runtime,
    hot: HotLedger,
    make_user: MakeUser,
    make_api_token: MakeApiToken,
    monkeypatch: pytest.MonkeyPatch,
    operation: str,
) -> None:
    dialect = BACKENDS[runtime.engine.dialect.name][1]
    user = await make_user(runtime.sessions)
    token = await make_api_token(runtime.sessions, user)
    await billing.top_up(runtime.sessions, user_id=user, amount_nanos=USD, idempotency_key=uuid.uuid4().hex)

    hot_call = await _operation(operation, hot, runtime, user, token)
    reference_call = await _operation(operation, ReferenceLedger(runtime.sessions), runtime, user, token)
    hot_sql, engine_sql = record_hot(hot, monkeypatch), record_engine(runtime)
    await hot_call()
    assert engine_sql == [], "the hot ledger delegated: this is meant to be its common path"
    await reference_call()

    hot_writes: Writes = {}
    for sql in hot_sql:
        merge(hot_writes, writes_of(sql, dialect))
    reference_writes: Writes = {}
    for sql in engine_sql:
        merge(reference_writes, writes_of(sql, dialect))
    assert hot_writes == reference_writes
    assert hot_writes  # it wrote something, so the comparison compared something


# --- every UsageRecord field reaches its column through both paths ------------------------------


def every_field_set(user: int, token: int, request_id: str) -> billing.UsageRecord:
    """A record whose every field differs from its default (a new field must be added here)."""
    values: dict[str, Any] = {
        "request_id": request_id,
        "user_id": user,
        "api_token_id": token,
        "endpoint": "audio.speech",
        "model_slug": "every-field",
        "provider_name": "prov",
        "upstream_model": "up-1",
        "prompt_tokens": 3,
        "completion_tokens": 5,
        "units": 7,
        "unit_type": "character",
        "latency_ms": 11,
        "ttft_ms": 13,
        "status": "partial",
        "http_status": 206,
        "error_code": "SOME_CODE",
        "error_message": "some message",
        "cancelled": True,
        "streamed": True,
        "meta": {"k": ["v", 1]},
        "origin": "store",
        "cached_tokens": 2,
        "cache_write_tokens": 1,
        "reasoning_tokens": 4,
        "audio_input_tokens": 1,
        "audio_output_tokens": 1,
        "price_version_id": 17,
        "cost_breakdown": [{"dimension": "input", "quantity": 3, "unit_price_nanos": 5, "per": 1000}],
        "upstream_cost_nanos": 999,
        "upstream_price_version_id": 19,
    }
    defaults = {f.name: f.default for f in dataclasses.fields(billing.UsageRecord)}
    assert set(values) == set(defaults), "give every UsageRecord field a value here"
    assert all(values[name] != default for name, default in defaults.items())
    return billing.UsageRecord(**values)


@pytest.mark.parametrize("path", ["hot", "reference"])
@pytest.mark.parametrize("finish", ["settle", "release"])
async def test_every_usage_record_field_is_stored(
    runtime: Runtime,
    hot: HotLedger,
    make_user: MakeUser,
    make_api_token: MakeApiToken,
    path: str,
    finish: str,
) -> None:
    ledger = hot if path == "hot" else ReferenceLedger(runtime.sessions)
    user = await make_user(runtime.sessions)
    token = await make_api_token(runtime.sessions, user)
    await billing.top_up(runtime.sessions, user_id=user, amount_nanos=USD, idempotency_key=uuid.uuid4().hex)
    usage = every_field_set(user, token, f"every-{uuid.uuid4().hex[:8]}")
    hold_id = await _hold(ledger, user, token)
    if finish == "settle":
        await ledger.settle(hold_id=hold_id, cost_nanos=1_234, usage=usage)
    else:
        await ledger.release(hold_id=hold_id, usage=usage)

    async with runtime.sessions() as session:
        row = (
            await session.execute(select(UsageLog).where(UsageLog.request_id == usage.request_id))
        ).scalar_one()
        day = (await session.execute(select(UsageDaily).where(UsageDaily.user_id == user))).scalar_one()
    for field in dataclasses.fields(billing.UsageRecord):
        assert getattr(row, field.name) == getattr(usage, field.name), field.name
    assert row.cost_nanos == (1_234 if finish == "settle" else 0)
    # The rollup sums the details and the upstream cost, under the provider that served it.
    assert (day.model_slug, day.provider_name, day.api_token_id) == ("every-field", "prov", token)
    assert (day.cached_tokens, day.cache_write_tokens, day.reasoning_tokens) == (2, 1, 4)
    assert (day.audio_input_tokens, day.audio_output_tokens) == (1, 1)
    assert (day.upstream_cost_nanos, day.upstream_uncosted_nanos) == (999, 0)
