"""What notifies a user on its own, and their preferences for it.

* **Low balance** — after a settlement lowers a user's balance (``AlertWatcher.notify``, cheap
  and synchronous on the request path) the loop compares available credit with the user's
  threshold. ``notification_preferences.low_balance_armed`` makes it one alert per crossing:
  one conditional update disarms it as the alert is written, and only available credit back
  at or above the threshold (a top-up, checked from ``payments.apply`` in the same
  transaction as the credit) arms it again.
* **Key about to expire** — every round, keys expiring within ``KEY_EXPIRY_WARNING`` get one
  notification each, ever (``notification_once`` holds the claim).
* **Payment received** — written by ``payments.apply`` in the transaction that credits it
  (``payment_received_in``), so exactly once per payment.
* **E-mail copies** — each new notification of a user with copies on is mailed once (claimed
  in ``notification_once`` too, so replicas never both send it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from modelsnest.billing._db import upsert
from modelsnest.db.base import utcnow
from modelsnest.db.engine import SessionFactory
from modelsnest.db.models import (
    ApiToken,
    Notification,
    NotificationOnce,
    NotificationPreference,
    User,
    UserCredits,
)
from modelsnest.errors import InvalidRequest
from modelsnest.mail.message import is_absolute_url
from modelsnest.money import format_usd
from modelsnest.settings import DEFAULT_SITE_URL

log = logging.getLogger(__name__)

NANOS_PER_USD = 10**9
DEFAULT_LOW_BALANCE_NANOS = 5 * NANOS_PER_USD
MAX_LOW_BALANCE_NANOS = 1_000_000 * NANOS_PER_USD
DEFAULT_EMAIL_COPIES = True
KEY_EXPIRY_WARNING = timedelta(days=3)


@dataclass(frozen=True, slots=True)
class Preferences:
    low_balance_threshold_nanos: int  # 0: no low-balance alert
    email_copies: bool


DEFAULTS = Preferences(DEFAULT_LOW_BALANCE_NANOS, DEFAULT_EMAIL_COPIES)


async def get_preferences(sessions: SessionFactory, user_id: int) -> Preferences:
    async with sessions() as session:
        row = await session.get(NotificationPreference, user_id)
    if row is None:
        return DEFAULTS
    return Preferences(row.low_balance_threshold_nanos, row.email_copies)


async def set_preferences(
    sessions: SessionFactory, user_id: int, *, low_balance_threshold_nanos: int, email_copies: bool
) -> Preferences:
    """Save them; a new threshold is armed (the next check alerts if credit is already under it)."""
    if isinstance(low_balance_threshold_nanos, bool) or not isinstance(low_balance_threshold_nanos, int):
        raise TypeError("the threshold is integer nano-dollars")
    if not 0 <= low_balance_threshold_nanos <= MAX_LOW_BALANCE_NANOS:
        raise InvalidRequest(
            "the alert threshold must be from $0 (off) to $1,000,000", param="low_balance_threshold_usd"
        )
    async with sessions.begin() as session:
        row = await session.get(NotificationPreference, user_id, with_for_update=True)
        if row is None:
            row = NotificationPreference(user_id=user_id, low_balance_armed=True)
            session.add(row)
        if row.low_balance_threshold_nanos != low_balance_threshold_nanos:
            row.low_balance_armed = True
        row.low_balance_threshold_nanos = low_balance_threshold_nanos
        row.email_copies = email_copies
    return Preferences(low_balance_threshold_nanos, email_copies)


async def notify_in(
    session: AsyncSession, user_id: int, *, kind: str, title: str, body: str | None, link: str | None
) -> int:
    """A notification written inside the caller's transaction; returns its id."""
    row = Notification(
        user_id=user_id, kind=kind[:32], title=" ".join(title.split())[:200], body=body, link=link
    )
    session.add(row)
    await session.flush()
    return row.id


async def _ensure_preferences(session: AsyncSession, user_id: int) -> NotificationPreference:
    row = await session.get(NotificationPreference, user_id)
    if row is not None:
        return row
    await session.execute(
        upsert(session, _table(NotificationPreference))
        .values(
            user_id=user_id,
            low_balance_threshold_nanos=DEFAULTS.low_balance_threshold_nanos,
            email_copies=DEFAULTS.email_copies,
            low_balance_armed=True,
            updated_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["user_id"])
    )
    found = await session.get(NotificationPreference, user_id, populate_existing=True)
    assert found is not None
    return found


