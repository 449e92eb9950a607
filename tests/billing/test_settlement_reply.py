"""``settle(reply=StoredReply)``: the answer to an ``Idempotency-Key`` request is stored in the
transaction that charges it, so a retry finds the answer or finds nothing charged
(billing/settlement.py and the hot ledger; both paths, both databases)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from modelsnest import billing
from modelsnest.billing.hot import HotLedger, ReferenceLedger, create_hot_ledger
from modelsnest.errors import Conflict, InvalidRequest
from modelsnest.runtime import Runtime
from tests.billing.helpers import (
    USD,
    MakeApiToken,
    MakeUser,
    claim_record,
    hold_row,
    idempotency_record,
    new_key,
    usage_for,
)

AUDIO = bytes(range(256)) * 800  # binary, NUL bytes included, 200 KiB
HEADERS = {"x-modelsnest-provider": "simulator", "x-modelsnest-cost-usd": "0.000012345"}


@pytest.fixture
async def hot(runtime: Runtime) -> AsyncIterator[HotLedger]:
    ledger = create_hot_ledger(runtime.settings.async_database_url, runtime.sessions, pool_size=2)
    yield ledger
    await ledger.close()


@pytest.fixture(params=["hot", "reference"])
def ledger(request: pytest.FixtureRequest, runtime: Runtime, hot: HotLedger) -> HotLedger:
    return hot if request.param == "hot" else ReferenceLedger(runtime.sessions)


@pytest.fixture
async def account(runtime: Runtime, make_user: MakeUser, make_api_token: MakeApiToken) -> tuple[int, int]:
    user = await make_user(runtime.sessions)
    token = await make_api_token(runtime.sessions, user)
    await billing.top_up(runtime.sessions, user_id=user, amount_nanos=USD, idempotency_key=new_key())
    return user, token


async def held(ledger: HotLedger, user: int, token: int, amount: int = 100_000) -> str:
    result = await ledger.hold(
        user_id=user, amount_nanos=amount, idempotency_key=new_key(), api_token_id=token
    )
    return result.hold_id


def stored(record: Any) -> tuple[Any, ...]:
    return (
        record.status,
        record.response_status,
        record.response_body,
        record.response_media_type,
        record.response_headers,
    )


async def test_the_answer_is_stored_with_the_charge(
    runtime: Runtime, ledger: HotLedger, account: tuple[int, int]
) -> None:
    user, token = account
    record_id = await claim_record(runtime.sessions, token)
    hold_id = await held(ledger, user, token)

    result = await ledger.settle(
        hold_id=hold_id,
        cost_nanos=12_345,
        usage=usage_for(user, token),
        reply=billing.StoredReply(record_id, 200, AUDIO, "audio/mpeg", HEADERS),
    )

    assert (result.charged_nanos, result.replayed) == (12_345, False)
    record = await idempotency_record(runtime.sessions, record_id)
    assert stored(record) == ("completed", 200, AUDIO, "audio/mpeg", HEADERS)
    assert (await hold_row(runtime.sessions, hold_id)).status == "settled"
    assert await billing.verify_invariants(runtime.sessions, user) == []


@pytest.mark.parametrize("cost", [0, 150_000], ids=["free", "above-the-hold"])
async def test_the_answer_is_stored_on_every_kind_of_settlement(
    runtime: Runtime, ledger: HotLedger, account: tuple[int, int], cost: int
) -> None:
    """A zero charge (no ledger row) and a cost above the hold (the hot ledger hands it over)."""
    user, token = account
    record_id = await claim_record(runtime.sessions, token)
    hold_id = await held(ledger, user, token)
    reply = billing.StoredReply(record_id, 201, b'{"ok":true}', "application/json", {})

    result = await ledger.settle(hold_id=hold_id, cost_nanos=cost, usage=usage_for(user, token), reply=reply)

    assert result.charged_nanos == cost
    record = await idempotency_record(runtime.sessions, record_id)
    assert stored(record) == ("completed", 201, b'{"ok":true}', "application/json", {})


async def test_a_replayed_settle_keeps_the_first_answer(
    runtime: Runtime, ledger: HotLedger, account: tuple[int, int]
) -> None:
    user, token = account
    record_id = await claim_record(runtime.sessions, token)
    hold_id = await held(ledger, user, token)
    usage = usage_for(user, token)
    first = billing.StoredReply(record_id, 200, b"first", "text/plain", {"n": "1"})
    await ledger.settle(hold_id=hold_id, cost_nanos=5_000, usage=usage, reply=first)

    again = await ledger.settle(
        hold_id=hold_id,
        cost_nanos=9_000,
        usage=usage,
        reply=billing.StoredReply(record_id, 500, b"second", "text/html", {"n": "2"}),
    )

    assert (again.replayed, again.charged_nanos) == (True, 5_000)
    record = await idempotency_record(runtime.sessions, record_id)
    assert stored(record) == ("completed", 200, b"first", "text/plain", {"n": "1"})


async def test_a_settlement_that_fails_stores_no_answer_and_charges_nothing(
    runtime: Runtime, ledger: HotLedger, account: tuple[int, int]
) -> None:
    """The usage row is written after the answer: its failure (the request id is already
    logged) takes the answer back with the charge. A retry finds nothing charged."""
    user, token = account
    taken = usage_for(user, token)
    await billing.record_usage(runtime.sessions, taken)
    record_id = await claim_record(runtime.sessions, token)
    hold_id = await held(ledger, user, token)
    reply = billing.StoredReply(record_id, 200, b"answer", "application/json", HEADERS)

    with pytest.raises(Conflict):
        await ledger.settle(hold_id=hold_id, cost_nanos=5_000, usage=taken, reply=reply)

    assert stored(await idempotency_record(runtime.sessions, record_id)) == (
        "pending",
        None,
        None,
        None,
        None,
    )
    assert (await hold_row(runtime.sessions, hold_id)).status == "active"
    assert await billing.get_balance(runtime.sessions, user) == billing.Balance(user, USD, 100_000)


async def test_settling_a_released_hold_stores_no_answer(
    runtime: Runtime, ledger: HotLedger, account: tuple[int, int]
) -> None:
    user, token = account
    record_id = await claim_record(runtime.sessions, token)
    hold_id = await held(ledger, user, token)
    await ledger.release(hold_id=hold_id)

    with pytest.raises(Conflict):
        await ledger.settle(
            hold_id=hold_id,
            cost_nanos=1,
            usage=usage_for(user, token),
            reply=billing.StoredReply(record_id, 200, b"x", "text/plain", {}),
        )
    assert (await idempotency_record(runtime.sessions, record_id)).status == "pending"


async def test_only_a_pending_record_of_the_same_key_receives_the_answer(
    runtime: Runtime, ledger: HotLedger, account: tuple[int, int], make_api_token: MakeApiToken
) -> None:
    """Another key's record would replay this answer to someone else's retries; a completed
    record keeps its answer. The settlement itself goes through either way."""
    user, token = account
    other_key_record = await claim_record(runtime.sessions, await make_api_token(runtime.sessions, user))
    completed = await claim_record(runtime.sessions, token)
    first = await held(ledger, user, token)
    done = billing.StoredReply(completed, 200, b"kept", "text/plain", {})
    await ledger.settle(hold_id=first, cost_nanos=10, usage=usage_for(user, token), reply=done)

    for record_id in (other_key_record, completed):
        hold_id = await held(ledger, user, token)
        reply = billing.StoredReply(record_id, 500, b"new", "text/html", {"x": "y"})
        result = await ledger.settle(
            hold_id=hold_id, cost_nanos=10, usage=usage_for(user, token), reply=reply
        )
        assert (result.replayed, result.charged_nanos) == (False, 10)

    assert stored(await idempotency_record(runtime.sessions, other_key_record)) == (
        "pending",
        None,
        None,
        None,
        None,
    )
    assert stored(await idempotency_record(runtime.sessions, completed)) == (
        "completed",
        200,
        b"kept",
        "text/plain",
        {},
    )
    assert await billing.verify_invariants(runtime.sessions, user) == []


@pytest.mark.parametrize(
    ("changes", "token"),
    [
        ({}, False),  # a keyless call has no idempotency record
        ({"record_id": 0}, True),
        ({"status": 99}, True),
        ({"status": 600}, True),
        ({"status": True}, True),
        ({"body": "text, not bytes"}, True),
        ({"media_type": ""}, True),
        ({"media_type": "a/" + "b" * 99}, True),
        ({"headers": {"x": 1}}, True),
        ({"headers": [("x", "y")]}, True),
    ],
)
async def test_a_malformed_reply_is_refused_before_anything_is_written(
    runtime: Runtime, ledger: HotLedger, account: tuple[int, int], changes: dict[str, Any], token: bool
) -> None:
    user, api_token = account
    record_id = await claim_record(runtime.sessions, api_token)
    hold_id = await held(ledger, user, api_token)
    values: dict[str, Any] = {
        "record_id": record_id,
        "status": 200,
        "body": b"{}",
        "media_type": "application/json",
        "headers": {},
        **changes,
    }

    with pytest.raises(InvalidRequest):
        await ledger.settle(
            hold_id=hold_id,
            cost_nanos=10,
            usage=usage_for(user, api_token if token else None),
            reply=billing.StoredReply(**values),
        )
    assert (await hold_row(runtime.sessions, hold_id)).status == "active"
    assert (await idempotency_record(runtime.sessions, record_id)).status == "pending"
