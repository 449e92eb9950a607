"""The sweeper resolves holds left behind by requests that never settled (billing/sweeper.py)."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

import pytest

from modelsnest import billing
from modelsnest.billing import sweeper
from modelsnest.db.base import utcnow
from modelsnest.db.engine import SessionFactory
from tests.billing.helpers import USD, daily_rows, hold_row, new_key, token_spent, usage_for, usage_log

LATER = timedelta(seconds=120)  # past every hold's 60 s TTL below


async def start(sessions: SessionFactory, user: int, amount: int, **kwargs: Any) -> str:
    held = await billing.hold(
        sessions,
        user_id=user,
        amount_nanos=amount,
        idempotency_key=new_key(),
        ttl_seconds=60,
        **kwargs,
    )
    return held.hold_id


async def test_an_expired_hold_with_a_checkpoint_is_billed_what_was_delivered(
    sessions: SessionFactory, user: int, api_token: int
) -> None:
    await billing.top_up(sessions, user_id=user, amount_nanos=10 * USD, idempotency_key=new_key())
    hold_id = await start(
        sessions,
        user,
        4 * USD,
        api_token_id=api_token,
        request_id="req_stream",
        meta={"model": "gpt-x", "endpoint": "chat.completions", "provider": "sim"},
    )
    await billing.checkpoint(sessions, hold_id=hold_id, provisional_cost_nanos=USD)

    report = await billing.sweep_expired_holds(sessions, now=utcnow() + LATER)

    assert report == billing.SweepReport(settled=1, released=0)
    assert await billing.get_balance(sessions, user) == billing.Balance(user, 9 * USD, 0)
    log = await usage_log(sessions, "req_stream")
    assert log is not None
    assert (log.cost_nanos, log.status, log.error_code, log.model_slug, log.endpoint, log.provider_name) == (
        USD,
        "partial",
        "HOLD_EXPIRED",
        "gpt-x",
        "chat.completions",
        "sim",
    )
    assert log.meta == {"swept": True, "hold_id": hold_id}
    assert await token_spent(sessions, api_token) == USD
    assert await billing.verify_invariants(sessions, user) == []


async def test_an_expired_hold_without_a_checkpoint_is_released(sessions: SessionFactory, user: int) -> None:
    await billing.top_up(sessions, user_id=user, amount_nanos=10 * USD, idempotency_key=new_key())
    hold_id = await start(sessions, user, 4 * USD)
    zero = await start(sessions, user, USD)
    await billing.checkpoint(sessions, hold_id=zero, provisional_cost_nanos=0)  # nothing delivered yet

    report = await billing.sweep_expired_holds(sessions, now=utcnow() + LATER)

    assert report == billing.SweepReport(settled=0, released=2)
    assert (await hold_row(sessions, hold_id)).status == "released"
    assert await billing.get_balance(sessions, user) == billing.Balance(user, 10 * USD, 0)
    assert await daily_rows(sessions, user) == []  # nothing is known about those requests
    assert await billing.verify_invariants(sessions, user) == []


async def test_holds_that_have_not_expired_are_left_alone(sessions: SessionFactory, user: int) -> None:
    await billing.top_up(sessions, user_id=user, amount_nanos=USD, idempotency_key=new_key())
    hold_id = await start(sessions, user, USD)

    assert await billing.sweep_expired_holds(sessions) == billing.SweepReport(0, 0)
    assert (await hold_row(sessions, hold_id)).status == "active"


async def test_a_late_settle_after_the_sweep_returns_the_swept_result_and_charges_nothing_more(
    sessions: SessionFactory, user: int
) -> None:
    await billing.top_up(sessions, user_id=user, amount_nanos=10 * USD, idempotency_key=new_key())
    hold_id = await start(sessions, user, 4 * USD, request_id="req_slow")
    await billing.checkpoint(sessions, hold_id=hold_id, provisional_cost_nanos=3 * USD)
    await billing.sweep_expired_holds(sessions, now=utcnow() + LATER)

    late = await billing.settle(
        sessions, hold_id=hold_id, cost_nanos=4 * USD, usage=usage_for(user, request_id="req_slow")
    )

    assert (late.replayed, late.charged_nanos) == (True, 3 * USD)
    assert (await billing.get_balance(sessions, user)).balance_nanos == 7 * USD


async def test_a_provisional_cost_above_what_is_available_is_capped(
    sessions: SessionFactory, user: int
) -> None:
    await billing.top_up(sessions, user_id=user, amount_nanos=2 * USD, idempotency_key=new_key())
    hold_id = await start(sessions, user, USD)
    await billing.checkpoint(sessions, hold_id=hold_id, provisional_cost_nanos=5 * USD)

    assert await billing.sweep_expired_holds(sessions, now=utcnow() + LATER) == billing.SweepReport(1, 0)

    assert await billing.get_balance(sessions, user) == billing.Balance(user, 0, 0)
    assert await billing.verify_invariants(sessions, user) == []


async def test_concurrent_sweepers_resolve_each_hold_exactly_once(
    sessions: SessionFactory, user: int
) -> None:
    await billing.top_up(sessions, user_id=user, amount_nanos=100 * USD, idempotency_key=new_key())
    hold_ids = [await start(sessions, user, USD) for _ in range(20)]
    for hold_id in hold_ids[:8]:
        await billing.checkpoint(sessions, hold_id=hold_id, provisional_cost_nanos=USD // 2)
    later = utcnow() + LATER

    reports = await asyncio.gather(*(billing.sweep_expired_holds(sessions, now=later) for _ in range(4)))

    assert sum(r.settled for r in reports) == 8
    assert sum(r.released for r in reports) == 12
    assert await billing.get_balance(sessions, user) == billing.Balance(user, 96 * USD, 0)
    assert await billing.verify_invariants(sessions, user) == []


async def test_a_hold_that_cannot_be_resolved_is_logged_and_does_not_block_the_others(
    sessions: SessionFactory, user: int, caplog: pytest.LogCaptureFixture
) -> None:
    await billing.top_up(sessions, user_id=user, amount_nanos=10 * USD, idempotency_key=new_key())
    stuck = await start(sessions, user, USD, request_id="req_dup")
    await billing.checkpoint(sessions, hold_id=stuck, provisional_cost_nanos=10)
    await billing.record_usage(sessions, usage_for(user, request_id="req_dup"))  # a bug elsewhere
    fine = await start(sessions, user, USD)

    with caplog.at_level(logging.ERROR, logger="modelsnest.billing.sweeper"):
        report = await billing.sweep_expired_holds(sessions, now=utcnow() + LATER)

    assert report == billing.SweepReport(settled=0, released=1, failed=1)
    assert (await hold_row(sessions, stuck)).status == "active"
    assert (await hold_row(sessions, fine)).status == "released"
    assert stuck in caplog.text
    assert await billing.verify_invariants(sessions, user) == []


async def test_run_sweeper_survives_errors_until_cancelled(
    sessions: SessionFactory, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    calls = 0
    second_call = asyncio.Event()

    async def flaky(sessions: SessionFactory, *, limit: int) -> billing.SweepReport:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database went away")
        second_call.set()
        return billing.SweepReport(0, 0)

    monkeypatch.setattr(sweeper, "sweep_expired_holds", flaky)
    with caplog.at_level(logging.ERROR, logger="modelsnest.billing.sweeper"):
        task = asyncio.create_task(billing.run_sweeper(sessions, interval_seconds=0.01))
        await asyncio.wait_for(second_call.wait(), timeout=5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    assert "database went away" in caplog.text


async def test_a_swept_hold_is_logged_with_the_origin_its_meta_recorded(
    sessions: SessionFactory, user: int
) -> None:
    await billing.top_up(sessions, user_id=user, amount_nanos=USD, idempotency_key=new_key())
    playground = await start(sessions, user, 1_000, request_id="req_pg", meta={"origin": "playground"})
    unknown = await start(sessions, user, 1_000, request_id="req_odd", meta={"origin": "martian"})
    for hold_id in (playground, unknown):
        await billing.checkpoint(sessions, hold_id=hold_id, provisional_cost_nanos=400)

    assert await billing.sweep_expired_holds(sessions, now=utcnow() + LATER) == billing.SweepReport(2, 0)

    logs = [await usage_log(sessions, rid) for rid in ("req_pg", "req_odd")]
    assert [(log.origin, log.api_token_id) if log else None for log in logs] == [
        ("playground", None),
        ("api", None),
    ]


async def test_a_swept_hold_is_billed_at_the_price_version_it_was_admitted_with(
    sessions: SessionFactory, user: int
) -> None:
    await billing.top_up(sessions, user_id=user, amount_nanos=USD, idempotency_key=new_key())
    admitted = await start(sessions, user, 1_000, request_id="req_v", meta={"price_version_id": 42})
    bogus = await start(sessions, user, 1_000, request_id="req_b", meta={"price_version_id": "x"})
    for hold_id in (admitted, bogus):
        await billing.checkpoint(sessions, hold_id=hold_id, provisional_cost_nanos=300)
    assert await billing.sweep_expired_holds(sessions, now=utcnow() + LATER) == billing.SweepReport(2, 0)
    logs = [await usage_log(sessions, rid) for rid in ("req_v", "req_b")]
    assert [(log.price_version_id, log.cost_nanos) if log else None for log in logs] == [
        (42, 300),
        (None, 300),
    ]
    # The upstream cost of a request whose process died is unknown.
    assert all(log is not None and log.upstream_cost_nanos is None for log in logs)
