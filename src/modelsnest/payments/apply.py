"""Applying what a provider says about a payment: the one place where a payment is credited,
refunded or closed.

Everything one observation causes is ONE database transaction: the raw event row (unique on
(provider, event id), so a replay finds its twin and does nothing), the payment's status
change (on the locked row, guarded by its current status), the ledger row (idempotency key
``payment:<provider>:<provider payment id>``, or ``refund:…``), and the invoice number. So a
payment credits exactly once whether the news comes from the return URL, a webhook, a
replayed webhook or the reconciler, in any order, concurrently, on any number of replicas.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, update
from sqlalchemy.ext.asyncio import AsyncSession

from modelsnest import billing
from modelsnest.billing._db import KeyTaken, json_value, upsert
from modelsnest.db.base import utcnow
from modelsnest.db.engine import SessionFactory
from modelsnest.notifications import alerts
from modelsnest.payments import invoices as invoicing
from modelsnest.payments.amounts import usd_nanos, usd_text
from modelsnest.payments.providers.base import Observation, Refund, SavedCard
from modelsnest.payments.records import Lookup, disagreement, events, lock_payment, payments, read_view
from modelsnest.payments.types import CREDITED_STATUSES, OPEN_STATUSES, PaymentView

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EventRecord:
    provider: str
    event_id: str
    event_type: str
    source: str  # webhook | return | reconcile | api
    body: str


@dataclass(frozen=True)
class Applied:
    # credited | refunded | pending | failed | expired | cancelled | unchanged | duplicate |
    # unknown_payment | mismatch
    outcome: str
    payment: PaymentView | None = None
    transaction_id: int | None = None
    detail: str | None = None


def credit_key(provider: str, payment_id: str) -> str:
    return f"payment:{provider}:{payment_id}"


async def apply(
    sessions: SessionFactory,
    record: EventRecord,
    lookup: Lookup,
    observation: Observation | None,
    *,
    seller: dict[str, Any],
) -> Applied:
    """Store the event and apply the observation (None: store only). Safe to call twice."""
    for attempt in range(3):
        try:
            async with sessions.begin() as session:
                return await _apply_in(session, record, lookup, observation, seller=seller)
        except KeyTaken:
            # A concurrent transaction committed the same ledger key first; ours rolled back.
            # Running again replays it (and then sees the payment already credited).
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


async def _apply_in(
    session: AsyncSession,
    record: EventRecord,
    lookup: Lookup,
    observation: Observation | None,
    *,
    seller: dict[str, Any],
) -> Applied:
    row = await lock_payment(session, record.provider, lookup)
    event_id = await _store_event(session, record, row.id if row is not None else None)
    if event_id is None:
        return Applied("duplicate", await read_view(session, row.public_id) if row is not None else None)
    if row is None:
        result = Applied("unknown_payment", detail="no payment matches the provider's ids")
    elif (problem := disagreement(row, lookup)) is not None:
        log.error("payment %s: %s (event %s %s)", row.public_id, problem, record.provider, record.event_id)
        result = Applied("mismatch", detail=problem)
    elif observation is None:
        result = Applied("unchanged", detail="nothing to apply")
    else:
        result = await _decide(session, row, observation, record, seller=seller)
    await session.execute(
        update(events)
        .where(events.c.id == event_id)
        .values(outcome=result.outcome, detail=result.detail, transaction_id=result.transaction_id)
    )
    view = await read_view(session, row.public_id) if row is not None else None
    return Applied(result.outcome, view, result.transaction_id, result.detail)


async def _store_event(session: AsyncSession, record: EventRecord, payment_id: int | None) -> int | None:
    statement = (
        upsert(session, events)
        .values(
            provider=record.provider,
            event_id=record.event_id[:200],
            event_type=record.event_type[:80],
            source=record.source,
            payment_id=payment_id,
            outcome="received",
            body=record.body,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["provider", "event_id"])
        .returning(events.c.id)
    )
    inserted = (await session.execute(statement)).scalar()
    return int(inserted) if inserted is not None else None


def _mismatch(row: Row[Any], observation: Observation) -> str | None:
    if observation.amount is None or not observation.currency:
        return "the provider did not report the amount and currency taken"
    if observation.currency.upper() != row.currency.upper():
        return (
            f"currency mismatch: the provider took {observation.currency}, the payment is in {row.currency}"
        )
    try:
        taken = usd_nanos(observation.amount)
    except ValueError:
        taken = -1
    if taken != row.amount_nanos:
        return f"amount mismatch: the provider took {observation.amount}, the payment is {usd_text(row.amount_nanos)}"
    if not observation.payment_id:
        return "the provider did not name the payment it took"
    return None


async def _set(session: AsyncSession, row: Row[Any], **values: Any) -> None:
    values.setdefault("updated_at", utcnow())
    await session.execute(update(payments).where(payments.c.id == row.id).values(**values))


async def _decide(
    session: AsyncSession,
    row: Row[Any],
    observation: Observation,
    record: EventRecord,
    *,
    seller: dict[str, Any],
) -> Applied:
    now = utcnow()
    raw = json_value(observation.raw or None)
    if observation.state != "paid":
        if row.status not in OPEN_STATUSES:
            return Applied("unchanged", detail=f"payment is {row.status}; ignoring {observation.state}")
        if observation.state == "open":
            return Applied("unchanged", detail="the payer has not paid yet")
        if observation.state == "pending":
            if row.status != "pending":
                await _set(session, row, status="pending", raw=raw)
            return Applied("pending", detail=observation.reason)
        await _set(session, row, status=observation.state, failure_reason=observation.reason, raw=raw)
        if row.kind == "auto_recharge":
            await _note_recharge_failure(session, row.user_id, observation.reason, now)
        return Applied(observation.state, detail=observation.reason)

    transaction_id = None
    outcome = "unchanged"
    credited = row.status in CREDITED_STATUSES
    if not credited:
        problem = _mismatch(row, observation)
        if problem is not None:
            log.error("payment %s not credited: %s", row.public_id, problem)
            values: dict[str, Any] = {"failure_reason": problem, "raw": raw}
            if row.status in OPEN_STATUSES:
                values["status"] = "failed"
            await _set(session, row, **values)
            return Applied("mismatch", detail=problem)
        assert observation.payment_id is not None
        result = await billing.top_up_in(
            session,
            user_id=row.user_id,
            amount_nanos=row.amount_nanos,
            idempotency_key=credit_key(row.provider, observation.payment_id),
            reference_type="payment",
            reference_id=row.public_id,
            description=f"Top-up via {row.provider} ({row.public_id})",
            actor=row.provider,
        )
        transaction_id = result.transaction_id
        await _set(
            session,
            row,
            status="completed",
            provider_payment_id=observation.payment_id,
            credited_transaction_id=result.transaction_id,
            completed_at=now,
            failure_reason=None,
            raw=raw,
        )
        await invoicing.issue_in(
            session,
            payment_id=row.id,
            user_id=row.user_id,
            provider=row.provider,
            amount_nanos=row.amount_nanos,
            now=now,
            seller=seller,
        )
        await alerts.payment_received_in(
            session, row.user_id, amount_nanos=row.amount_nanos, provider=row.provider
        )
        outcome = "credited"
        row = (await lock_payment(session, row.provider, Lookup(reference=row.public_id))) or row
    if observation.card is not None and (row.save_card or row.kind == "auto_recharge"):
        await save_card_in(session, row.user_id, observation.card)
    if observation.refund is not None:
        refunded = await _refund(session, row, observation.refund, observation.payment_id, now)
        if refunded is not None:
            return Applied("refunded" if outcome == "unchanged" else outcome, transaction_id=refunded)
    return Applied(
        outcome,
        transaction_id=transaction_id,
        detail=None if outcome == "credited" else f"payment is already {row.status}",
    )


async def _refund(
    session: AsyncSession, row: Row[Any], refund: Refund, payment_id: str | None, now: datetime
) -> int | None:
    """Take back what the provider newly refunded; the ledger row id, or None if nothing new."""
    if refund.currency and refund.currency.upper() != row.currency.upper():
        log.error(
            "payment %s: refund in %s ignored (payment in %s)", row.public_id, refund.currency, row.currency
        )
        return None
    if refund.total is not None:
        total = min(usd_nanos(refund.total), row.amount_nanos)
        amount = total - row.refunded_nanos
        key = f"refund:{row.provider}:{payment_id or row.public_id}:{total}"
    elif refund.amount is not None and refund.refund_id:
        amount = min(usd_nanos(refund.amount), row.amount_nanos - row.refunded_nanos)
        key = f"refund:{row.provider}:{refund.refund_id}"
    else:
        return None
    if amount <= 0:
        return None
    result = await billing.refund_in(
        session,
        user_id=row.user_id,
        amount_nanos=amount,
        payment_id=row.public_id,
        idempotency_key=key,
        description=f"Refund via {row.provider} ({row.public_id})",
        actor=row.provider,
    )
    if result.replayed:
        return None
    refunded = row.refunded_nanos + amount
    await _set(
        session,
        row,
        refunded_nanos=refunded,
        refunded_at=now,
        status="refunded" if refunded >= row.amount_nanos else "partially_refunded",
    )
    return result.transaction_id


async def refund_in(
    session: AsyncSession, row: Row[Any], refund: Refund, payment_id: str | None, now: datetime
) -> int | None:
    """The refund webhook's path, for a refund made from the admin panel (same ledger key)."""
    return await _refund(session, row, refund, payment_id, now)


