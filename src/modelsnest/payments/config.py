"""The payments service's configuration and the provider adapters it builds from it."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from modelsnest.payments.providers.base import PaymentProvider
from modelsnest.settings import Settings


@dataclass(frozen=True)
class PaymentsConfig:
    min_usd: Decimal = Decimal("5")
    max_usd: Decimal = Decimal("10000")
    public_url: str | None = None
    production: bool = False
    checkout_ttl_seconds: int = 3600
    reconcile_after_seconds: int = 900
    seller: dict[str, Any] = field(default_factory=lambda: {"name": "Modelsnest"})

    @classmethod
    def from_settings(cls, settings: Settings) -> PaymentsConfig:
        seller = {
            "name": settings.company_name,
            "address": settings.company_address,
            "tax_id": settings.company_tax_id,
            "email": settings.company_email,
        }
        return cls(
            min_usd=settings.topup_min_usd,
            max_usd=settings.topup_max_usd,
            public_url=(settings.public_url or "").rstrip("/") or None,
            production=settings.environment == "production",
            reconcile_after_seconds=settings.payments_reconcile_after_seconds,
            seller={k: v for k, v in seller.items() if v},
        )


def build_providers(settings: Settings) -> dict[str, PaymentProvider]:
    """Only the providers whose credentials are configured."""
    providers: dict[str, PaymentProvider] = {}
    timeout, tolerance = settings.payments_timeout_seconds, settings.webhook_tolerance_seconds
    if settings.stripe_secret_key:
        from modelsnest.payments.providers.stripe import StripeProvider

        providers["stripe"] = StripeProvider(
            secret_key=settings.stripe_secret_key,
            webhook_secret=settings.stripe_webhook_secret,
            api_base=settings.stripe_api_base,
            timeout_seconds=timeout,
            tolerance_seconds=tolerance,
        )
    if settings.paypal_client_id and settings.paypal_client_secret:
        from modelsnest.payments.providers.paypal import PayPalProvider

        providers["paypal"] = PayPalProvider(
            client_id=settings.paypal_client_id,
            client_secret=settings.paypal_client_secret,
            webhook_id=settings.paypal_webhook_id,
            api_base=settings.paypal_api_base,
            timeout_seconds=timeout,
            tolerance_seconds=tolerance,
            brand_name=settings.company_name,
        )
    if settings.coinbase_api_key_id and settings.coinbase_api_key_secret:
        from modelsnest.payments.providers.coinbase import CoinbaseProvider

        providers["coinbase"] = CoinbaseProvider(
            key_id=settings.coinbase_api_key_id,
            key_secret=settings.coinbase_api_key_secret,
            webhook_secret=settings.coinbase_webhook_secret,
            api_base=settings.coinbase_api_base,
            timeout_seconds=timeout,
            tolerance_seconds=tolerance,
        )
    return providers
