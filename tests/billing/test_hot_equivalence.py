"""The hot ledger writes exactly what the reference functions write.

One script of ledger calls (top-up, holds, settles below / at / above the hold and at zero, a
shortfall, settles that store an idempotent answer (and a replay that must keep it), a keyless
playground call, releases with and without usage, replays, every refusal) runs through the hot
ledger for one set of users and through the reference for another; the answers, the errors and
every column of every row they touched must agree (ids and timestamps aside, which are checked
for shape instead). Both databases; rows are read back through the ORM too."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Table, Text, cast, select

from modelsnest import billing
from modelsnest.billing import _db, holds, settlement
from modelsnest.billing.hot import HotLedger, ReferenceLedger, create_hot_ledger
from modelsnest.db.engine import SessionFactory
from modelsnest.db.models import CreditHold, UsageDaily, UsageLog
from modelsnest.errors import ModelsnestError
from modelsnest.runtime import Runtime
from tests.billing.helpers import USD, MakeApiToken, MakeUser, claim_record

STARTING = 3 * USD + 7  # odd on purpose
META = {"model": "test-model", "endpoint": "chat", "note": "ünïcode ✓", "nested": {"n": [1, 2.5, None]}}


@pytest.fixture
async def hot(runtime: Runtime) -> AsyncIterator[HotLedger]:
    ledger = create_hot_ledger(runtime.settings.async_database_url, runtime.sessions, pool_size=4)
    yield ledger
    await ledger.close()


@dataclass
class Actor:
    """One side of the comparison: a ledger, its users and key, and how to name its ids."""

    tag: str
    ledger: HotLedger
    user: int
    fresh_user: int  # no account yet
    token: int
    holds: dict[str, str] = field(default_factory=dict)  # step → hold id
    transcript: list[Any] = field(default_factory=list)

    def rid(self, step: str) -> str:
        return f"{self.tag}-{step}"

    def usage(
        self, step: str, *, token: bool = True, user: int | None = None, **fields: Any
    ) -> billing.UsageRecord:
        values: dict[str, Any] = {
            "request_id": self.rid(step),
            "user_id": self.user if user is None else user,
            "api_token_id": self.token if token else None,
            "endpoint": "chat.completions",
            "model_slug": "test-model",
            "provider_name": "simulator",
            "upstream_model": "sim-1",
            "prompt_tokens": 11,
            "completion_tokens": 23,
            "cached_tokens": 4,
            "reasoning_tokens": 9,
            "price_version_id": 3,
            "cost_breakdown": [{"dimension": "cached_input", "quantity": 4, "exact_nanos": "1/3"}],
            "upstream_cost_nanos": 77,
            "upstream_price_version_id": 5,
            "latency_ms": 120,
            "ttft_ms": 40,
            "http_status": 200,
        }
        values.update(fields)
        return billing.UsageRecord(**values)

    def normalize(self, value: Any) -> Any:
        if isinstance(value, str):
            for step, hold_id in self.holds.items():
                value = value.replace(hold_id, f"<hold {step}>")
            value = re.sub(rf"\buser {self.user}\b", "user <main>", value)
            value = re.sub(rf"\buser {self.fresh_user}\b", "user <fresh>", value)
            return value.replace(f"{self.tag}-", "X-").replace(f"{self.tag}:", "X:")
        if isinstance(value, dict):
            return {k: self.normalize(v) for k, v in value.items()}
        return value

    async def call(self, step: str, operation: str, **kwargs: Any) -> Any:
        """Run one ledger call and record a normalized account of what came back."""
        try:
            result = await getattr(self.ledger, operation)(**kwargs)
        except ModelsnestError as exc:
            self.transcript.append(
                (step, type(exc).__name__, exc.code, exc.param, self.normalize(exc.message))
            )
            return None
        if isinstance(result, billing.HoldResult):
            if not result.replayed:
                self.holds[step] = result.hold_id
            assert result.user_id == kwargs["user_id"]
            left = result.expires_at - datetime.now(UTC)
            assert result.expires_at.tzinfo is not None and left <= timedelta(
                seconds=kwargs.get("ttl_seconds", 900)
            )
            entry: Any = ("hold", self.normalize(result.hold_id), result.amount_nanos, result.replayed)
        elif isinstance(result, billing.SettleResult):
            entry = (
                "settle",
                self.normalize(result.hold_id),
                result.transaction_id is None,
                result.charged_nanos,
                result.balance_after_nanos,
                result.replayed,
            )
        else:
            entry = result
        self.transcript.append((step, operation, entry))
        return result


async def script(a: Actor, sessions: SessionFactory) -> None:
    await billing.top_up(sessions, user_id=a.user, amount_nanos=STARTING, idempotency_key=f"{a.tag}:topup")
    u, tok = a.user, a.token

    async def hold(step: str, amount: int, *, key: str | None = None, token: bool = True, **kw: Any) -> str:
        await a.call(
            step,
            "hold",
            user_id=kw.pop("user_id", u),
            amount_nanos=amount,
            idempotency_key=key or f"{a.tag}:{step}",
            api_token_id=kw.pop("api_token_id", tok if token else None),
            request_id=a.rid(step),
            **kw,
        )
        return a.holds.get(step, f"hold_missing_{step}")

    # The common paths (hot).
    h = await hold("below", 200_000, meta=META, ttl_seconds=600)
    await a.call(
        "below", "settle", hold_id=h, cost_nanos=150_001, usage=a.usage("below", meta={"x": [1, "ü"]})
    )
    h = await hold("at", 200_000, meta=META)
    await a.call(
        "at", "settle", hold_id=h, cost_nanos=200_000, usage=a.usage("at", units=3, unit_type="image")
    )
    h = await hold("zero", 200_000, token=False)
    zero = a.usage(
        "zero",
        token=False,
        status="cancelled",
        cancelled=True,
        streamed=True,
        completion_tokens=0,
        origin="playground",
    )
    await a.call("zero", "settle", hold_id=h, cost_nanos=0, usage=zero)
    h = await hold("released", 200_000)
    failed = a.usage(
        "released", status="error", http_status=502, error_code="UPSTREAM_ERROR", error_message="boom"
    )
    await a.call("released", "release", hold_id=h, usage=failed)
    h = await hold("bare", 50_000, token=False)
    await a.call("bare", "release", hold_id=h)
    h = await hold("free", 0)
    await a.call("free", "settle", hold_id=h, cost_nanos=0, usage=a.usage("free"))
    for i in range(3):  # the day's rollup row adds up
        h = await hold(f"more{i}", 1_000 * (i + 1), meta=None)
        await a.call(f"more{i}", "settle", hold_id=h, cost_nanos=999 * (i + 1), usage=a.usage(f"more{i}"))

    answered, answered_above = await claim_record(sessions, tok), await claim_record(sessions, tok)
    h = await hold("answered", 300_000)
    reply = billing.StoredReply(answered, 200, b"\x00audio\xff", "audio/mpeg", {"x-provider": "sim"})
    usage = a.usage("answered", origin="store")
    await a.call("answered", "settle", hold_id=h, cost_nanos=250_000, usage=usage, reply=reply)

    # Rare paths (the reference decides, through the hot ledger).
    other = billing.StoredReply(answered, 500, b"other", "text/plain", {})
    await a.call("answered", "settle", hold_id=h, cost_nanos=1, usage=usage, reply=other)  # replay: kept
    h = await hold("answered-above", 1_000)
    reply = billing.StoredReply(answered_above, 200, b"{}", "application/json", {})
    await a.call(
        "answered-above", "settle", hold_id=h, cost_nanos=2_000, usage=a.usage("above2"), reply=reply
    )
    h = await hold("above", 200_000)
    await a.call("above", "settle", hold_id=h, cost_nanos=260_000, usage=a.usage("above"))
    await hold("below", 200_000, meta=META, ttl_seconds=600)  # replay of a settled hold's key
    await a.call("replay", "settle", hold_id=a.holds["below"], cost_nanos=150_001, usage=a.usage("below"))
    await hold("reuse", 100_000, key=f"{a.tag}:below")  # same key, other amount: Conflict
    await a.call("again", "release", hold_id=a.holds["bare"])  # released twice: a no-op
    await a.call("settled", "release", hold_id=a.holds["at"])  # Conflict
    await a.call(
        "gone", "settle", hold_id=a.holds["released"], cost_nanos=1, usage=a.usage("gone")
    )  # Conflict
    await a.call("unknown", "settle", hold_id="hold_nope", cost_nanos=1, usage=a.usage("unknown"))
    await a.call("unknown", "release", hold_id="hold_nope")
    await hold("too-much", 10 * USD)  # 402
    await hold("no-key", 1_000, api_token_id=10**9)  # NotFound (foreign key)
    await hold("bad-ttl", 1_000, ttl_seconds=10**9)  # InvalidRequest
    await a.call("bad-amount", "hold", user_id=u, amount_nanos=1.5, idempotency_key=f"{a.tag}:x")
    await hold("fresh-paid", 1, user_id=a.fresh_user, token=False)  # no account: 402 with $0.00
    await hold("fresh-free", 0, user_id=a.fresh_user, token=False)  # no account, free: creates it
    h = await hold("owner", 100_000)
    other = a.usage("owner", user=a.fresh_user)
    await a.call("owner", "settle", hold_id=h, cost_nanos=1, usage=other)  # InvalidRequest
    await a.call("owner", "release", hold_id=h, usage=other)  # InvalidRequest
    await a.call(
        "dup", "settle", hold_id=h, cost_nanos=5, usage=a.usage("below")
    )  # request id used: Conflict
    await a.call("owner", "settle", hold_id=h, cost_nanos=5, usage=a.usage("owner"))
    h = await hold("dup-release", 1_000)
    await a.call("dup-release", "release", hold_id=h, usage=a.usage("at"))  # Conflict, hold stays active
    await a.call("dup-release", "release", hold_id=h)
    h = await hold("shortfall", 100_000)
    await a.call("shortfall", "settle", hold_id=h, cost_nanos=10 * USD, usage=a.usage("shortfall"))
    await hold("after", 1)  # nothing left: 402


async def rows(sessions: SessionFactory, table: Table, where: Any, order: Any) -> list[dict[str, Any]]:
    async with sessions() as session:
        result = await session.execute(select(table).where(where).order_by(*order))
        return [dict(r._mapping) for r in result]


async def raw_text(
    sessions: SessionFactory, table: Table, where: Any, *columns: str
) -> list[tuple[Any, ...]]:
    """Columns as the database stores them (SQLite: the text itself), oldest row first."""
    order = table.c.created_at if "created_at" in table.c else table.c.day
    async with sessions() as session:
        statement = select(*(cast(table.c[c], Text) for c in columns)).where(where).order_by(order)
        return [tuple(r) for r in await session.execute(statement)]


def shape(text: str | None) -> str | None:
    """The form of a stored value. SQLite keeps SQLAlchemy's text ('2026-01-02 03:04:05.000006',
    always six decimals); PostgreSQL stores binary and prints fractions without trailing zeros."""
    if text is None:
        return None
    if text.endswith("+00"):
        text = re.sub(r"\.\d+", ".f", text)
    return re.sub(r"\d", "0", text)


async def snapshot(a: Actor, sessions: SessionFactory) -> dict[str, Any]:
    """Every row the script touched, ids and timestamps replaced by what they mean."""
    c, tx, h, ul, ud, t, i = (
        _db.credits,
        _db.ledger,
        _db.holds,
        _db.usage_logs,
        _db.usage_daily,
        _db.api_tokens,
        _db.idempotency,
    )
    ledger_rows = await rows(sessions, tx, tx.c.user_id == a.user, [tx.c.id])
    position = {r["id"]: i for i, r in enumerate(ledger_rows)}
    step_of = {hold_id: step for step, hold_id in a.holds.items()}

    def clean(row: dict[str, Any], *drop: str) -> dict[str, Any]:
        out = {}
        for key, value in row.items():
            if key in drop:
                continue
            if key == "api_token_id" and value is not None:
                value = "token" if value == a.token else value
            out[key] = a.normalize(value)
        return out

    hold_rows = {}
    for r in await rows(sessions, h, h.c.user_id.in_([a.user, a.fresh_user]), [h.c.id]):
        assert (r["expires_at"] - r["created_at"]).total_seconds() in (600, 900)
        assert (r["finished_at"] is None) == (r["status"] == "active")
        hold_rows[step_of[r["id"]]] = {
            **clean(r, "id", "user_id", "created_at", "expires_at", "finished_at", "transaction_id"),
            "user": "main" if r["user_id"] == a.user else "fresh",
            "ttl": (r["expires_at"] - r["created_at"]).total_seconds(),
            "ledger_row": None if r["transaction_id"] is None else position[r["transaction_id"]],
        }
    for r in ledger_rows:
        assert r["user_id"] == a.user
    return {
        "credits": [
            clean(r, "user_id", "updated_at")
            for r in await rows(sessions, c, c.c.user_id.in_([a.user, a.fresh_user]), [c.c.user_id])
        ],
        "ledger": [clean(r, "id", "user_id", "created_at") for r in ledger_rows],
        "holds": hold_rows,
        "usage_logs": [
            clean(r, "id", "user_id", "created_at")
            for r in await rows(sessions, ul, ul.c.user_id == a.user, [ul.c.id])
        ],
        "usage_daily": [
            clean(r, "user_id", "day")
            for r in await rows(sessions, ud, ud.c.user_id == a.user, [ud.c.api_token_id, ud.c.model_slug])
        ],
        "spent": [r["spent_nanos"] for r in await rows(sessions, t, t.c.id == a.token, [t.c.id])],
        "answers": [
            clean(r, "id", "api_token_id", "key", "created_at", "expires_at")
            for r in await rows(sessions, i, i.c.api_token_id == a.token, [i.c.id])
        ],
        "raw_holds": [
            tuple(shape(v) for v in row)
            for row in await raw_text(
                sessions, h, h.c.user_id == a.user, "created_at", "expires_at", "finished_at"
            )
        ]
        + [row[0] for row in await raw_text(sessions, h, h.c.user_id == a.user, "meta", "created_at")],
        "raw_usage": [
            (shape(row[0]), row[1])
            for row in await raw_text(sessions, ul, ul.c.user_id == a.user, "created_at", "meta")
        ],
        "raw_daily": [shape(row[0]) for row in await raw_text(sessions, ud, ud.c.user_id == a.user, "day")],
    }


def count_delegations(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Count the calls the hot ledger hands to the reference."""
    counts = {"hold": 0, "settle": 0, "release": 0}
    for module, name in ((holds, "hold"), (settlement, "settle"), (holds, "release")):
        original = getattr(module, name)

        async def counted(*args: Any, _original: Any = original, _name: str = name, **kwargs: Any) -> Any:
            counts[_name] += 1
            return await _original(*args, **kwargs)

        monkeypatch.setattr(module, name, counted)
    return counts


