"""The automatic notifications against the real database: a low balance alerts once per
crossing, a key about to expire once per key, a payment once when it is credited, and
e-mail copies follow the user's preference."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from modelsnest import billing, notifications
from modelsnest.app import build_services, close_services
from modelsnest.auth.api_keys import create_key
from modelsnest.auth.users import create_user
from modelsnest.db.base import utcnow
from modelsnest.errors import InvalidRequest
from modelsnest.mail import Mailer, OutboxTransport
from modelsnest.notifications import alerts
from modelsnest.runtime import Runtime
from tests.billing.helpers import usage_for
from tests.conftest import make_settings

USD = 10**9


async def _spend(runtime: Runtime, user_id: int, nanos: int) -> None:
    held = await billing.hold(
        runtime.sessions, user_id=user_id, amount_nanos=nanos, idempotency_key=uuid.uuid4().hex
    )
    await billing.settle(runtime.sessions, hold_id=held.hold_id, cost_nanos=nanos, usage=usage_for(user_id))


async def _top_up(runtime: Runtime, user_id: int, nanos: int) -> None:
    await billing.top_up(
        runtime.sessions, user_id=user_id, amount_nanos=nanos, idempotency_key=uuid.uuid4().hex
    )


async def _kinds(runtime: Runtime, user_id: int) -> list[str]:
    return [n.kind for n in await notifications.list_notifications(runtime.sessions, user_id)]


async def test_low_balance_alerts_once_per_crossing(runtime: Runtime) -> None:
    user = (await create_user(runtime.sessions, email="low@example.com", credits_nanos=10 * USD)).id
    assert (await alerts.get_preferences(runtime.sessions, user)).low_balance_threshold_nanos == 5 * USD

    await _spend(runtime, user, 4 * USD)  # $6 left: above the $5 threshold
    assert await alerts.check_low_balance(runtime.sessions, user) is None
    await _spend(runtime, user, 2 * USD)  # $4 left: crossed
    first = await alerts.check_low_balance(runtime.sessions, user)
    assert first is not None
    for _ in range(3):  # more spending, more checks: still the one alert
        await _spend(runtime, user, USD // 2)
        assert await alerts.check_low_balance(runtime.sessions, user) is None
    listed = await notifications.list_notifications(runtime.sessions, user)
    assert [(n.kind, n.title) for n in listed] == [("low_balance", "Your balance is below $5.00")]
    assert (
        listed[0].body is not None
        and "You have $4.00 of credit" in listed[0].body
        and listed[0].link == "/dashboard/billing"
    )

    await _top_up(runtime, user, 10 * USD)  # $12.50: back above, armed again
    assert await alerts.check_low_balance(runtime.sessions, user) is None
    await _spend(runtime, user, 8 * USD)  # $4.50: a second crossing, a second alert
    assert await alerts.check_low_balance(runtime.sessions, user) is not None
    assert await _kinds(runtime, user) == ["low_balance", "low_balance"]


async def test_checks_from_many_callers_at_once_alert_once(runtime: Runtime) -> None:
    import asyncio

    user = (await create_user(runtime.sessions, email="race@example.com", credits_nanos=3 * USD)).id
    results = await asyncio.gather(*(alerts.check_low_balance(runtime.sessions, user) for _ in range(8)))
    assert len([r for r in results if r is not None]) == 1
    assert await _kinds(runtime, user) == ["low_balance"]


async def test_the_threshold_is_the_users_and_zero_turns_it_off(runtime: Runtime) -> None:
    user = (await create_user(runtime.sessions, email="prefs@example.com", credits_nanos=30 * USD)).id
    await alerts.set_preferences(runtime.sessions, user, low_balance_threshold_nanos=0, email_copies=False)
    await _spend(runtime, user, 29 * USD)
    assert await alerts.check_low_balance(runtime.sessions, user) is None
    saved = await alerts.set_preferences(
        runtime.sessions, user, low_balance_threshold_nanos=2 * USD, email_copies=False
    )
    assert saved == alerts.Preferences(2 * USD, False)
    assert await alerts.check_low_balance(runtime.sessions, user) is not None  # $1 < $2
    notes = await notifications.list_notifications(runtime.sessions, user)
    assert notes[0].title == "Your balance is below $2.00"
    for bad in (-1, 1_000_001 * USD):
        with pytest.raises(InvalidRequest):
            await alerts.set_preferences(
                runtime.sessions, user, low_balance_threshold_nanos=bad, email_copies=True
            )


async def test_a_key_about_to_expire_is_announced_once(runtime: Runtime) -> None:
    user = (await create_user(runtime.sessions, email="keys@example.com")).id
    now = utcnow()
    await create_key(runtime.sessions, user_id=user, name="soon", expires_at=now + timedelta(days=2, hours=1))
    await create_key(runtime.sessions, user_id=user, name="later", expires_at=now + timedelta(days=30))
    await create_key(runtime.sessions, user_id=user, name="never")
    first = await alerts.warn_expiring_keys(runtime.sessions, now=now)
    again = await alerts.warn_expiring_keys(runtime.sessions, now=now + timedelta(hours=1))
    assert len(first) == 1 and again == []
    (note,) = await notifications.list_notifications(runtime.sessions, user)
    assert note.kind == "key_expiring" and note.title == "API key “soon” expires in 2 days"
    assert note.link == "/dashboard/keys"
    later = await alerts.warn_expiring_keys(runtime.sessions, now=now + timedelta(days=28))
    assert len(later) == 1  # "later" is now within three days


async def test_the_watcher_checks_notified_users_and_mails_copies_once(
    runtime: Runtime, tmp_path: Path
) -> None:
    outbox = OutboxTransport(tmp_path / "outbox")
    mailer = Mailer(outbox, "Modelsnest <noreply@modelsnest.test>")
    ann = (await create_user(runtime.sessions, email="ann@example.com", credits_nanos=6 * USD)).id
    bob = (await create_user(runtime.sessions, email="bob@example.com", credits_nanos=6 * USD)).id
    await alerts.set_preferences(
        runtime.sessions, bob, low_balance_threshold_nanos=5 * USD, email_copies=False
    )
    watcher = alerts.AlertWatcher(runtime.sessions, mailer=mailer, site_url="https://modelsnest.test/")
    await watcher.round()  # starts the mail cursor; nothing pending
    for user in (ann, bob):
        await _spend(runtime, user, 2 * USD)
        watcher.notify(user)
    await watcher.round()
    await watcher.round()
    await mailer.drain()
    assert await _kinds(runtime, ann) == ["low_balance"] and await _kinds(runtime, bob) == ["low_balance"]
    (mail,) = outbox.entries()
    assert (mail.to, mail.subject) == ("ann@example.com", "Your balance is below $5.00")
    assert (
        "https://modelsnest.test/dashboard/billing" in mail.text and "You have $4.00 of credit" in mail.text
    )
    # A second watcher (another replica) never mails the same notification again.
    other = alerts.AlertWatcher(runtime.sessions, mailer=mailer, site_url="https://modelsnest.test")
    other._mail_cursor = 0
    assert await other.send_copies() == 0


async def test_a_busy_account_is_checked_again_only_when_its_balance_nears_the_threshold(
    runtime: Runtime,
) -> None:
    """Every charge tells the watcher the balance after it; a recent check that left the alert
    armed above the threshold spares the next charges a database check of their own."""
    user = (await create_user(runtime.sessions, email="busy@example.com", credits_nanos=20 * USD)).id
    await alerts.set_preferences(
        runtime.sessions, user, low_balance_threshold_nanos=5 * USD, email_copies=False
    )
    watcher = alerts.AlertWatcher(runtime.sessions)
    watcher.notify(user, 19 * USD)
    assert watcher._pending == {user}, "the first charge of an account is always checked"
    await watcher.round()

    for balance in (18 * USD, 12 * USD, 5 * USD):  # still at or above the threshold: nothing to do
        watcher.notify(user, balance)
    assert watcher._pending == set()

    await _spend(runtime, user, 16 * USD)  # $4 left
    watcher.notify(user, 4 * USD)
    assert watcher._pending == {user}, "a charge below the threshold is checked at once"
    await watcher.round()
    assert await _kinds(runtime, user) == ["low_balance"]
    watcher.notify(user, 3 * USD)  # alerted for this crossing, not yet re-armed: checked again
    await watcher.round()
    assert await _kinds(runtime, user) == ["low_balance"], "one crossing alerts once"

    await _top_up(runtime, user, 10 * USD)  # $14: re-armed by the next check
    watcher.notify(user, 14 * USD)
    await watcher.round()
    watcher.notify(user, 13 * USD)
    assert watcher._pending == set()

    # A threshold raised on another replica is seen once the state is older than STATE_SECONDS.
    await alerts.set_preferences(
        runtime.sessions, user, low_balance_threshold_nanos=15 * USD, email_copies=False
    )
    watcher.STATE_SECONDS = 0.0
    watcher.notify(user, 13 * USD)
    await watcher.round()
    assert await _kinds(runtime, user) == ["low_balance", "low_balance"]


async def test_copies_link_absolutely_when_no_public_url_is_set(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With MODELSNEST_PUBLIC_URL unset the copies link to where ``serve`` listens (it says so
    in MODELSNEST_LISTEN_URL), never to a bare path a mail client cannot open."""
    monkeypatch.setenv("MODELSNEST_LISTEN_URL", "http://models.internal:8123")
    services = build_services(make_settings(database_url, tmp_path, public_url=None))
    try:
        ann = (await create_user(services.sessions, email="ann@example.com", credits_nanos=6 * USD)).id
        watcher = services.alerts
        await watcher.round()
        rt = Runtime(settings=services.settings, engine=services.engine, sessions=services.sessions)
        await _spend(rt, ann, 2 * USD)
        watcher.notify(ann)
        await watcher.round()
        await services.mailer.drain()
        (mail,) = OutboxTransport(tmp_path / "var" / "outbox").entries()
        assert "http://models.internal:8123/dashboard/billing" in mail.text
        assert "http://models.internal:8123/dashboard/notifications#preferences" in mail.text
        assert mail.html is not None and 'href="/' not in mail.html
    finally:
        await close_services(services)


def test_a_watcher_refuses_a_relative_site_url(runtime: Runtime) -> None:
    with pytest.raises(ValueError, match="absolute"):
        alerts.AlertWatcher(runtime.sessions, site_url="")
    with pytest.raises(ValueError, match="absolute"):
        alerts.AlertWatcher(runtime.sessions, site_url="/dashboard")
