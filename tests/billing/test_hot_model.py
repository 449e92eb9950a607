"""The hot ledger and the reference functions, driven by the same random sequence of
operations, leave every ledger table identical (hypothesis stateful testing).

The hot ledger writes one database and the reference writes another, fresh one of the same
kind (both SQLite files, or both PostgreSQL databases cloned from the migrated template).
Operations: top-ups (so balances vary), holds with and without a key, settles below / at /
above the hold and at zero, with and without a stored idempotent answer, of any hold (so
replays and settles of released holds happen), releases with and without usage, checkpoints,
replayed idempotency keys, for two users with a key each. After every step each ledger table
is read whole on both sides and compared row by row, every column, except:

* hold ids (``hold_<uuid4>``, random per call) are replaced by the hold's number in the run,
  also inside ``settle:<hold id>`` ledger keys and error messages;
* timestamps are taken from each call's own clock, so they cannot be equal: each becomes
  "set" (or stays None), and a hold's ``expires_at`` becomes its distance from ``created_at``,
  which must be exactly the TTL on both sides.

Database-generated ids (ledger rows, usage rows, users, keys, idempotency records) ARE
compared: both databases start empty and receive the same successful writes in the same order.

Each example starts by emptying the ledger tables of both databases."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import Table, delete, insert, select

from modelsnest import billing
from modelsnest.billing import _db
from modelsnest.billing.hot import HotLedger, ReferenceLedger, create_hot_ledger
from modelsnest.db.engine import SessionFactory, create_engine, create_session_factory
from modelsnest.db.models import ApiToken, IdempotencyRecord, User
from modelsnest.errors import ModelsnestError
from tests import services

T = TypeVar("T")
UNIT = 1_000  # nanos: small multiples, so exact fits, excesses and shortfalls happen often
SETTINGS = settings(
    max_examples=30,
    stateful_step_count=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
# Every table the ledger writes, children before parents (the order they are emptied in).
TABLES: tuple[Table, ...] = (
    _db.idempotency,
    _db.usage_logs,
    _db.usage_daily,
    _db.holds,
    _db.ledger,
    _db.credits,
    _db.api_tokens,
)
COSTS = ("zero", "below", "at", "above", "far above")
REPLIES = (
    "none",
    "its own record",
    "its own record",
    "an earlier hold's record",
    "an earlier hold's record",
    "the newest record",
)
CLAIMED_AT = datetime(2026, 1, 1, tzinfo=UTC)  # the test's own records: the same on both sides


@pytest.fixture(params=["sqlite", "postgres"])
def database_pair(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two fresh, migrated databases of one kind: the hot ledger's and the reference's."""
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        yield (
            services.clone_sqlite_database(template, tmp_path),
            services.clone_sqlite_database(template, tmp_path),
        )
        return
    template = request.getfixturevalue("postgres_template")
    names = [services.clone_pg_database(template) for _ in range(2)]
    try:
        yield services.pg_database_url(names[0]), services.pg_database_url(names[1])
    finally:
        for name in names:
            services.drop_pg_database(name)


@dataclass
class Side:
    """One database and the ledger that writes it."""

    sessions: SessionFactory
    ledger: HotLedger
    holds: list[str] = field(default_factory=list)  # hold number -> hold id

    def label(self, text: str) -> str:
        for number, hold_id in enumerate(self.holds):
            text = text.replace(hold_id, f"<hold {number}>")
        return text


@dataclass
class Hold:
    user: int  # index into the machine's users
    amount: int
    key: str
    token: bool
    record: int | None  # the idempotency record claimed for it (calls with a key only)


@dataclass(frozen=True)
class Refused:
    error: str
    code: str | None
    param: str | None
    message: str


def _comparable(side: Side, value: Any) -> Any:
    """A call's answer with the hold id replaced by its number."""
    if isinstance(value, billing.HoldResult):
        assert value.expires_at.tzinfo is not None
        hold = side.label(value.hold_id) if value.hold_id in side.holds else "<a new hold>"
        return ("hold", hold, value.user_id, value.amount_nanos, value.replayed)
    if isinstance(value, billing.SettleResult):
        return (
            "settle",
            side.label(value.hold_id),
            value.transaction_id,
            value.charged_nanos,
            value.balance_after_nanos,
            value.replayed,
        )
    return value


def _normalize(side: Side, value: Any) -> Any:
    if isinstance(value, datetime):
        return "set"
    if isinstance(value, date):  # the rollup's day, from each call's clock
        return "set"
    if isinstance(value, str):
        return side.label(value)
    if isinstance(value, dict):
        return {k: _normalize(side, v) for k, v in value.items()}
    return value


