"""Auto-recharge: save a card (Stripe Checkout in setup mode), set "below $X buy $Y", and the
off-session charge runs once per threshold crossing, however many settlements and replicas
race it; a declined card is recorded and blocks nothing."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from modelsnest import billing
from modelsnest.auth.caller import Caller
from modelsnest.errors import InvalidRequest, NotFound
from tests.billing.helpers import usage_for
from tests.payments.conftest import USD, Account, Shop


async def _with_card(shop: Shop, *, credits: int) -> tuple[Account, Caller]:
    buyer = await shop.account(credits=credits)
    caller = Caller.signed_in(buyer.user_id, "user")
    url = await shop.services.payments.start_card_setup(caller)
    session_id = url.rsplit("/", 1)[-1]
    assert shop.fakes.stripe.sessions[session_id]["mode"] == "setup"
    shop.fakes.stripe.complete_setup(session_id)
    saved = await shop.services.payments.finish_card_setup(caller, session_id)
    assert saved.has_card and saved.card_label == "visa •••• 4242" and not saved.enabled
    settings = await shop.services.payments.set_auto_recharge(
        caller, enabled=True, threshold_usd="5.00", amount_usd="20.00"
    )
    assert settings.enabled and settings.to_json()["threshold_usd"] == "5.00"
    return buyer, caller


async def _spend(shop: Shop, user_id: int, nanos: int) -> None:
    held = await billing.hold(
        shop.sessions, user_id=user_id, amount_nanos=nanos, idempotency_key=uuid.uuid4().hex
    )
    await billing.settle(shop.sessions, hold_id=held.hold_id, cost_nanos=nanos, usage=usage_for(user_id))


async def test_twenty_concurrent_settlements_crossing_the_threshold_make_one_charge(shop: Shop) -> None:
    buyer, _ = await _with_card(shop, credits=6 * USD)

    async def settle_and_check(i: int) -> None:
        await _spend(shop, buyer.user_id, USD // 10)
        await shop.replicas[i % 2].services.payments.check_auto_recharge(buyer.user_id)

    await asyncio.gather(*(settle_and_check(i) for i in range(20)))
    await asyncio.gather(*(r.services.payments.check_auto_recharge() for r in shop.replicas))

    assert shop.fakes.stripe.off_session_charges == 1
    assert await shop.balance(buyer) == 6 * USD - 2 * USD + 20 * USD
    listed = await shop.services.payments.list_payments(Caller.signed_in(buyer.user_id, "user"))
    assert [(p.kind, p.status, p.amount_usd) for p in listed] == [("auto_recharge", "completed", "20.00")]
    assert listed[0].invoice_number is not None
    await shop.assert_ledger_proves_it()


async def test_the_next_crossing_charges_again_once_the_balance_recovered(shop: Shop) -> None:
    buyer, _ = await _with_card(shop, credits=6 * USD)
    await _spend(shop, buyer.user_id, 2 * USD)
    assert await shop.services.payments.check_auto_recharge(buyer.user_id) == 1
    assert await shop.services.payments.check_auto_recharge(buyer.user_id) == 0  # re-armed, above threshold

    await _spend(shop, buyer.user_id, 20 * USD)  # 24 → 4: below again

    assert await shop.services.payments.check_auto_recharge(buyer.user_id) == 1
    assert shop.fakes.stripe.off_session_charges == 2
    assert await shop.balance(buyer) == 24 * USD
    await shop.assert_ledger_proves_it()


async def test_a_declined_card_is_recorded_and_blocks_nothing(shop: Shop) -> None:
    buyer, caller = await _with_card(shop, credits=6 * USD)
    shop.fakes.stripe.decline_off_session = True
    await _spend(shop, buyer.user_id, 2 * USD)

    assert await shop.services.payments.check_auto_recharge(buyer.user_id) == 1
    assert await shop.services.payments.check_auto_recharge(buyer.user_id) == 0  # not retried in a loop
    await _spend(shop, buyer.user_id, USD)  # the account still spends what it has

    settings = await shop.services.payments.auto_recharge(caller)
    assert settings.last_error is not None and "insufficient_funds" in settings.last_error
    listed = await shop.services.payments.list_payments(caller)
    assert [(p.kind, p.status) for p in listed] == [("auto_recharge", "failed")]
    assert await shop.balance(buyer) == 3 * USD
    await shop.assert_ledger_proves_it()


async def test_auto_recharge_needs_a_saved_card_and_sane_amounts(shop: Shop) -> None:
    buyer = await shop.account()
    caller = Caller.signed_in(buyer.user_id, "user")
    with pytest.raises(InvalidRequest) as no_card:
        await shop.services.payments.set_auto_recharge(
            caller, enabled=True, threshold_usd="5.00", amount_usd="20.00"
        )
    assert no_card.value.code == "NO_SAVED_CARD"
    _, caller = await _with_card(shop, credits=0)
    for threshold, amount in (("-1", "20.00"), ("5.00", "1.00"), ("5.00", "abc")):
        with pytest.raises(InvalidRequest):
            await shop.services.payments.set_auto_recharge(
                caller, enabled=True, threshold_usd=threshold, amount_usd=amount
            )


async def test_a_card_saved_while_buying_is_ready_for_auto_recharge(shop: Shop) -> None:
    buyer = await shop.account()
    created = await shop.checkout(buyer, "stripe", "10.00", save_card=True)
    session_id = (await shop.row(created["id"])).provider_checkout_id
    assert session_id is not None
    assert (
        shop.fakes.stripe.sessions[session_id]["payment_intent_data"]["setup_future_usage"] == "off_session"
    )
    shop.fakes.stripe.pay(session_id)
    await shop.client.get(shop.return_url("stripe", session_id))

    settings = await shop.services.payments.auto_recharge(Caller.signed_in(buyer.user_id, "user"))
    assert settings.has_card and not settings.enabled


async def test_a_notified_settlement_is_checked_by_the_background_loop_soon(shop: Shop) -> None:
    buyer, _ = await _with_card(shop, credits=6 * USD)
    recharger = shop.services.payments.recharger
    assert recharger.every_seconds == 3600.0  # only the notification can wake it in this test
    await _spend(shop, buyer.user_id, 2 * USD)

    shop.services.payments.notify_spent(buyer.user_id)
    for _ in range(100):
        if shop.fakes.stripe.off_session_charges:
            break
        await asyncio.sleep(0.05)

    assert shop.fakes.stripe.off_session_charges == 1
    for _ in range(100):
        if await shop.balance(buyer) == 24 * USD:
            break
        await asyncio.sleep(0.05)
    assert await shop.balance(buyer) == 24 * USD


async def test_a_card_saved_in_setup_mode_arrives_by_webhook_too(shop: Shop) -> None:
    buyer = await shop.account()
    caller = Caller.signed_in(buyer.user_id, "user")
    session_id = (await shop.services.payments.start_card_setup(caller)).rsplit("/", 1)[-1]
    session = shop.fakes.stripe.complete_setup(session_id)

    response = await shop.webhook(
        "stripe", shop.fakes.stripe.signed(shop.fakes.stripe.event("checkout.session.completed", session))
    )

    assert response.status_code == 200
    assert (await shop.services.payments.auto_recharge(caller)).has_card
    other = await shop.account()
    with pytest.raises(NotFound):  # someone else's setup session cannot be claimed
        await shop.services.payments.finish_card_setup(Caller.signed_in(other.user_id, "user"), session_id)


async def test_the_first_notified_round_loads_who_is_watched_so_others_cost_nothing_after(shop: Shop) -> None:
    """Under steady traffic the loop is always woken by notifications; the watched set must
    load anyway, or every charge of every account would be checked in the database."""
    buyer, _ = await _with_card(shop, credits=6 * USD)
    other = await shop.account()
    recharger = shop.services.payments.recharger
    recharger.notify(other.user_id)
    for _ in range(100):
        if recharger._watched is not None:
            break
        await asyncio.sleep(0.05)
    assert recharger._watched == {buyer.user_id}

    recharger.notify(other.user_id)
    assert other.user_id not in recharger._pending