async def test_hot_ledger_writes_what_the_reference_writes(
    runtime: Runtime,
    hot: HotLedger,
    make_user: MakeUser,
    make_api_token: MakeApiToken,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sessions = runtime.sessions
    sides = []
    for tag, ledger in (
        (f"H{uuid.uuid4().hex[:6]}", hot),
        (f"R{uuid.uuid4().hex[:6]}", ReferenceLedger(sessions)),
    ):
        user = await make_user(sessions)
        sides.append(
            Actor(tag, ledger, user, await make_user(sessions), await make_api_token(sessions, user))
        )
    hot_side, reference_side = sides

    with monkeypatch.context() as patch:
        delegated = count_delegations(patch)
        await script(hot_side, sessions)
    await script(reference_side, sessions)

    assert hot_side.transcript == reference_side.transcript
    hot_rows, reference_rows = await snapshot(hot_side, sessions), await snapshot(reference_side, sessions)
    for name in hot_rows:
        assert hot_rows[name] == reference_rows[name], name
    # The common paths really ran hot: only the rare calls of the script reached the reference
    # (replays, refusals with a cause other than credits, costs above the hold, collisions).
    assert delegated == {"hold": 4, "settle": 9, "release": 5}, delegated
    assert [r["status"] for r in hot_rows["answers"]] == ["completed", "completed"]
    for a in sides:
        assert await billing.verify_invariants(sessions, a.user) == []
        assert await billing.verify_invariants(sessions, a.fresh_user) == []


async def test_rows_written_hot_read_back_through_the_orm(
    runtime: Runtime, hot: HotLedger, make_user: MakeUser, make_api_token: MakeApiToken
) -> None:
    sessions = runtime.sessions
    user = await make_user(sessions)
    token = await make_api_token(sessions, user)
    await billing.top_up(sessions, user_id=user, amount_nanos=USD, idempotency_key=f"orm:{user}")
    before = datetime.now(UTC)
    held = await hot.hold(
        user_id=user, amount_nanos=1_000, idempotency_key=f"orm:h:{user}", api_token_id=token, meta=META
    )
    usage = billing.UsageRecord(
        f"orm-{user}", user, token, "chat.completions", "m", streamed=True, meta={"k": "ü"}
    )
    settled = await hot.settle(hold_id=held.hold_id, cost_nanos=999, usage=usage)
    after = datetime.now(UTC)

    async with sessions() as session:
        hold = (await session.execute(select(CreditHold).where(CreditHold.id == held.hold_id))).scalar_one()
        log = (
            await session.execute(select(UsageLog).where(UsageLog.request_id == usage.request_id))
        ).scalar_one()
        day = (await session.execute(select(UsageDaily).where(UsageDaily.user_id == user))).scalar_one()
    for moment in (hold.created_at, hold.finished_at, log.created_at):
        assert moment is not None and moment.tzinfo is not None
        assert before <= moment <= after
    assert hold.expires_at == held.expires_at
    assert (hold.status, hold.settled_nanos, hold.transaction_id) == ("settled", 999, settled.transaction_id)
    assert hold.meta == META
    assert (log.meta, log.streamed, log.cancelled, log.cost_nanos) == ({"k": "ü"}, True, False, 999)
    assert day.day == log.created_at.date()
    assert (day.requests, day.cost_nanos, day.api_token_id) == (1, 999, token)
    transactions = await billing.list_transactions(sessions, user)
    assert transactions[0].id == settled.transaction_id
    assert transactions[0].created_at.tzinfo is not None
    assert before <= transactions[0].created_at <= after
