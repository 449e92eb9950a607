from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from modelsnest.db.base import Base, BigIntPK, IdMixin, TimestampMixin


class Payment(IdMixin, TimestampMixin, Base):
    """A top-up through a payment provider. Credited once per provider payment id."""

    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("provider", "provider_payment_id"),
        CheckConstraint("provider IN ('paypal', 'coinbase', 'stripe')", name="provider"),
        CheckConstraint(
            "status IN ('created', 'pending', 'completed', 'failed', 'cancelled', 'refunded', "
            "'partially_refunded')",
            name="status",
        ),
    )

    user_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    provider: Mapped[str] = mapped_column(String(16))
    provider_payment_id: Mapped[str] = mapped_column(String(200))
    amount_nanos: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(8), default="USD")
    status: Mapped[str] = mapped_column(String(24), default="created")
    credited_transaction_id: Mapped[int | None] = mapped_column(
        BigIntPK, ForeignKey("credit_transactions.id")
    )
    completed_at: Mapped[datetime | None]
    raw: Mapped[dict[str, Any] | None]
