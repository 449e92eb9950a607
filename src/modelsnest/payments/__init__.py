"""Buying credits: Stripe Checkout, PayPal Orders v2 and Coinbase Business checkouts (USDC),
auto-recharge with a saved card, reconciliation and invoices.

A payment credits the ledger exactly once, only after the provider confirms it (a capture
completed, a session paid, a checkout completed), read server-side or from a verified webhook;
see ``apply`` for how, and ``billing`` for the ledger it writes through. Adapters in
``providers`` speak each provider's wire format and know nothing of users or the database.
"""

from modelsnest.payments.apply import Applied
from modelsnest.payments.config import PaymentsConfig, build_providers
from modelsnest.payments.providers.base import InvalidWebhook, ProviderError, ProviderTimeout
from modelsnest.payments.service import Payments
from modelsnest.payments.types import (
    AutoRechargeView,
    InvoiceView,
    PaymentCheck,
    PaymentView,
    ProviderOption,
    ReconcileReport,
)

__all__ = [
    "Applied",
    "AutoRechargeView",
    "InvalidWebhook",
    "InvoiceView",
    "PaymentCheck",
    "PaymentView",
    "Payments",
    "PaymentsConfig",
    "ProviderError",
    "ProviderOption",
    "ProviderTimeout",
    "ReconcileReport",
    "build_providers",
]
