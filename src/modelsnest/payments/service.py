"""``Payments``: the one object routes, pages, the CLI and the background loops call.

Every method that acts for a person takes a ``Caller`` (an API key's owner or a signed-in
user) and only ever sees that caller's own payments, invoices and settings."""

from __future__ import annotations

from collections.abc import Mapping

from modelsnest.auth.caller import Caller
from modelsnest.db.engine import SessionFactory
from modelsnest.payments import autorecharge, checkout, confirm, doctor, invoices, reconcile, records, refunds
from modelsnest.payments.apply import Applied
from modelsnest.payments.config import PaymentsConfig, build_providers
from modelsnest.payments.context import Context
from modelsnest.payments.providers.base import PaymentProvider
from modelsnest.payments.types import (
    AutoRechargeView,
    InvoiceView,
    PaymentCheck,
    PaymentView,
    ProviderOption,
    ReconcileReport,
)
from modelsnest.settings import Settings


class Payments:
    def __init__(
        self, sessions: SessionFactory, config: PaymentsConfig, providers: dict[str, PaymentProvider]
    ) -> None:
        self.ctx = Context(sessions=sessions, config=config, providers=providers)
        self.recharger = autorecharge.AutoRecharger(self.ctx, every_seconds=15.0)

    @classmethod
    def from_settings(cls, settings: Settings, sessions: SessionFactory) -> Payments:
        payments = cls(sessions, PaymentsConfig.from_settings(settings), build_providers(settings))
        payments.recharger.every_seconds = settings.auto_recharge_check_seconds
        return payments

    async def close(self) -> None:
        for provider in self.ctx.providers.values():
            await provider.close()

    # -- top-ups ---------------------------------------------------------------------------
    def providers(self) -> list[ProviderOption]:
        """The configured providers, in display order, with their labels."""
        return self.ctx.options()

    async def create_checkout(
        self,
        caller: Caller,
        *,
        provider: object,
        amount_usd: object,
        request_base: str | None = None,
        save_card: bool = False,
    ) -> PaymentView:
        return await checkout.create_checkout(
            self.ctx,
            caller,
            provider=provider,
            amount_usd=amount_usd,
            request_base=request_base,
            save_card=save_card,
        )

    async def get_payment(self, caller: Caller, payment_id: object) -> PaymentView:
        return await records.user_view(self.ctx.sessions, caller.user_id, payment_id)

    async def list_payments(
        self, caller: Caller, *, limit: int = 50, before: str | None = None
    ) -> list[PaymentView]:
        return await records.user_views(self.ctx.sessions, caller.user_id, limit=limit, before=before)

    async def confirm_return(
        self, provider: str, payment_id: object, return_token: object, returned: Mapping[str, str]
    ) -> PaymentView:
        return await confirm.confirm_return(self.ctx, provider, payment_id, return_token, returned)

    async def cancel_return(self, provider: str, payment_id: object, return_token: object) -> PaymentView:
        return await confirm.cancel_return(self.ctx, provider, payment_id, return_token)

    async def handle_webhook(self, provider: str, body: bytes, headers: Mapping[str, str]) -> Applied:
        return await confirm.handle_webhook(self.ctx, provider, body, headers)

    async def reconcile(self, *, older_than_seconds: int | None = None) -> ReconcileReport:
        return await reconcile.reconcile(self.ctx, older_than_seconds=older_than_seconds)

    async def run_reconciler(self, every_seconds: float) -> None:
        await reconcile.run_reconciler(self.ctx, every_seconds=every_seconds)

    # -- auto-recharge -------------------------------------------------------------------------
    async def auto_recharge(self, caller: Caller) -> AutoRechargeView:
        return await autorecharge.get_settings(self.ctx, caller)

    async def set_auto_recharge(
        self, caller: Caller, *, enabled: bool, threshold_usd: object, amount_usd: object
    ) -> AutoRechargeView:
        view = await autorecharge.set_settings(
            self.ctx, caller, enabled=enabled, threshold_usd=threshold_usd, amount_usd=amount_usd
        )
        self.recharger.watch(caller.user_id)
        return view

    async def start_card_setup(self, caller: Caller, *, request_base: str | None = None) -> str:
        return await autorecharge.start_card_setup(self.ctx, caller, request_base=request_base)

    async def finish_card_setup(self, caller: Caller, session_id: object) -> AutoRechargeView:
        view = await autorecharge.finish_card_setup(self.ctx, caller, session_id)
        self.recharger.watch(caller.user_id)
        return view

    async def remove_card(self, caller: Caller) -> AutoRechargeView:
        return await autorecharge.remove_card(self.ctx, caller)

    async def check_auto_recharge(self, user_id: int | None = None) -> int:
        return await autorecharge.check(self.ctx, user_id=user_id)

    def notify_spent(self, user_id: int) -> None:
        """Cheap, synchronous: call after a settlement lowered this user's balance."""
        self.recharger.notify(user_id)

    # -- invoices --------------------------------------------------------------------------------
    async def list_invoices(self, caller: Caller) -> list[InvoiceView]:
        return await invoices.list_invoices(self.ctx.sessions, caller.user_id)

    async def get_invoice(self, caller: Caller, number: object) -> InvoiceView:
        return await invoices.get_invoice(self.ctx.sessions, caller.user_id, number)

    def invoice_html(self, invoice: InvoiceView, *, standalone: bool = False) -> str:
        return invoices.render_html(invoice, standalone=standalone)

    def invoice_pdf(self, invoice: InvoiceView) -> bytes:
        return invoices.render_pdf(invoice)

    # -- operations -------------------------------------------------------------------------------
    async def refund(
        self, public_id: str, *, amount_usd: str, reason: str, request_key: str, actor: str
    ) -> refunds.RefundDone:
        """An operator's refund (the admin panel): at the provider, then one ledger row."""
        return await refunds.refund_payment(
            self.ctx, public_id, amount_usd=amount_usd, reason=reason, request_key=request_key, actor=actor
        )

    async def checks(self) -> list[PaymentCheck]:
        return await doctor.payment_checks(self.ctx)
