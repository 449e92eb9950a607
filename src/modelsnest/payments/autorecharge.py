"""Auto-recharge (Stripe): "when available credit falls below $X, buy $Y" with a saved card.

* The card is saved by a Checkout Session in setup mode (``start_card_setup`` →
  ``finish_card_setup``), or by a top-up with ``save_card`` (``setup_future_usage``).
* ``check`` finds accounts whose available credit is under their threshold with one indexed
  query (run by a background loop every few seconds, and on demand via ``notify`` after a
  settlement: never a query per request). Each charge needs the ``armed`` claim, flipped
  true → false by one guarded UPDATE, so however many replicas look at once, one threshold
  crossing makes at most one charge. The flag is re-armed once available credit is back at or
  above the threshold and no charge is in flight.
* The charge is an off-session PaymentIntent confirmed with the saved card; it is a
  ``payments`` row (kind ``auto_recharge``) credited through the same ``apply`` as any top-up.
  A failure is recorded (``last_error``, a warning in the log) and never blocks a request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
import uuid
from decimal import Decimal
from typing import Any, Final, cast

from sqlalchemy import Table, and_, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from modelsnest.auth.caller import Caller
from modelsnest.billing._db import credits, upsert
from modelsnest.db.base import utcnow
from modelsnest.db.models import AutoRecharge, User
from modelsnest.errors import InvalidRequest, ModelsnestError, NotFound
from modelsnest.payments.amounts import nanos_decimal, parse_amount_usd, usd_nanos
from modelsnest.payments.apply import EventRecord, apply, save_card_in
from modelsnest.payments.context import Context
from modelsnest.payments.providers.base import Observation, SavedCard
from modelsnest.payments.records import Lookup, payments, token_hash
from modelsnest.payments.types import OPEN_STATUSES, AutoRechargeView

log = logging.getLogger(__name__)
table = cast(Table, AutoRecharge.__table__)
DEFAULT_THRESHOLD_NANOS: Final = 5 * 10**9
DEFAULT_AMOUNT_NANOS: Final = 20 * 10**9


def _stripe(ctx: Context) -> Any:
    from modelsnest.payments.providers.stripe import StripeProvider

    provider = ctx.providers.get("stripe")
    if not isinstance(provider, StripeProvider):
        raise InvalidRequest(
            "auto-recharge needs Stripe, which is not configured", code="PROVIDER_NOT_CONFIGURED"
        )
    return provider


def _view(user_id: int, row: Any | None) -> AutoRechargeView:
    if row is None:
        return AutoRechargeView(
            user_id, False, DEFAULT_THRESHOLD_NANOS, DEFAULT_AMOUNT_NANOS, None, False, True, None, None
        )
    return AutoRechargeView(
        user_id=user_id,
        enabled=row.enabled,
        threshold_nanos=row.threshold_nanos,
        amount_nanos=row.amount_nanos,
        card_label=row.card_label,
        has_card=bool(row.stripe_payment_method_id),
        armed=row.armed,
        last_attempt_at=row.last_attempt_at,
        last_error=row.last_error,
    )


async def get_settings(ctx: Context, caller: Caller) -> AutoRechargeView:
    async with ctx.sessions() as session:
        row = (await session.execute(select(table).where(table.c.user_id == caller.user_id))).first()
    return _view(caller.user_id, row)


async def set_settings(
    ctx: Context, caller: Caller, *, enabled: bool, threshold_usd: object, amount_usd: object
) -> AutoRechargeView:
    """Enable (needs a saved card) or disable, with the threshold and the amount to buy."""
    if not isinstance(enabled, bool):
        raise InvalidRequest("enabled must be true or false", param="enabled")
    _stripe(ctx)
    amount = parse_amount_usd(amount_usd, minimum=ctx.config.min_usd, maximum=ctx.config.max_usd)
    try:
        threshold = parse_amount_usd(threshold_usd, minimum=Decimal("0.01"), maximum=ctx.config.max_usd)
    except InvalidRequest as exc:
        raise InvalidRequest(
            exc.message.replace("amount_usd", "threshold_usd"), code=exc.code, param="threshold_usd"
        ) from exc
    now = utcnow()
    async with ctx.sessions.begin() as session:
        row = (
            await session.execute(select(table).where(table.c.user_id == caller.user_id).with_for_update())
        ).first()
        if enabled and (row is None or not row.stripe_payment_method_id):
            raise InvalidRequest(
                "save a card first: auto-recharge charges a saved card", code="NO_SAVED_CARD"
            )
        values = {
            "enabled": enabled,
            "threshold_nanos": usd_nanos(threshold),
            "amount_nanos": usd_nanos(amount),
            "armed": True,
            "last_error": None,
            "updated_at": now,
        }
        await session.execute(
            upsert(session, table)
            .values(user_id=caller.user_id, created_at=now, **values)
            .on_conflict_do_update(index_elements=["user_id"], set_=values)
        )
    return await get_settings(ctx, caller)


async def stripe_customer_in(session: AsyncSession, user_id: int) -> str | None:
    return cast(
        str | None, await session.scalar(select(table.c.stripe_customer_id).where(table.c.user_id == user_id))
    )


async def _ensure_customer(ctx: Context, user_id: int) -> str:
    async with ctx.sessions() as session:
        customer = await stripe_customer_in(session, user_id)
        email = await session.scalar(select(User.email).where(User.id == user_id))
    if customer:
        return customer
    customer = str(
        await _stripe(ctx).ensure_customer(user_id=user_id, email=email, request_key=f"customer-{user_id}")
    )
    now = utcnow()
    async with ctx.sessions.begin() as session:
        await session.execute(
            upsert(session, table)
            .values(
                user_id=user_id,
                enabled=False,
                armed=True,
                threshold_nanos=DEFAULT_THRESHOLD_NANOS,
                amount_nanos=DEFAULT_AMOUNT_NANOS,
                stripe_customer_id=customer,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_update(
                index_elements=["user_id"], set_={"stripe_customer_id": customer, "updated_at": now}
            )
        )
    return customer


async def start_card_setup(ctx: Context, caller: Caller, *, request_base: str | None = None) -> str:
    """A Stripe Checkout (setup mode) URL where the user saves a card for auto-recharge."""
    customer = await _ensure_customer(ctx, caller.user_id)
    base = ctx.base_url(request_base)
    created = await _stripe(ctx).create_card_setup(
        customer_id=customer,
        user_id=caller.user_id,
        return_url=f"{base}/dashboard/billing/card/return",
        cancel_url=f"{base}/dashboard/billing",
        request_key=f"card-setup-{uuid.uuid4()}",
    )
    return str(created.url)


async def finish_card_setup(ctx: Context, caller: Caller, session_id: object) -> AutoRechargeView:
    """The user is back from the setup page: save the card if the session is theirs."""
    if not isinstance(session_id, str) or not session_id.startswith("cs_") or len(session_id) > 200:
        raise NotFound("no such card setup", code="CARD_SETUP_NOT_FOUND")
    await _save_from_session(ctx, session_id, expected_user=caller.user_id)
    return await get_settings(ctx, caller)


async def finish_card_setup_from_webhook(ctx: Context, event: dict[str, Any]) -> None:
    session = (event.get("data") or {}).get("object") or {}
    user = (session.get("metadata") or {}).get("user_id")
    if session.get("mode") == "setup" and isinstance(user, str) and user.isdigit():
        await _save_from_session(ctx, str(session.get("id")), expected_user=int(user))


async def _save_from_session(ctx: Context, session_id: str, *, expected_user: int) -> None:
    stripe = _stripe(ctx)
    data, card = await stripe.read_card_setup(session_id)
    async with ctx.sessions() as session:
        customer = await stripe_customer_in(session, expected_user)
    if (
        (data.get("metadata") or {}).get("user_id") != str(expected_user)
        or not customer
        or (card is not None and card.customer_id != customer)
    ):
        raise NotFound("no such card setup", code="CARD_SETUP_NOT_FOUND")
    if card is not None:
        async with ctx.sessions.begin() as session:
            await save_card_in(session, expected_user, card)


async def remove_card(ctx: Context, caller: Caller) -> AutoRechargeView:
    async with ctx.sessions.begin() as session:
        await session.execute(
            update(table)
            .where(table.c.user_id == caller.user_id)
            .values(enabled=False, stripe_payment_method_id=None, card_label=None, updated_at=utcnow())
        )
    return await get_settings(ctx, caller)


# -- the check ---------------------------------------------------------------------------------
def _available() -> Any:
    return credits.c.balance_nanos - credits.c.reserved_nanos


def _in_flight(a: Table) -> Any:
    return exists().where(
        payments.c.user_id == a.c.user_id,
        payments.c.kind == "auto_recharge",
        payments.c.status.in_(OPEN_STATUSES),
    )


async def watched_users(ctx: Context) -> set[int]:
    """Users with auto-recharge on and a saved card: the only ones a charge may concern."""
    if "stripe" not in ctx.providers:
        return set()
    a = table.c
    async with ctx.sessions() as session:
        rows = await session.execute(
            select(a.user_id).where(a.enabled.is_(True), a.stripe_payment_method_id.is_not(None))
        )
        return set(rows.scalars())


async def check(ctx: Context, *, user_id: int | None = None) -> int:
    """Re-arm recovered accounts, then charge each armed account below its threshold once.
    Returns how many charges were started."""
    if "stripe" not in ctx.providers:
        return 0
    a = table.c
    now = utcnow()
    async with ctx.sessions.begin() as session:
        above = select(credits.c.user_id).where(
            credits.c.user_id == a.user_id, _available() >= a.threshold_nanos
        )
        rearm = update(table).where(
            a.armed.is_(False), a.enabled.is_(True), exists(above), ~_in_flight(table)
        )
        if user_id is not None:
            rearm = rearm.where(a.user_id == user_id)
        await session.execute(rearm.values(armed=True, updated_at=now))
    statement = (
        select(a.user_id)
        .select_from(table.join(credits, credits.c.user_id == a.user_id))
        .where(
            a.enabled.is_(True),
            a.armed.is_(True),
            a.stripe_payment_method_id.is_not(None),
            _available() < a.threshold_nanos,
        )
    )
    if user_id is not None:
        statement = statement.where(a.user_id == user_id)
    async with ctx.sessions() as session:
        due = list((await session.execute(statement)).scalars())
    started = 0
    for user in due:
        row = await _claim(ctx, user)
        if row is not None:
            started += 1
            await _charge(ctx, row)
    return started


async def _claim(ctx: Context, user_id: int) -> dict[str, Any] | None:
    """The once-per-crossing claim, and the payment row it will charge, in one transaction."""
    a = table.c
    now = utcnow()
    below = select(credits.c.user_id).where(credits.c.user_id == a.user_id, _available() < a.threshold_nanos)
    async with ctx.sessions.begin() as session:
        claimed = (
            await session.execute(
                update(table)
                .where(
                    and_(
                        a.user_id == user_id,
                        a.armed.is_(True),
                        a.enabled.is_(True),
                        a.stripe_payment_method_id.is_not(None),
                        # Checked again here, not only in the due query: another check may have
                        # charged and re-armed since that query read the balance.
                        exists(below),
                    )
                )
                .values(armed=False, last_attempt_at=now, updated_at=now)
                .returning(a.amount_nanos, a.stripe_customer_id, a.stripe_payment_method_id, a.card_label)
            )
        ).first()
        if claimed is None:
            return None
        public_id = f"pay_{secrets.token_hex(12)}"
        values = {
            "public_id": public_id,
            "user_id": user_id,
            "provider": "stripe",
            "kind": "auto_recharge",
            "status": "created",
            "amount_nanos": claimed.amount_nanos,
            "currency": "USD",
            "request_key": str(uuid.uuid4()),
            "return_token_hash": token_hash(secrets.token_urlsafe(16)),
            "save_card": False,
            "refunded_nanos": 0,
            "created_at": now,
            "updated_at": now,
        }
        payment_id = (
            await session.execute(payments.insert().values(**values).returning(payments.c.id))
        ).scalar_one()
        await session.execute(update(table).where(a.user_id == user_id).values(last_payment_id=payment_id))
    card = SavedCard(claimed.stripe_customer_id, claimed.stripe_payment_method_id, claimed.card_label)
    return {**values, "card": card}


async def _charge(ctx: Context, row: dict[str, Any]) -> str:
    stripe = _stripe(ctx)
    try:
        observation = await stripe.charge_saved_card(
            card=row["card"],
            amount=nanos_decimal(row["amount_nanos"]),
            currency="USD",
            reference=row["public_id"],
            user_id=row["user_id"],
            request_key=row["request_key"],
        )
    except ModelsnestError as exc:
        # Unknown outcome (timeout) or a refusal: the reconciler retries with the same key.
        log.warning("auto-recharge charge %s for user %s: %s", row["public_id"], row["user_id"], exc.message)
        return "unchanged"
    return await _record_charge(ctx, row["public_id"], observation)


async def _record_charge(ctx: Context, public_id: str, observation: Observation) -> str:
    import orjson

    intent = observation.payment_id
    if intent:
        async with ctx.sessions.begin() as session:
            await session.execute(
                payments.update()
                .where(payments.c.public_id == public_id, payments.c.provider_checkout_id.is_(None))
                .values(provider_checkout_id=intent, updated_at=utcnow())
            )
    record = EventRecord(
        provider="stripe",
        event_id=f"charge:{intent or public_id}:{observation.state}",
        event_type=f"charge.{observation.state}",
        source="api",
        body=orjson.dumps(observation.raw or {}, default=str).decode(),
    )
    result = await apply(
        ctx.sessions,
        record,
        Lookup(reference=public_id, checkout_id=intent),
        observation,
        seller=ctx.config.seller,
    )
    return result.outcome


async def retry_charge(ctx: Context, row: dict[str, Any]) -> str:
    """The reconciler: an auto-recharge whose charge call never answered is tried again with
    the same idempotency key (Stripe answers with the first attempt's result)."""
    async with ctx.sessions() as session:
        card_row = (await session.execute(select(table).where(table.c.user_id == row["user_id"]))).first()
    if card_row is None or not card_row.stripe_payment_method_id:
        observation = Observation("failed", reason="the saved card was removed")
        return await _record_charge(ctx, str(row["public_id"]), observation)
    card = SavedCard(card_row.stripe_customer_id, card_row.stripe_payment_method_id, card_row.card_label)
    return await _charge(ctx, {**row, "card": card})


class AutoRecharger:
    """The background check: every ``every_seconds``, or sooner after ``notify(user_id)``.

    ``notify`` runs after every charge on the request path, so it must cost nothing: it only
    remembers users who have auto-recharge on (the set is reloaded each round; a user who
    turns it on in another replica is covered by the full round within ``every_seconds``), and
    wakes the loop, which waits a moment so a burst of charges is checked once."""

    BATCH_SECONDS = 0.25

    def __init__(self, ctx: Context, *, every_seconds: float) -> None:
        self.ctx = ctx
        self.every_seconds = every_seconds
        self._pending: set[int] = set()
        self._watched: set[int] | None = None  # None until the first round: watch everyone
        self._wake = asyncio.Event()

    def watch(self, user_id: int) -> None:
        if self._watched is not None:
            self._watched.add(user_id)

    def notify(self, user_id: int) -> None:
        """Cheap and synchronous: a settlement lowered this user's balance (checked soon)."""
        if self._watched is not None and user_id not in self._watched:
            return
        self._pending.add(user_id)
        self._wake.set()

    async def run(self) -> None:
        # The full round is due every ``every_seconds`` even while notifications keep waking
        # the loop: under steady traffic the timeout alone would never fire, and the watched
        # set (None: everyone) would never be loaded.
        full_round_at = time.monotonic() + self.every_seconds
        while True:
            woken = False
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that
            # lands as the event fires, and the loop would then outlive its shutdown.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.0, full_round_at - time.monotonic())):
                    await self._wake.wait()
                woken = True
            if woken:
                await asyncio.sleep(self.BATCH_SECONDS)
            self._wake.clear()
            users, self._pending = self._pending, set()
            full = not woken or time.monotonic() >= full_round_at or self._watched is None
            try:
                for user_id in users:
                    await check(self.ctx, user_id=user_id)
                if full:
                    full_round_at = time.monotonic() + self.every_seconds
                    await check(self.ctx)
                    self._watched = await watched_users(self.ctx)
            except Exception:
                log.warning("auto-recharge check failed", exc_info=True)
