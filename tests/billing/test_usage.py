"""Usage rows for requests that never held credits (billing/usage.py)."""

from __future__ import annotations

from typing import Any

import pytest

from modelsnest import billing
from modelsnest.db.engine import SessionFactory
from modelsnest.errors import Conflict, InvalidRequest, NotFound
from tests.billing.helpers import daily_rows, usage_for, usage_log


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
    ],
)
async def test_usage_fields_are_checked_the_same_on_every_database(
    sessions: SessionFactory, user: int, changes: dict[str, Any]
) -> None:
    with pytest.raises(InvalidRequest):
        await billing.record_usage(sessions, usage_for(user, **changes))
    assert await daily_rows(sessions, user) == []