def _table(model: Any) -> Table:
    return cast(Table, model.__table__)


@dataclass(frozen=True, slots=True)
class AlertState:
    """What a check left behind: the threshold it used and whether the alert is armed (the next
    crossing will fire it). Armed with the balance at or above the threshold, or no threshold:
    a later charge that leaves the balance there has nothing to do."""

    threshold_nanos: int
    armed: bool

    def idle_at(self, balance_nanos: int) -> bool:
        return self.threshold_nanos <= 0 or (self.armed and balance_nanos >= self.threshold_nanos)


_NO_ALERT = AlertState(0, True)


async def check_low_balance_in(session: AsyncSession, user_id: int) -> int | None:
    """Arm or fire the user's low-balance alert; the new notification's id when it fired."""
    return (await _check_low_balance(session, user_id))[0]


async def _check_low_balance(session: AsyncSession, user_id: int) -> tuple[int | None, AlertState]:
    credits = await session.get(UserCredits, user_id, populate_existing=True)
    if credits is None:
        return None, _NO_ALERT
    prefs = await _ensure_preferences(session, user_id)
    threshold = prefs.low_balance_threshold_nanos
    if threshold <= 0:
        return None, _NO_ALERT
    available = credits.balance_nanos - credits.reserved_nanos
    table = NotificationPreference
    if available >= threshold:
        await session.execute(
            update(table)
            .where(table.user_id == user_id, table.low_balance_armed.is_(False))
            .values(low_balance_armed=True)
        )
        return None, AlertState(threshold, armed=True)
    fired = await session.execute(
        update(table)
        .where(table.user_id == user_id, table.low_balance_armed.is_(True))
        .values(low_balance_armed=False)
    )
    disarmed = AlertState(threshold, armed=False)
    if int(fired.rowcount) != 1:  # type: ignore[attr-defined]
        return None, disarmed  # already alerted for this crossing
    return await notify_in(
        session,
        user_id,
        kind="low_balance",
        title=f"Your balance is below {format_usd(threshold)}",
        body=(
            f"You have {format_usd(max(available, 0))} of credit available. Add credits so your "
            "requests keep working, or turn on auto-recharge."
        ),
        link="/dashboard/billing",
    ), disarmed


async def check_low_balance(sessions: SessionFactory, user_id: int) -> int | None:
    async with sessions.begin() as session:
        return await check_low_balance_in(session, user_id)


async def payment_received_in(
    session: AsyncSession, user_id: int, *, amount_nanos: int, provider: str
) -> int:
    """Called by ``payments.apply`` in the transaction that credits the payment."""
    label = {"stripe": "card", "paypal": "PayPal", "coinbase": "Coinbase"}.get(provider, provider)
    notification = await notify_in(
        session,
        user_id,
        kind="payment",
        title=f"Payment received: {format_usd(amount_nanos)} added to your credits",
        body=f"Your {label} payment was confirmed and the credits are ready to use. The invoice is on the billing page.",
        link="/dashboard/billing",
    )
    await check_low_balance_in(session, user_id)  # re-arms the alert when back above the threshold
    return notification


