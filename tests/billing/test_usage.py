"""Usage rows (billing/usage.py): requests that never held credits, where a call came from,
and calls made without an API key."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from modelsnest import billing
from modelsnest.billing.hot import HotLedger, ReferenceLedger, create_hot_ledger
from modelsnest.db.engine import SessionFactory
from modelsnest.errors import Conflict, InvalidRequest, NotFound
from modelsnest.runtime import Runtime
from tests.billing.helpers import USD, daily_rows, new_key, usage_for, usage_log


async def test_a_refused_request_is_logged_at_no_cost(
    sessions: SessionFactory, user: int, api_token: int
) -> None:
    usage = usage_for(
        user,
        api_token,
        status="error",
        http_status=402,
        error_code="INSUFFICIENT_CREDITS",
        error_message="no credits",
    )

    await billing.record_usage(sessions, usage)

    log = await usage_log(sessions, usage.request_id)
    assert log is not None
    assert (log.cost_nanos, log.status, log.http_status, log.error_code) == (
        0,
        "error",
        402,
        "INSUFFICIENT_CREDITS",
    )
    [day] = await daily_rows(sessions, user)
    assert (day.requests, day.errors, day.cost_nanos, day.api_token_id) == (1, 1, 0, api_token)
    assert await billing.get_balance(sessions, user) == billing.Balance(user, 0, 0)
    assert await billing.verify_invariants(sessions, user) == []


async def test_a_request_is_logged_once(sessions: SessionFactory, user: int) -> None:
    usage = usage_for(user)
    await billing.record_usage(sessions, usage)

    with pytest.raises(Conflict):
        await billing.record_usage(sessions, usage)
    assert (await daily_rows(sessions, user))[0].requests == 1


async def test_usage_of_an_unknown_user_is_not_found(sessions: SessionFactory) -> None:
    with pytest.raises(NotFound):
        await billing.record_usage(sessions, usage_for(987_654))


@pytest.mark.parametrize(
    "changes",
    [
        {"status": "weird"},
        {"request_id": ""},
        {"request_id": "r" * 65},
        {"model_slug": "m" * 121},
        {"prompt_tokens": -1},
        {"completion_tokens": 1.5},
        {"units": True},
        {"latency_ms": 2**31},
        {"origin": "dashboard"},
        {"origin": ""},
    ],
)
async def test_usage_fields_are_checked_the_same_on_every_database(
    sessions: SessionFactory, user: int, changes: dict[str, Any]
) -> None:
    with pytest.raises(InvalidRequest):
        await billing.record_usage(sessions, usage_for(user, **changes))
    assert await daily_rows(sessions, user) == []


async def test_a_row_says_the_call_came_from_the_api_unless_told_otherwise(
    sessions: SessionFactory, user: int, api_token: int
) -> None:
    default, store = usage_for(user, api_token), usage_for(user, api_token, origin="store")
    for usage in (default, store):
        await billing.record_usage(sessions, usage)

    logged = [await usage_log(sessions, u.request_id) for u in (default, store)]
    assert [log.origin if log else None for log in logged] == ["api", "store"]


@pytest.fixture
async def hot(runtime: Runtime) -> AsyncIterator[HotLedger]:
    ledger = create_hot_ledger(runtime.settings.async_database_url, runtime.sessions, pool_size=2)
    yield ledger
    await ledger.close()


@pytest.mark.parametrize("path", ["hot", "reference"])
async def test_a_playground_call_without_a_key_is_held_settled_and_rolled_up_under_key_0(
    runtime: Runtime, hot: HotLedger, user: int, api_token: int, path: str
) -> None:
    sessions = runtime.sessions
    ledger = hot if path == "hot" else ReferenceLedger(sessions)
    await billing.top_up(sessions, user_id=user, amount_nanos=USD, idempotency_key=new_key())
    held = await ledger.hold(
        user_id=user, amount_nanos=50_000, idempotency_key=new_key(), meta={"origin": "playground"}
    )
    usage = usage_for(user, None, origin="playground")

    settled = await ledger.settle(hold_id=held.hold_id, cost_nanos=12_345, usage=usage)

    assert (settled.charged_nanos, settled.balance_after_nanos, settled.replayed) == (
        12_345,
        USD - 12_345,
        False,
    )
    log = await usage_log(sessions, usage.request_id)
    assert log is not None
    assert (log.origin, log.api_token_id, log.cost_nanos) == ("playground", None, 12_345)
    [day] = await daily_rows(sessions, user)
    assert (day.api_token_id, day.requests, day.cost_nanos) == (0, 1, 12_345)
    assert await billing.get_balance(sessions, user) == billing.Balance(user, USD - 12_345, 0)
    assert await billing.verify_invariants(sessions, user) == []  # the user's key spent nothing
