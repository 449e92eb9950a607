"""Refunds an operator makes from the admin panel: the provider gives the money back, then the
same ``apply._refund`` path the provider's refund webhook takes writes the one negative ledger
row (its idempotency key is the one that webhook names, so the webhook arriving later finds it
and changes nothing)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from sqlalchemy import select

from modelsnest.db.base import utcnow
from modelsnest.db.models import Payment
from modelsnest.errors import InvalidRequest, NotFound
from modelsnest.payments.amounts import nanos_decimal, parse_amount_usd, usd_nanos, usd_text
from modelsnest.payments.apply import refund_in
from modelsnest.payments.context import Context
from modelsnest.payments.providers.base import Refund
from modelsnest.payments.records import Lookup, lock_payment

REFUNDABLE_STATUSES = ("completed", "partially_refunded")
OUTSIDE = {
    "coinbase": "Crypto payments are refunded outside Modelsnest (send the coins back from the wallet)."
}


class Refunder(Protocol):
    async def refund(self, payment_id: str, amount: Decimal, *, request_key: str, reason: str) -> Refund: ...


@dataclass(frozen=True)
class RefundDone:
    amount_nanos: int
    transaction_id: int | None
    refunded_nanos: int


@dataclass(frozen=True)
class Refundable:
    provider: str
    remaining_nanos: int
    possible: bool
    why_not: str | None


def refundable(payment: Payment) -> Refundable:
    remaining = payment.amount_nanos - payment.refunded_nanos
    if payment.provider in OUTSIDE:
        return Refundable(payment.provider, remaining, False, OUTSIDE[payment.provider])
    if payment.status not in REFUNDABLE_STATUSES or remaining <= 0:
        return Refundable(
            payment.provider, remaining, False, f"A {payment.status} payment has nothing to refund."
        )
    if not payment.provider_payment_id:
        return Refundable(payment.provider, remaining, False, "The provider's payment id is unknown.")
    return Refundable(payment.provider, remaining, True, None)


async def refund_payment(
    ctx: Context, public_id: str, *, amount_usd: str, reason: str, request_key: str, actor: str
) -> RefundDone:
    """Refund part or all of a credited payment at its provider, then take the credits back."""
    reason = reason.strip()
    if not reason:
        raise InvalidRequest("Give the reason for the refund.", param="reason")
    async with ctx.sessions() as session:
        payment = await session.scalar(select(Payment).where(Payment.public_id == public_id))
    if payment is None:
        raise NotFound(f"No payment {public_id!r}.", param="payment")
    state = refundable(payment)
    if not state.possible:
        raise InvalidRequest(state.why_not or "This payment cannot be refunded.", param="amount_usd")
    amount = parse_amount_usd(
        amount_usd, minimum=Decimal("0.01"), maximum=nanos_decimal(payment.amount_nanos)
    )
    if usd_nanos(amount) > state.remaining_nanos:
        raise InvalidRequest(
            f"At most ${usd_text(state.remaining_nanos)} of this payment is left to refund.",
            code="REFUND_TOO_LARGE",
            param="amount_usd",
        )
    provider = ctx.providers.get(payment.provider)
    refunder = getattr(provider, "refund", None)
    if provider is None or refunder is None:
        raise InvalidRequest(f"{payment.provider} refunds are not available here.", param="amount_usd")
    assert payment.provider_payment_id is not None
    refund: Refund = await refunder(
        payment.provider_payment_id, amount, request_key=request_key, reason=f"{reason} ({actor})"
    )
    async with ctx.sessions.begin() as session:
        row = await lock_payment(session, payment.provider, Lookup(reference=public_id))
        assert row is not None
        transaction_id = await refund_in(session, row, refund, payment.provider_payment_id, utcnow())
    async with ctx.sessions() as session:
        after = await session.scalar(select(Payment.refunded_nanos).where(Payment.public_id == public_id))
    return RefundDone(usd_nanos(amount), transaction_id, int(after or 0))
