"""Random interleavings of every ledger operation, checked after each step against a model
small enough to be obviously right (hypothesis stateful testing, on both databases).

Each example gets its own event loop, engine and user; the database is shared, so teardown
sweeps the example's holds away before the next one starts."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Coroutine
from datetime import timedelta
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

from modelsnest import billing
from modelsnest.db.base import utcnow
from modelsnest.db.engine import create_engine, create_session_factory
from modelsnest.errors import Conflict, InsufficientCredits
from tests.billing.conftest import insert_api_token, insert_user
from tests.billing.helpers import usage_for

T = TypeVar("T")
UNIT = 1_000  # nanos; amounts are small multiples so that shortfalls and exact fits happen often
SHORT_TTL, LONG_TTL = 1, 3600  # seconds: holds whose process "died", and holds still in flight
SWEEP_AHEAD = timedelta(seconds=60)  # a sweep "now" past every short hold, long before any long one
FAR_FUTURE = timedelta(days=1)  # past every hold's expiry
SETTINGS = settings(
    max_examples=25,
    stateful_step_count=30,
    deadline=None,
    database=None,  # no example database left in the working tree
    suppress_health_check=[HealthCheck.too_slow],
)


class LedgerModel(RuleBasedStateMachine):
    database_url: ClassVar[str]  # set by the test, one subclass per database

    def __init__(self) -> None:
        super().__init__()
        self.runner = asyncio.Runner()
        self.engine = create_engine(self.database_url, pool_size=2)
        self.sessions = create_session_factory(self.engine)
        self.user = self.run(insert_user(self.sessions))
        self.token = self.run(insert_api_token(self.sessions, self.user))
        # The model: what the ledger must say.
        self.balance = 0
        self.active: dict[str, int] = {}  # hold id -> amount
        self.provisional: dict[str, int] = {}  # hold id -> last checkpoint
        self.settled: dict[str, int] = {}  # hold id -> charged
        self.released: dict[str, None] = {}  # dicts, not sets: draws must not depend on hash order
        self.short_lived: set[str] = set()
        self.top_ups: dict[str, tuple[int, int]] = {}  # key -> (amount, transaction id)
        self.hold_keys: dict[str, tuple[str, int]] = {}  # key -> (hold id, amount)

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.runner.run(coroutine)

    @property
    def reserved(self) -> int:
        return sum(self.active.values())

    @property
    def available(self) -> int:
        return self.balance - self.reserved

    def usage(self) -> billing.UsageRecord:
        return usage_for(self.user, self.token)

    @initialize(amount=st.integers(5 * UNIT, 20 * UNIT))
    def opening_top_up(self, amount: int) -> None:
        self.top_up(amount)

    @rule(amount=st.integers(1, 10 * UNIT))
    def top_up(self, amount: int) -> None:
        key = f"topup:{uuid.uuid4().hex}"
        result = self.run(
            billing.top_up(self.sessions, user_id=self.user, amount_nanos=amount, idempotency_key=key)
        )
        self.balance += amount
        self.top_ups[key] = (amount, result.transaction_id)
        assert result.balance_after_nanos == self.balance

    @precondition(lambda self: self.top_ups)
    @rule(data=st.data(), same=st.booleans())
    def replay_top_up(self, data: st.DataObject, same: bool) -> None:
        key = data.draw(st.sampled_from(list(self.top_ups)))
        amount, transaction_id = self.top_ups[key]
        if not same:
            with pytest.raises(Conflict):
                self.run(
                    billing.top_up(
                        self.sessions, user_id=self.user, amount_nanos=amount + 1, idempotency_key=key
                    )
                )
            return
        result = self.run(
            billing.top_up(self.sessions, user_id=self.user, amount_nanos=amount, idempotency_key=key)
        )
        assert result.replayed and result.transaction_id == transaction_id

    @rule(amount=st.integers(1, 8 * UNIT))
    def payment_refund(self, amount: int) -> None:
        """A refunded payment takes its whole amount back, spent or not (available may go negative)."""
        uncovered = amount - max(0, min(amount, self.available))
        event("payment refund: " + ("covered" if uncovered == 0 else "into debt"))
        result = self.run(
            billing.refund(
                self.sessions,
                user_id=self.user,
                amount_nanos=amount,
                payment_id="p-model",
                idempotency_key=f"refund:{uuid.uuid4().hex}",
            )
        )
        self.balance -= amount
        assert (result.amount_nanos, result.balance_after_nanos) == (-amount, self.balance)

    @rule(amount=st.integers(0, 3 * UNIT), short_lived=st.booleans())
    def hold(self, amount: int, short_lived: bool) -> None:
        key = f"hold:{uuid.uuid4().hex}"
        ttl = SHORT_TTL if short_lived else LONG_TTL
        call = billing.hold(
            self.sessions, user_id=self.user, amount_nanos=amount, idempotency_key=key, ttl_seconds=ttl
        )
        if amount > 0 and amount > self.available:  # a free call is never refused, even in debt
            event("hold refused: 402")
            with pytest.raises(InsufficientCredits):
                self.run(call)
            return
        result = self.run(call)
        self.active[result.hold_id] = amount
        self.hold_keys[key] = (result.hold_id, amount)
        if short_lived:
            self.short_lived.add(result.hold_id)

    @precondition(lambda self: self.hold_keys)
    @rule(data=st.data())
    def replay_hold(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(list(self.hold_keys)))
        hold_id, amount = self.hold_keys[key]
        result = self.run(
            billing.hold(self.sessions, user_id=self.user, amount_nanos=amount, idempotency_key=key)
        )
        assert result.replayed and result.hold_id == hold_id

    @precondition(lambda self: self.active)
    @rule(data=st.data(), cost=st.integers(0, 6 * UNIT))
    def settle(self, data: st.DataObject, cost: int) -> None:
        hold_id = data.draw(st.sampled_from(list(self.active)))
        # The hold is always charged; the excess only as far as available goes (none in debt).
        expected = min(cost, self.active[hold_id] + max(0, self.available))
        event(
            "settle: "
            + (
                "zero"
                if cost == 0
                else "within hold"
                if cost <= self.active[hold_id]
                else "over hold, covered"
                if expected == cost
                else "over hold, capped"
            )
        )
        result = self.run(billing.settle(self.sessions, hold_id=hold_id, cost_nanos=cost, usage=self.usage()))
        del self.active[hold_id]
        self.provisional.pop(hold_id, None)
        self.short_lived.discard(hold_id)
        self.balance -= expected
        self.settled[hold_id] = expected
        assert (result.charged_nanos, result.balance_after_nanos) == (expected, self.balance)
        assert (result.transaction_id is None) == (expected == 0)

    @precondition(lambda self: self.settled)
    @rule(data=st.data(), cost=st.integers(0, 6 * UNIT))
    def settle_again(self, data: st.DataObject, cost: int) -> None:
        hold_id = data.draw(st.sampled_from(list(self.settled)))
        result = self.run(billing.settle(self.sessions, hold_id=hold_id, cost_nanos=cost, usage=self.usage()))
        assert result.replayed and result.charged_nanos == self.settled[hold_id]

    @precondition(lambda self: self.released)
    @rule(data=st.data())
    def settle_released(self, data: st.DataObject) -> None:
        hold_id = data.draw(st.sampled_from(list(self.released)))
        with pytest.raises(Conflict):
            self.run(billing.settle(self.sessions, hold_id=hold_id, cost_nanos=1, usage=self.usage()))

    @precondition(lambda self: self.active)
    @rule(data=st.data(), log=st.booleans())
    def release(self, data: st.DataObject, log: bool) -> None:
        hold_id = data.draw(st.sampled_from(list(self.active)))
        self.run(billing.release(self.sessions, hold_id=hold_id, usage=self.usage() if log else None))
        del self.active[hold_id]
        self.provisional.pop(hold_id, None)
        self.short_lived.discard(hold_id)
        self.released[hold_id] = None

    @precondition(lambda self: self.released)
    @rule(data=st.data())
    def release_again(self, data: st.DataObject) -> None:
        hold_id = data.draw(st.sampled_from(list(self.released)))
        self.run(billing.release(self.sessions, hold_id=hold_id, usage=self.usage()))

    @precondition(lambda self: self.active)
    @rule(data=st.data(), percent=st.integers(1, 100))
    def checkpoint(self, data: st.DataObject, percent: int) -> None:
        hold_id = data.draw(st.sampled_from(list(self.active)))
        # A stream never delivers more than its hold, so the sweep's charges do not depend on order.
        delivered = self.active[hold_id] * percent // 100
        self.run(billing.checkpoint(self.sessions, hold_id=hold_id, provisional_cost_nanos=delivered))
        # The highest checkpoint wins (a late, lower one is stale).
        self.provisional[hold_id] = max(self.provisional.get(hold_id, 0), delivered)

    @precondition(lambda self: self.short_lived & self.active.keys())
    @rule()
    def sweep(self) -> None:
        """Short-lived holds have expired: billed at their checkpoint, or released."""
        report = self.run(billing.sweep_expired_holds(self.sessions, now=utcnow() + SWEEP_AHEAD))
        expired = [h for h in self.active if h in self.short_lived]
        billed = {h: self.provisional[h] for h in expired if self.provisional.get(h, 0) > 0}
        event(
            f"sweep: {len(billed)} settled, {len(expired) - len(billed)} released, {len(self.active) - len(expired)} kept"
        )
        assert report == billing.SweepReport(settled=len(billed), released=len(expired) - len(billed))
        self.balance -= sum(billed.values())
        self.settled.update(billed)
        self.released.update((h, None) for h in expired if h not in billed)
        for hold_id in expired:
            del self.active[hold_id]
            self.provisional.pop(hold_id, None)
            self.short_lived.discard(hold_id)

    @invariant()
    def the_ledger_agrees_with_the_model(self) -> None:
        assert self.run(billing.verify_invariants(self.sessions, self.user)) == []
        balance = self.run(billing.get_balance(self.sessions, self.user))
        assert balance == billing.Balance(self.user, self.balance, self.reserved)

    def teardown(self) -> None:
        try:
            self.run(billing.sweep_expired_holds(self.sessions, now=utcnow() + FAR_FUTURE))
        finally:
            self.run(self.engine.dispose())
            self.runner.close()


def test_random_interleavings_keep_every_invariant(database_url: str) -> None:
    machine = type("LedgerModelOnThisDatabase", (LedgerModel,), {"database_url": database_url})
    run_state_machine_as_test(machine, settings=SETTINGS)
