"""What the payments service hands out: plain frozen dataclasses (no ORM objects) with the
JSON shapes the API and the pages use."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from modelsnest.payments.amounts import usd_text

OPEN_STATUSES: Final = frozenset({"created", "pending"})
CREDITED_STATUSES: Final = frozenset({"completed", "refunded", "partially_refunded"})
UNPAID_STATUSES: Final = frozenset({"failed", "cancelled", "expired"})


@dataclass(frozen=True)
class ProviderOption:
    name: str  # stripe | paypal | coinbase
    label: str  # "Card (Stripe)", "PayPal", "Coinbase (USDC)"
    currency: str


@dataclass(frozen=True)
class PaymentView:
    id: str
    user_id: int
    provider: str
    kind: str
    status: str
    amount_nanos: int
    currency: str
    refunded_nanos: int
    checkout_url: str | None
    failure_reason: str | None
    invoice_number: str | None
    created_at: datetime
    completed_at: datetime | None
    refunded_at: datetime | None

    @property
    def amount_usd(self) -> str:
        return usd_text(self.amount_nanos)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "payment",
            "provider": self.provider,
            "kind": self.kind,
            "status": self.status,
            "amount_usd": self.amount_usd,
            "currency": self.currency,
            "refunded_usd": usd_text(self.refunded_nanos),
            "checkout_url": self.checkout_url if self.status in OPEN_STATUSES else None,
            "failure_reason": self.failure_reason,
            "invoice": self.invoice_number,
            "created_at": self.created_at.isoformat(),
            "completed_at": self.completed_at.isoformat() if self.completed_at else None,
            "refunded_at": self.refunded_at.isoformat() if self.refunded_at else None,
        }


@dataclass(frozen=True)
class InvoiceView:
    number: str
    user_id: int
    payment_id: str
    provider: str
    issued_at: datetime
    amount_nanos: int
    currency: str
    description: str
    seller: dict[str, Any]
    buyer: dict[str, Any]
    refunded_nanos: int

    @property
    def amount_usd(self) -> str:
        return usd_text(self.amount_nanos)

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "object": "invoice",
            "payment": self.payment_id,
            "provider": self.provider,
            "issued_at": self.issued_at.isoformat(),
            "amount_usd": self.amount_usd,
            "currency": self.currency,
            "description": self.description,
            "seller": self.seller,
            "buyer": self.buyer,
            "refunded_usd": usd_text(self.refunded_nanos),
        }


@dataclass(frozen=True)
class AutoRechargeView:
    user_id: int
    enabled: bool
    threshold_nanos: int
    amount_nanos: int
    card_label: str | None
    has_card: bool
    armed: bool
    last_attempt_at: datetime | None
    last_error: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "object": "auto_recharge",
            "enabled": self.enabled,
            "threshold_usd": usd_text(self.threshold_nanos),
            "amount_usd": usd_text(self.amount_nanos),
            "card": self.card_label,
            "has_card": self.has_card,
            "last_attempt_at": self.last_attempt_at.isoformat() if self.last_attempt_at else None,
            "last_error": self.last_error,
        }


@dataclass(frozen=True)
class PaymentCheck:
    """One line of ``modelsnest doctor`` (and of the admin page): ``status`` ok | FAIL | --."""

    status: str
    name: str
    detail: str


@dataclass(frozen=True)
class ReconcileReport:
    checked: int = 0
    completed: int = 0
    closed: int = 0  # expired, failed or cancelled
    unchanged: int = 0
    errors: int = 0