async def _claim(session: AsyncSession, key: str, user_id: int) -> bool:
    """Insert the once-only mark ``key``; False when it was already taken."""
    result = await session.execute(
        upsert(session, _table(NotificationOnce))
        .values(key=key, user_id=user_id, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["key"])
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


async def warn_expiring_keys(sessions: SessionFactory, *, now: datetime | None = None) -> list[int]:
    """One notification per active key that expires within ``KEY_EXPIRY_WARNING``, ever."""
    now = now or utcnow()
    query = select(ApiToken.id, ApiToken.user_id, ApiToken.name, ApiToken.expires_at).where(
        ApiToken.revoked_at.is_(None),
        ApiToken.expires_at.is_not(None),
        ApiToken.expires_at > now,
        ApiToken.expires_at <= now + KEY_EXPIRY_WARNING,
    )
    created: list[int] = []
    async with sessions() as session:
        due = (await session.execute(query)).all()
    for key_id, user_id, name, expires_at in due:
        async with sessions.begin() as session:
            if not await _claim(session, f"key-expiring:{key_id}", user_id):
                continue
            left = (expires_at or now) - now
            when = f"in {left.days} day{'s' if left.days != 1 else ''}" if left.days >= 1 else "within a day"
            created.append(
                await notify_in(
                    session,
                    user_id,
                    kind="key_expiring",
                    title=f"API key “{name}” expires {when}",
                    body="Requests with it will be refused once it expires. Create a new key and switch your app to it.",
                    link="/dashboard/keys",
                )
            )
    return created


class AlertWatcher:
    """The loop behind the automatic notifications (one per process; safe on many replicas)."""

    BATCH_SECONDS = 0.25
    KEY_CHECK_SECONDS = 600.0
    MAIL_BATCH = 100
    # How long a check's outcome spares the next charges of the same user a check of their own:
    # a threshold changed in the meantime (on any replica) is seen within this delay.
    STATE_SECONDS = 30.0
    STATES_KEPT = 10_000

    def __init__(
        self,
        sessions: SessionFactory,
        *,
        every_seconds: float = 30.0,
        mailer: Any | None = None,
        site_url: str = DEFAULT_SITE_URL,
    ) -> None:
        if not is_absolute_url(site_url):
            raise ValueError(f"links in e-mails need an absolute site URL, not {site_url!r}")
        self.sessions = sessions
        self.every_seconds = every_seconds
        self.mailer = mailer
        self.site_url = site_url.rstrip("/")
        self._pending: set[int] = set()
        self._wake = asyncio.Event()
        self._mail_cursor: int | None = None
        self._keys_checked_at: datetime | None = None
        self._states: dict[int, tuple[float, AlertState]] = {}

    def notify(self, user_id: int, balance_nanos: int | None = None) -> None:
        """Cheap and synchronous: a settlement lowered this user's balance (to ``balance_nanos``).
        Without a database check when the last one, recent, says there is nothing to do: a busy
        account is checked every ``STATE_SECONDS``, not after every request."""
        known = self._states.get(user_id)
        if (
            balance_nanos is not None
            and known is not None
            and time.monotonic() - known[0] < self.STATE_SECONDS
            and known[1].idle_at(balance_nanos)
        ):
            return
        self._pending.add(user_id)
        self._wake.set()

    async def round(self) -> None:
        if self._mail_cursor is None:  # start from now: never mail old notifications
            async with self.sessions() as session:
                latest = await session.scalar(
                    select(Notification.id).order_by(Notification.id.desc()).limit(1)
                )
            self._mail_cursor = int(latest or 0)
        users, self._pending = self._pending, set()
        for user_id in users:
            async with self.sessions.begin() as session:
                _, state = await _check_low_balance(session, user_id)
            self._states[user_id] = (time.monotonic(), state)
        if len(self._states) > self.STATES_KEPT:  # forget the accounts that went quiet
            horizon = time.monotonic() - self.STATE_SECONDS
            self._states = {user: known for user, known in self._states.items() if known[0] >= horizon}
        now = utcnow()
        if (
            self._keys_checked_at is None
            or (now - self._keys_checked_at).total_seconds() >= self.KEY_CHECK_SECONDS
        ):
            self._keys_checked_at = now
            await warn_expiring_keys(self.sessions, now=now)
        await self.send_copies()

    async def send_copies(self) -> int:
        """Mail each notification created since the last round to its user, if they want copies."""
        if self.mailer is None:
            return 0
        cursor = self._mail_cursor or 0
        async with self.sessions() as session:
            rows = (
                await session.execute(
                    select(Notification, User.email, NotificationPreference.email_copies)
                    .join(User, User.id == Notification.user_id)
                    .outerjoin(NotificationPreference, NotificationPreference.user_id == Notification.user_id)
                    .where(Notification.id > cursor)
                    .order_by(Notification.id)
                    .limit(self.MAIL_BATCH)
                )
            ).all()
        sent = 0
        for notification, email, copies in rows:
            self._mail_cursor = notification.id
            if not (DEFAULTS.email_copies if copies is None else copies):
                continue
            async with self.sessions.begin() as session:
                if not await _claim(session, f"mail:{notification.id}", notification.user_id):
                    continue
            self.mailer.send(
                "notification",
                to=email,
                title=notification.title,
                body=notification.body,
                url=f"{self.site_url}{notification.link}" if notification.link else None,
                preferences_url=f"{self.site_url}/dashboard/notifications#preferences",
                site_url=self.site_url,
            )
            sent += 1
        return sent

    async def run(self) -> None:
        while True:
            woken = False
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.every_seconds):
                    await self._wake.wait()
                woken = True
            if woken:
                await asyncio.sleep(self.BATCH_SECONDS)
            self._wake.clear()
            try:
                await self.round()
            except Exception:
                log.warning("notification alerts round failed", exc_info=True)