async def save_card_in(session: AsyncSession, user_id: int, card: SavedCard) -> None:
    """Remember a card saved at Stripe (auto-recharge stays as the user set it)."""
    from modelsnest.payments.autorecharge import DEFAULT_AMOUNT_NANOS, DEFAULT_THRESHOLD_NANOS, table

    now = utcnow()
    await session.execute(
        upsert(session, table)
        .values(
            user_id=user_id,
            enabled=False,
            armed=True,
            threshold_nanos=DEFAULT_THRESHOLD_NANOS,
            amount_nanos=DEFAULT_AMOUNT_NANOS,
            stripe_customer_id=card.customer_id,
            stripe_payment_method_id=card.payment_method_id,
            card_label=card.label,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_update(
            index_elements=["user_id"],
            set_={
                "stripe_customer_id": card.customer_id,
                "stripe_payment_method_id": card.payment_method_id,
                "card_label": card.label,
                "last_error": None,
                "updated_at": now,
            },
        )
    )


async def _note_recharge_failure(
    session: AsyncSession, user_id: int, reason: str | None, now: datetime
) -> None:
    from modelsnest.payments.autorecharge import table

    log.warning("auto-recharge for user %s failed: %s", user_id, reason)
    await session.execute(
        update(table).where(table.c.user_id == user_id).values(last_error=reason or "failed", updated_at=now)
    )