class HotAgainstReference(RuleBasedStateMachine):
    urls: ClassVar[tuple[str, str]]  # (hot, reference), set by the test

    def __init__(self) -> None:
        super().__init__()
        self.runner = asyncio.Runner()
        self.engines = [create_engine(url, pool_size=2) for url in self.urls]
        factories = [create_session_factory(engine) for engine in self.engines]
        self.hot = Side(factories[0], create_hot_ledger(self.urls[0], factories[0], pool_size=2))
        self.reference = Side(factories[1], ReferenceLedger(factories[1]))
        self.sides = (self.hot, self.reference)
        self.serial = itertools.count()
        self.holds: list[Hold] = []
        self.records: list[tuple[int, int]] = []  # (record id, the user whose key claimed it)
        self.top_ups: list[tuple[int, int, str]] = []  # (user, amount, key)
        self.users: list[tuple[int, int]] = []  # (user id, key id): equal on both sides
        for number in range(2):
            self.users.append(self.same(lambda side, n=number: self._open_account(side.sessions, n)))

    # -- running one call on both sides -----------------------------------------------------

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.runner.run(coroutine)

    def both(self, call: Any) -> tuple[Any, Any]:
        """``call(side)`` on both sides; their answers (or errors) must be the same."""
        outcomes = []
        for side in self.sides:
            try:
                outcomes.append(self.run(call(side)))
            except ModelsnestError as exc:
                event(f"refused: {type(exc).__name__}")
                outcomes.append(Refused(type(exc).__name__, exc.code, exc.param, side.label(exc.message)))
        hot, reference = outcomes
        assert _comparable(self.hot, hot) == _comparable(self.reference, reference)
        return hot, reference

    def same(self, call: Any) -> Any:
        return self.both(call)[0]

    async def _open_account(self, sessions: SessionFactory, number: int) -> tuple[int, int]:
        """A user with one API key; the same values on both sides (the key's hash included)."""
        now = datetime.now(UTC)
        async with sessions.begin() as session:
            user = (
                await session.execute(
                    insert(User)
                    .values(email=f"user{number}@example.com", created_at=now, updated_at=now)
                    .returning(User.id)
                )
            ).scalar_one()
            token = (
                await session.execute(
                    insert(ApiToken)
                    .values(user_id=user, name="key", token_hash=f"{number:064x}", prefix="ptr_test")
                    .returning(ApiToken.id)
                )
            ).scalar_one()
        return int(user), int(token)

    # -- the operations ---------------------------------------------------------------------

    @initialize(first=st.integers(2 * UNIT, 30 * UNIT), second=st.integers(0, 30 * UNIT))
    def open_balances(self, first: int, second: int) -> None:
        for user, amount in enumerate((first, second)):
            if amount:
                self.top_up(user, amount, replay="no")

    @rule(
        user=st.integers(0, 1),
        amount=st.integers(1, 20 * UNIT),
        replay=st.sampled_from(["no", "no", "same key", "same key, other amount"]),
    )
    def top_up(self, user: int, amount: int, replay: str) -> None:
        if replay == "no" or not self.top_ups:
            key = f"topup:{next(self.serial)}"
            self.top_ups.append((user, amount, key))
        else:
            user, amount, key = self.top_ups[amount % len(self.top_ups)]
            amount += replay != "same key"
        user_id = self.users[user][0]
        self.same(
            lambda s: billing.top_up(s.sessions, user_id=user_id, amount_nanos=amount, idempotency_key=key)
        )

    @rule(
        user=st.integers(0, 1),
        amount=st.integers(0, 8 * UNIT),
        token=st.booleans(),
        ttl=st.sampled_from([60, 900]),
        meta=st.sampled_from([None, {"model": "m", "endpoint": "chat.completions"}]),
        replay=st.sampled_from(["no", "no", "no", "same key", "same key, other amount"]),
    )
    def hold(
        self, user: int, amount: int, token: bool, ttl: int, meta: dict[str, Any] | None, replay: str
    ) -> None:
        key = f"hold:{next(self.serial)}"
        if replay != "no" and self.holds:
            earlier = self.holds[amount % len(self.holds)]
            user, key, token = earlier.user, earlier.key, earlier.token
            amount = earlier.amount + (replay != "same key")
        user_id, token_id = self.users[user]

        def call(side: Side) -> Coroutine[Any, Any, billing.HoldResult]:
            return side.ledger.hold(
                user_id=user_id,
                amount_nanos=amount,
                idempotency_key=key,
                api_token_id=token_id if token else None,
                request_id=f"hold-{key}",
                ttl_seconds=ttl,
                meta=meta,
            )

        results = self.both(call)
        if isinstance(results[0], billing.HoldResult) and not results[0].replayed:
            for side, result in zip(self.sides, results, strict=True):
                side.holds.append(result.hold_id)
            # As the gateway does for a request with an Idempotency-Key: claim before the call.
            self.holds.append(Hold(user, amount, key, token, self._claim(user) if token else None))

    @rule(
        data=st.data(),
        user=st.integers(0, 1),
        amount=st.integers(0, 8 * UNIT),
        token=st.booleans(),
        finish=st.sampled_from(["settle", "settle", "settle", "release", "release with usage", "leave open"]),
        cost=st.sampled_from(COSTS),
        answer=st.sampled_from(REPLIES),
    )
    def request(
        self, data: st.DataObject, user: int, amount: int, token: bool, finish: str, cost: str, answer: str
    ) -> None:
        """One request as the gateway makes it: hold, then (most often at once) settle or release."""
        before = len(self.holds)
        self.hold(user, amount, token, 900, {"model": "m", "endpoint": "chat.completions"}, "no")
        if len(self.holds) == before or finish == "leave open":
            return
        number = len(self.holds) - 1
        if finish == "settle":
            self._settle(data, number, cost, answer, meta=True)
        else:
            usage = self.usage(self.holds[number], status="error") if finish == "release with usage" else None
            self.same(lambda s: s.ledger.release(hold_id=s.holds[number], usage=usage))

    def pick(self, data: st.DataObject) -> int:
        """A hold's number: often the newest (likely still active), else any (replays, conflicts)."""
        last = len(self.holds) - 1
        return data.draw(st.one_of(st.just(last), st.integers(0, last)))

    def usage(self, held: Hold, **fields: Any) -> billing.UsageRecord:
        user_id, token_id = self.users[held.user]
        return billing.UsageRecord(
            request_id=f"req-{next(self.serial)}",
            user_id=user_id,
            api_token_id=token_id if held.token else None,
            endpoint="chat.completions",
            model_slug=f"model-{held.amount % 3}",  # a few rollup rows per day
            provider_name=("simulator", "openai", None)[held.amount % 3],  # and per provider
            prompt_tokens=held.amount % 97,
            completion_tokens=held.amount % 89,
            cached_tokens=held.amount % 7,
            cache_write_tokens=held.amount % 5,
            reasoning_tokens=held.amount % 11,
            audio_input_tokens=held.amount % 2,
            audio_output_tokens=held.amount % 3,
            price_version_id=1 + held.amount % 4,
            cost_breakdown=[{"dimension": "input", "quantity": held.amount % 97, "per": 1000}],
            # Known on some rows, unknown (None) on others: both rollup sums move.
            upstream_cost_nanos=None if held.amount % 2 else held.amount // 3,
            upstream_price_version_id=None if held.amount % 2 else 9,
            origin="api" if held.token else "playground",
            **fields,
        )

    @precondition(lambda self: self.holds)
    @rule(data=st.data(), cost=st.sampled_from(COSTS), answer=st.sampled_from(REPLIES), meta=st.booleans())
    def settle(self, data: st.DataObject, cost: str, answer: str, meta: bool) -> None:
        """Any hold: active, or already settled (a replay) or released (a Conflict)."""
        self._settle(data, self.pick(data), cost, answer, meta)

    def _settle(self, data: st.DataObject, number: int, cost: str, answer: str, meta: bool) -> None:
        held = self.holds[number]
        amount = {
            "zero": 0,
            "below": held.amount // 2,
            "at": held.amount,
            "above": held.amount + UNIT,
            "far above": held.amount + 40 * UNIT,
        }[cost]
        event(f"settle {cost}, reply: {answer}")
        reply = None
        if answer == "its own record":
            reply = held.record  # None for a keyless call
        elif answer == "an earlier hold's record":  # most likely answered already: must be kept
            earlier = [h.record for h in self.holds[:number] if h.record is not None and h.user == held.user]
            reply = data.draw(st.sampled_from(earlier)) if earlier else held.record
        elif answer == "the newest record" and self.records:  # refused if keyless; maybe another key's
            reply = self.records[-1][0]
        usage = self.usage(held, meta={"n": number} if meta else None)

        def call(side: Side) -> Coroutine[Any, Any, billing.SettleResult]:
            stored = None
            if reply is not None:
                stored = billing.StoredReply(
                    reply, 200, f"answer {number}".encode(), "text/plain", {"n": str(number)}
                )
            return side.ledger.settle(
                hold_id=side.holds[number], cost_nanos=amount, usage=usage, reply=stored
            )

        self.same(call)

    def _claim(self, user: int) -> int | None:
        """A pending idempotency record of the user's key, on both sides (the same id)."""
        token_id = self.users[user][1]

        async def claim(side: Side) -> int:
            async with side.sessions.begin() as session:
                statement = (
                    insert(IdempotencyRecord)
                    .values(
                        api_token_id=token_id,
                        key=f"idem-{len(self.records)}",
                        request_hash="0" * 64,
                        created_at=CLAIMED_AT,
                        expires_at=CLAIMED_AT + timedelta(days=365),
                    )
                    .returning(IdempotencyRecord.id)
                )
                return int((await session.execute(statement)).scalar_one())

        record_id: int = self.same(claim)
        self.records.append((record_id, user))
        return record_id

    @precondition(lambda self: self.holds)
    @rule(data=st.data(), log=st.booleans())
    def release(self, data: st.DataObject, log: bool) -> None:
        number = data.draw(st.integers(0, len(self.holds) - 1))
        usage = self.usage(self.holds[number], status="error", http_status=502) if log else None
        self.same(lambda s: s.ledger.release(hold_id=s.holds[number], usage=usage))

    @precondition(lambda self: self.holds)
    @rule(data=st.data(), percent=st.integers(0, 150))
    def checkpoint(self, data: st.DataObject, percent: int) -> None:
        number = data.draw(st.integers(0, len(self.holds) - 1))
        cost = self.holds[number].amount * percent // 100
        self.same(
            # No extend_seconds: it would move expires_at by each side's clock.
            lambda s: billing.checkpoint(s.sessions, hold_id=s.holds[number], provisional_cost_nanos=cost)
        )

    # -- the comparison ---------------------------------------------------------------------

    async def _snapshot(self, side: Side) -> dict[str, list[Any]]:
        tables: dict[str, list[Any]] = {}
        async with side.sessions() as session:
            for table in TABLES:
                result = await session.execute(select(table).order_by(*table.primary_key.columns))
                rows = [dict(r._mapping) for r in result]
                if table is _db.holds:
                    for row in rows:
                        row["expires_at"] = (row["expires_at"] - row["created_at"]).total_seconds()
                    rows.sort(key=lambda row: side.holds.index(row["id"]))
                tables[table.name] = [{k: _normalize(side, v) for k, v in row.items()} for row in rows]
        return tables

    @invariant()
    def both_databases_hold_the_same_rows(self) -> None:
        hot, reference = (self.run(self._snapshot(side)) for side in self.sides)
        for table in TABLES:
            assert hot[table.name] == reference[table.name], table.name

    def teardown(self) -> None:
        problems: list[str] | None = None
        try:
            # The rows are equal, so what holds for one side holds for the other; checked once
            # per example here (test_model.py checks the invariants after every step).
            problems = self.run(billing.verify_invariants(self.hot.sessions))
        finally:
            try:
                self.run(self.hot.ledger.close())
                for side in self.sides:
                    self.run(_empty(side.sessions))
            finally:
                for engine in self.engines:
                    self.run(engine.dispose())
                self.runner.close()
        assert problems == []


async def _empty(sessions: SessionFactory) -> None:
    async with sessions.begin() as session:
        for table in TABLES:
            await session.execute(delete(table))
        await session.execute(delete(User))


@pytest.mark.slow
def test_the_hot_ledger_and_the_reference_write_the_same_rows(database_pair: tuple[str, str]) -> None:
    machine = type("HotAgainstReferenceHere", (HotAgainstReference,), {"urls": database_pair})
    run_state_machine_as_test(machine, settings=SETTINGS)


def test_the_comparison_sees_a_difference(database_pair: tuple[str, str]) -> None:
    """The invariant fails when one side has a row the other has not (so it compares something)."""
    machine = type("HotAgainstReferenceHere", (HotAgainstReference,), {"urls": database_pair})()
    try:
        machine.top_up(0, 5 * UNIT, "no")
        machine.both_databases_hold_the_same_rows()
        user_id = machine.users[0][0]
        machine.run(
            billing.top_up(
                machine.reference.sessions, user_id=user_id, amount_nanos=1, idempotency_key="only-here"
            )
        )
        with pytest.raises(AssertionError, match="credit_transactions|user_credits"):
            machine.both_databases_hold_the_same_rows()
    finally:
        machine.teardown()
