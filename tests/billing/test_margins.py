"""Margins from the daily rollups: both ledger paths sum the upstream cost and the charge of
uncosted requests per (day, user, key, model, provider), so margins are exact integers."""

from __future__ import annotations

from datetime import timedelta

import pytest

from modelsnest import billing
from modelsnest.billing.hot import ReferenceLedger, create_hot_ledger
from modelsnest.billing.margins import MarginRow, margin_totals, margins
from modelsnest.db.base import utcnow
from modelsnest.errors import InvalidRequest
from modelsnest.runtime import Runtime
from tests.billing.helpers import USD, MakeUser, new_key, usage_for


@pytest.mark.parametrize("path", ["hot", "reference"])
async def test_margins_per_model_provider_and_user(runtime: Runtime, make_user: MakeUser, path: str) -> None:
    sessions = runtime.sessions
    hot = create_hot_ledger(runtime.settings.async_database_url, sessions, pool_size=2)
    ledger = hot if path == "hot" else ReferenceLedger(sessions)
    users = [await make_user(sessions), await make_user(sessions)]
    for user in users:
        await billing.top_up(sessions, user_id=user, amount_nanos=USD, idempotency_key=new_key())
    # (user, model, provider, charged, upstream cost or None)
    calls = [
        (0, "m-a", "p-1", 1_000, 700),
        (0, "m-a", "p-1", 2_001, 1_999),
        (1, "m-a", "p-2", 500, None),  # a route without a cost price
        (1, "m-b", "p-1", 300, 350),  # sold below cost
        (0, "m-b", None, 0, None),  # refused before any provider answered
    ]
    try:
        for user, model, provider, charged, upstream in calls:
            hold = await ledger.hold(user_id=users[user], amount_nanos=5_000, idempotency_key=new_key())
            usage = usage_for(
                users[user], model_slug=model, provider_name=provider, upstream_cost_nanos=upstream
            )
            if provider is None:
                await ledger.release(hold_id=hold.hold_id, usage=usage)
            else:
                await ledger.settle(hold_id=hold.hold_id, cost_nanos=charged, usage=usage)
    finally:
        await hot.close()
    today = utcnow().date()
    span = {"start": today - timedelta(days=1), "end": today}

    def figures(rows: list[MarginRow]) -> dict[object, tuple[int, int, int, int, int]]:
        return {
            r.key: (r.requests, r.charged_nanos, r.upstream_cost_nanos, r.uncosted_nanos, r.margin_nanos)
            for r in rows
        }

    assert figures(await margins(sessions, by="model", **span)) == {
        "m-a": (3, 3_501, 2_699, 500, 302),
        "m-b": (2, 300, 350, 0, -50),
    }
    assert figures(await margins(sessions, by="provider", **span)) == {
        "p-1": (3, 3_301, 3_049, 0, 252),
        "p-2": (1, 500, 0, 500, 0),
        "": (1, 0, 0, 0, 0),
    }
    assert figures(await margins(sessions, by="user", **span)) == {
        users[0]: (3, 3_001, 2_699, 0, 302),
        users[1]: (2, 800, 350, 500, -50),
    }
    total = await margin_totals(sessions, **span)
    assert (total.charged_nanos, total.upstream_cost_nanos, total.margin_nanos) == (3_801, 3_049, 252)
    assert (
        await margin_totals(sessions, start=today + timedelta(days=1), end=today + timedelta(days=2))
    ).requests == 0
    with pytest.raises(InvalidRequest):
        await margins(sessions, by="model", start=today, end=today - timedelta(days=1))
    with pytest.raises(InvalidRequest):
        await margins(sessions, by="planet", **span)  # type: ignore[arg-type]
