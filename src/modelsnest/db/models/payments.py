"""Payments: one ``payments`` row per attempt to buy credits, every provider event stored raw,
the invoices of completed payments (numbered from a counter row) and auto-recharge settings.

The rules these tables carry (enforced by ``modelsnest.payments``):

* a payment's amount and currency are fixed on our side when it is created; the provider's
  word is checked against them, never copied into them;
* a payment credits the ledger at most once: its status moves out of created/pending only
  by a status-guarded update, and the ledger row's idempotency key is the provider's payment
  id (``payment:<provider>:<id>``), unique per provider here too;
* ``payment_events`` is unique on (provider, event_id) and is written in the same database
  transaction as the ledger row an event causes, so a replayed webhook finds its twin.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from modelsnest.db.base import Base, BigIntPK, IdMixin, TimestampMixin, utcnow

PAYMENT_PROVIDERS = ("paypal", "coinbase", "stripe")
PAYMENT_STATUSES = (
    "created",
    "pending",
    "completed",
    "failed",
    "cancelled",
    "expired",
    "refunded",
    "partially_refunded",
)


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Payment(IdMixin, TimestampMixin, Base):
    """A top-up through a payment provider (a checkout the payer completes, or an off-session
    auto-recharge charge)."""

    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("provider", "provider_checkout_id"),
        UniqueConstraint("provider", "provider_payment_id"),
        CheckConstraint(_one_of("provider", PAYMENT_PROVIDERS), name="provider"),
        CheckConstraint(_one_of("status", PAYMENT_STATUSES), name="status"),
        CheckConstraint("kind IN ('checkout', 'auto_recharge')", name="kind"),
        CheckConstraint("amount_nanos > 0", name="amount_positive"),
        CheckConstraint("refunded_nanos >= 0 AND refunded_nanos <= amount_nanos", name="refunded_range"),
        Index("ix_payments_status_updated", "status", "updated_at"),
        Index("ix_payments_user_created", "user_id", "created_at"),
    )

    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    user_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("users.id", ondelete="RESTRICT"))
    provider: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16), default="checkout")
    status: Mapped[str] = mapped_column(String(24), default="created")
    # What the ledger is credited (USD nanos) and what the provider must report having taken.
    amount_nanos: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(8))
    # Stripe Checkout Session / PayPal order / Coinbase checkout (or the PaymentIntent of an
    # auto-recharge) ...
    provider_checkout_id: Mapped[str | None] = mapped_column(String(200))
    # ... and the money movement it produced: Stripe PaymentIntent, PayPal capture, Coinbase checkout.
    provider_payment_id: Mapped[str | None] = mapped_column(String(200))
    checkout_url: Mapped[str | None] = mapped_column(Text)
    # Idempotency key of every creating call to the provider (PayPal-Request-Id, Stripe's
    # Idempotency-Key, Coinbase's X-Idempotency-Key): a retried create never makes two.
    request_key: Mapped[str] = mapped_column(String(64))
    # SHA-256 of the token in the return/cancel URLs (the browser that went to the provider).
    return_token_hash: Mapped[str] = mapped_column(String(64))
    save_card: Mapped[bool] = mapped_column(Boolean, default=False)
    refunded_nanos: Mapped[int] = mapped_column(BigInteger, default=0)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    credited_transaction_id: Mapped[int | None] = mapped_column(
        BigIntPK, ForeignKey("credit_transactions.id")
    )
    expires_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    refunded_at: Mapped[datetime | None]
    # The reconciler's claim: the row is polled by one replica at a time, and not too often.
    checked_at: Mapped[datetime | None]
    raw: Mapped[dict[str, Any] | None]  # the provider's latest view of it, for support


class PaymentEvent(IdMixin, Base):
    """Every provider event (webhook, or a read made on return or by the reconciler), raw."""

    __tablename__ = "payment_events"
    __table_args__ = (
        UniqueConstraint("provider", "event_id"),
        CheckConstraint(_one_of("provider", PAYMENT_PROVIDERS), name="provider"),
        CheckConstraint("source IN ('webhook', 'return', 'reconcile', 'api')", name="source"),
    )

    provider: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(200))
    event_type: Mapped[str] = mapped_column(String(80))
    source: Mapped[str] = mapped_column(String(16))
    payment_id: Mapped[int | None] = mapped_column(
        BigIntPK, ForeignKey("payments.id", ondelete="SET NULL"), index=True
    )
    transaction_id: Mapped[int | None] = mapped_column(BigIntPK, ForeignKey("credit_transactions.id"))
    outcome: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class InvoiceCounter(Base):
    """The last invoice number issued in a series (one series per year). Incremented in the
    transaction that credits the payment, so numbers have no gaps and no duplicates."""

    __tablename__ = "invoice_counters"

    series: Mapped[str] = mapped_column(String(16), primary_key=True)
    last_number: Mapped[int] = mapped_column(BigInteger, default=0)


class Invoice(IdMixin, Base):
    """The invoice of one completed payment. Seller and buyer are copied at issue time: an
    issued invoice never changes."""

    __tablename__ = "invoices"
    __table_args__ = (UniqueConstraint("series", "sequence"),)

    number: Mapped[str] = mapped_column(String(32), unique=True)
    series: Mapped[str] = mapped_column(String(16))
    sequence: Mapped[int] = mapped_column(BigInteger)
    payment_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("payments.id"), unique=True)
    user_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    amount_nanos: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(8))
    description: Mapped[str] = mapped_column(Text)
    seller: Mapped[dict[str, Any]]
    buyer: Mapped[dict[str, Any]]


class AutoRecharge(TimestampMixin, Base):
    """A user's saved card (Stripe) and "when available credit falls below X, buy Y".

    ``armed`` is the once-per-crossing claim: a replica may charge only by flipping it from
    true to false; it is re-armed when available credit is back at or above the threshold."""

    __tablename__ = "auto_recharge"
    __table_args__ = (
        CheckConstraint("threshold_nanos >= 0", name="threshold_not_negative"),
        CheckConstraint("amount_nanos > 0", name="amount_positive"),
        Index("ix_auto_recharge_enabled_armed", "enabled", "armed"),
    )

    user_id: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    threshold_nanos: Mapped[int] = mapped_column(BigInteger)
    amount_nanos: Mapped[int] = mapped_column(BigInteger)
    armed: Mapped[bool] = mapped_column(Boolean, default=True)
    stripe_customer_id: Mapped[str | None] = mapped_column(String(100))
    stripe_payment_method_id: Mapped[str | None] = mapped_column(String(100))
    card_label: Mapped[str | None] = mapped_column(String(64))  # "visa •••• 4242"
    last_payment_id: Mapped[int | None] = mapped_column(BigIntPK, ForeignKey("payments.id"))
    last_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
