"""What every payments flow needs: the database, the configuration, the configured providers."""

from __future__ import annotations

from dataclasses import dataclass

from modelsnest.db.engine import SessionFactory
from modelsnest.errors import InvalidRequest
from modelsnest.payments.config import PaymentsConfig
from modelsnest.payments.providers.base import PaymentProvider
from modelsnest.payments.types import ProviderOption

KNOWN_PROVIDERS = ("stripe", "paypal", "coinbase")


@dataclass
class Context:
    sessions: SessionFactory
    config: PaymentsConfig
    providers: dict[str, PaymentProvider]

    def options(self) -> list[ProviderOption]:
        return [
            ProviderOption(p.name, p.label, p.currency)
            for name in KNOWN_PROVIDERS
            if (p := self.providers.get(name)) is not None
        ]

    def provider(self, name: object) -> PaymentProvider:
        """A configured provider, or a 400 that says which are offered."""
        offered = ", ".join(self.providers) or "none (no payment provider is configured)"
        if not isinstance(name, str) or name not in KNOWN_PROVIDERS:
            raise InvalidRequest(
                f"provider must be one of stripe, paypal, coinbase; offered here: {offered}",
                code="UNKNOWN_PROVIDER",
                param="provider",
            )
        provider = self.providers.get(name)
        if provider is None:
            raise InvalidRequest(
                f"{name} is not configured on this server; offered here: {offered}",
                code="PROVIDER_NOT_CONFIGURED",
                param="provider",
            )
        return provider

    def base_url(self, request_base: str | None) -> str:
        base = self.config.public_url or (request_base or "").rstrip("/")
        if not base:
            raise InvalidRequest("set MODELSNEST_PUBLIC_URL: return URLs need the public address")
        return base
