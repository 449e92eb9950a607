"""The ledger's tables. Rows of ``credit_transactions`` are append-only; ``user_credits`` is
the running balance they sum to, kept in the same database transaction as each row.

Available credit (balance − reserved) never goes below zero, except through a payment
refund or reversal taking back credits already spent: ``clawback_nanos`` is the running total
of what such refunds took beyond what was available, and available may be negative by at most
that much (the CHECK below). Holds need available ≥ their amount, so an account in that debt
can spend nothing until it is topped up again."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from modelsnest.db.base import Base, BigIntPK, IdMixin, utcnow


class UserCredits(Base):
    __tablename__ = "user_credits"
    __table_args__ = (
        CheckConstraint("reserved_nanos >= 0", name="reserved_not_negative"),
        CheckConstraint("clawback_nanos >= 0", name="clawback_not_negative"),
        CheckConstraint(
            "balance_nanos - reserved_nanos + clawback_nanos >= 0", name="available_within_clawback"
        ),
    )

    user_id: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    balance_nanos: Mapped[int] = mapped_column(BigInteger, default=0)
    reserved_nanos: Mapped[int] = mapped_column(BigInteger, default=0)
    clawback_nanos: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CreditTransaction(IdMixin, Base):
    __tablename__ = "credit_transactions"
    __table_args__ = (
        CheckConstraint(
            "type IN ('topup', 'usage', 'refund', 'adjustment', 'bonus', 'payment_refund')",
            name="type",
        ),
        Index("ix_credit_transactions_user_created", "user_id", "created_at"),
        Index("ix_credit_transactions_reference", "reference_type", "reference_id"),
    )

    user_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("users.id", ondelete="RESTRICT"))
    type: Mapped[str] = mapped_column(String(32))
    amount_nanos: Mapped[int] = mapped_column(BigInteger)
    balance_after_nanos: Mapped[int] = mapped_column(BigInteger)
    reference_type: Mapped[str | None] = mapped_column(String(32))
    reference_id: Mapped[str | None] = mapped_column(String(128))
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str | None] = mapped_column(String(120))
    meta: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CreditHold(Base):
    """Credits reserved for one in-flight billable call."""

    __tablename__ = "credit_holds"
    __table_args__ = (
        CheckConstraint("amount_nanos >= 0", name="amount_not_negative"),
        CheckConstraint("status IN ('active', 'settled', 'released')", name="status"),
        Index("ix_credit_holds_status_expires", "status", "expires_at"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    api_token_id: Mapped[int | None] = mapped_column(
        BigIntPK, ForeignKey("api_tokens.id", ondelete="SET NULL")
    )
    request_id: Mapped[str | None] = mapped_column(String(64), index=True)
    amount_nanos: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default="active")
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    settled_nanos: Mapped[int | None] = mapped_column(BigInteger)
    transaction_id: Mapped[int | None] = mapped_column(BigIntPK, ForeignKey("credit_transactions.id"))
    # What the sweeper needs to settle a hold whose process died (model, provider, …).
    meta: Mapped[dict[str, Any] | None]
