"""What every payment provider adapter speaks: a checkout to create, the provider's view of a
payment (an ``Observation``), a verified webhook (a ``WebhookEvent``) and typed errors.

Adapters know nothing about users, the database or the ledger: they turn our request into the
provider's wire format and the provider's answers into these types. Amounts are ``Decimal``
in the provider's currency units ("10.00"), never floats.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, Protocol

from modelsnest.errors import InvalidRequest, UpstreamError, UpstreamTimeout

# open: the payer has not paid yet; pending: paid, the provider is still settling it;
# paid: the money is ours (credit it); failed / expired / cancelled: it never will be.
State = Literal["open", "pending", "paid", "failed", "expired", "cancelled"]


class ProviderError(UpstreamError):
    """The provider refused or failed a call (502)."""

    default_code = "PAYMENT_PROVIDER_ERROR"


class ProviderTimeout(UpstreamTimeout):
    """The provider did not answer in time (504); the outcome of the call is unknown."""

    default_code = "PAYMENT_PROVIDER_TIMEOUT"


class InvalidWebhook(InvalidRequest):
    """A webhook whose signature, timestamp or body does not verify (400, nothing done)."""

    default_code = "INVALID_WEBHOOK"


@dataclass(frozen=True)
class CheckoutRequest:
    reference: str  # our payment's public id, echoed back by the provider
    user_id: int
    amount: Decimal  # in ``currency`` units, two decimals
    currency: str
    description: str
    return_url: str
    cancel_url: str
    request_key: str  # idempotency key of the create call
    expires_at: datetime
    email: str | None = None
    save_card: bool = False
    customer_id: str | None = None  # Stripe customer to save the card on


@dataclass(frozen=True)
class CreatedCheckout:
    checkout_id: str
    url: str
    expires_at: datetime | None
    raw: dict[str, Any]


@dataclass(frozen=True)
class Refund:
    """Money given back. ``total`` is the cumulative refunded amount when the provider reports
    it (Stripe, Coinbase); otherwise ``amount`` is this one refund, identified by ``refund_id``."""

    refund_id: str | None
    amount: Decimal | None = None
    total: Decimal | None = None
    currency: str | None = None


@dataclass(frozen=True)
class Observation:
    """The provider's view of one payment, read from its API or from a verified webhook."""

    state: State
    payment_id: str | None = None  # the money movement (PaymentIntent, capture, checkout)
    amount: Decimal | None = None
    currency: str | None = None
    reference: str | None = None  # our public id as the provider echoes it
    reason: str | None = None
    refund: Refund | None = None
    card: SavedCard | None = None  # a card saved for off-session charges (Stripe)
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SavedCard:
    customer_id: str
    payment_method_id: str
    label: str | None


@dataclass(frozen=True)
class WebhookEvent:
    """A verified webhook, resolved to the payment it concerns (by any id the provider gave)."""

    event_id: str
    event_type: str
    reference: str | None = None
    checkout_id: str | None = None
    payment_id: str | None = None
    observation: Observation | None = None  # None: nothing to apply
    # The provider asks us to confirm now (PayPal: an approved order waits for our capture).
    confirm: bool = False
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ProviderCheck:
    name: str
    ok: bool
    detail: str


class PaymentProvider(Protocol):
    name: str  # "stripe" | "paypal" | "coinbase"
    label: str  # shown to people
    currency: str  # what the provider charges in (USD, or USDC for Coinbase)

    async def create_checkout(self, request: CheckoutRequest) -> CreatedCheckout: ...

    async def confirm(
        self, checkout_id: str, *, request_key: str, returned: Mapping[str, str]
    ) -> Observation:
        """The payer is back: confirm server-side (PayPal captures; the others read)."""
        ...

    async def poll(self, checkout_id: str, *, request_key: str) -> Observation:
        """The reconciler's look: read the payment and finish what the payer left undone."""
        ...

    async def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        """Verify and decode a webhook; InvalidWebhook when it does not verify."""
        ...

    async def checks(self) -> list[ProviderCheck]: ...

    async def close(self) -> None: ...


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A request header, case-insensitively."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None
