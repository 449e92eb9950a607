"""The payments test bench: fake Stripe, PayPal and Coinbase servers on 127.0.0.1, and the
real app (one or two "replicas" on the same database) driven over its HTTP API in-process.

Nothing of ours is mocked: the Stripe SDK, the PayPal and Coinbase clients talk HTTP to the
fakes, webhooks are signed by the fakes the way the providers sign them, and the ledger is
read back from the database."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from modelsnest import billing
from modelsnest.app import create_app
from modelsnest.auth.api_keys import create_key
from modelsnest.auth.users import create_user
from modelsnest.db.engine import SessionFactory
from modelsnest.db.models import CreditTransaction, Payment
from modelsnest.services import Services
from modelsnest.settings import Settings
from tests.conftest import make_settings
from tests.fakes import coinbase_api, paypal_api, stripe_api
from tests.fakes.coinbase_api import FakeCoinbase
from tests.fakes.paypal_api import FakePayPal
from tests.fakes.stripe_api import FakeStripe

PUBLIC_URL = "https://modelsnest.test"
USD = 10**9


@dataclass
class Fakes:
    stripe: FakeStripe
    paypal: FakePayPal
    coinbase: FakeCoinbase


@pytest.fixture
async def fakes() -> AsyncIterator[Fakes]:
    async with FakeStripe() as s, FakePayPal() as p, FakeCoinbase() as c:
        yield Fakes(s, p, c)


def payment_settings(database_url: str, tmp_path: Path, fakes: Fakes, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "public_url": PUBLIC_URL,
        "stripe_secret_key": stripe_api.SECRET_KEY,
        "stripe_webhook_secret": stripe_api.WEBHOOK_SECRET,
        "stripe_api_base": fakes.stripe.url,
        "paypal_client_id": paypal_api.CLIENT_ID,
        "paypal_client_secret": paypal_api.CLIENT_SECRET,
        "paypal_webhook_id": paypal_api.WEBHOOK_ID,
        "paypal_api_base": fakes.paypal.url,
        "coinbase_api_key_id": coinbase_api.KEY_ID,
        "coinbase_api_key_secret": coinbase_api.KEY_SECRET,
        "coinbase_webhook_secret": coinbase_api.WEBHOOK_SECRET,
        "coinbase_api_base": fakes.coinbase.url,
        "payments_timeout_seconds": 2.0,
        # The loops stay out of the way: tests run the reconciler and the recharge check themselves.
        "payments_reconcile_seconds": 3600.0,
        "auto_recharge_check_seconds": 3600.0,
        "company_name": "Modelsnest Test Ltd",
        "company_address": "1 Test Street\\nTestville",
        "company_tax_id": "EU123456789",
        "company_email": "billing@modelsnest.test",
    }
    values.update(overrides)
    return make_settings(database_url, tmp_path, **values)


@dataclass
class Replica:
    app: FastAPI
    client: httpx.AsyncClient

    @property
    def services(self) -> Services:
        services: Services = self.app.state.services
        return services


@dataclass
class Account:
    user_id: int
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Shop:
    """The app (``replicas[0]`` answers by default), the fakes, and helpers."""

    replicas: list[Replica]
    fakes: Fakes
    sessions: SessionFactory
    accounts: list[Account] = field(default_factory=list)

    @property
    def client(self) -> httpx.AsyncClient:
        return self.replicas[0].client

    @property
    def services(self) -> Services:
        return self.replicas[0].services

    async def account(self, credits: int = 0) -> Account:
        user = await create_user(
            self.sessions, email=f"buyer-{secrets.token_hex(5)}@example.com", credits_nanos=credits
        )
        _, token = await create_key(self.sessions, user_id=user.id)
        account = Account(user.id, token)
        self.accounts.append(account)
        return account

    async def checkout(
        self, account: Account, provider: str, amount: Any = "10.00", **extra: Any
    ) -> dict[str, Any]:
        response = await self.client.post(
            "/api/v1/credits/checkout",
            json={"provider": provider, "amount_usd": amount, **extra},
            headers=account.headers,
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def payment(self, account: Account, payment_id: str) -> dict[str, Any]:
        response = await self.client.get(f"/api/v1/credits/payments/{payment_id}", headers=account.headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def row(self, payment_id: str) -> Payment:
        async with self.sessions() as session:
            return (
                await session.execute(select(Payment).where(Payment.public_id == payment_id))
            ).scalar_one()

    def return_url(self, provider: str, checkout_id: str) -> str:
        """Where the provider sends the payer back (as the fake recorded it), as a path."""
        if provider == "stripe":
            url = self.fakes.stripe.sessions[checkout_id]["success_url"]
        elif provider == "paypal":
            order = self.fakes.paypal.orders[checkout_id]
            url = order["experience"]["return_url"] + f"&token={checkout_id}&PayerID=FAKEPAYER"
        else:
            url = self.fakes.coinbase.checkouts[checkout_id]["successRedirectUrl"]
        parts = urlsplit(url)
        assert f"{parts.scheme}://{parts.netloc}" == PUBLIC_URL
        return f"{parts.path}?{parts.query}"

    def cancel_url(self, provider: str, checkout_id: str) -> str:
        if provider == "stripe":
            url = self.fakes.stripe.sessions[checkout_id]["cancel_url"]
        elif provider == "paypal":
            url = self.fakes.paypal.orders[checkout_id]["experience"]["cancel_url"]
        else:
            url = self.fakes.coinbase.checkouts[checkout_id]["failRedirectUrl"]
        parts = urlsplit(url)
        return f"{parts.path}?{parts.query}"

    async def webhook(
        self, provider: str, signed: tuple[bytes, dict[str, str]], replica: int = 0
    ) -> httpx.Response:
        body, headers = signed
        return await self.replicas[replica].client.post(
            f"/webhooks/{provider}", content=body, headers=headers
        )

    async def balance(self, account: Account) -> int:
        return (await billing.get_balance(self.sessions, account.user_id)).balance_nanos

    async def assert_ledger_proves_it(self) -> None:
        """verify_invariants holds, and the payment rows of the ledger add up to the payments:
        Σ topup + payment_refund rows = Σ credited payments − Σ refunded."""
        assert await billing.verify_invariants(self.sessions) == []
        async with self.sessions() as session:
            ledger = await session.scalar(
                select(func.coalesce(func.sum(CreditTransaction.amount_nanos), 0)).where(
                    CreditTransaction.reference_type == "payment"
                )
            )
            credited = await session.scalar(
                select(func.coalesce(func.sum(Payment.amount_nanos - Payment.refunded_nanos), 0)).where(
                    Payment.status.in_(["completed", "refunded", "partially_refunded"])
                )
            )
            credited_rows = await session.scalar(
                select(func.count()).select_from(CreditTransaction).where(CreditTransaction.type == "topup")
            )
            completed = await session.scalar(
                select(func.count()).select_from(Payment).where(Payment.credited_transaction_id.is_not(None))
            )
        assert int(ledger or 0) == int(credited or 0)
        assert credited_rows == completed


async def _replica(settings: Settings, stack: AsyncExitStack) -> Replica:
    app = create_app(settings)
    await stack.enter_async_context(app.router.lifespan_context(app))
    client = await stack.enter_async_context(
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver", timeout=30)
    )
    return Replica(app, client)


async def open_shop(settings: Settings, fakes: Fakes, stack: AsyncExitStack, *, replicas: int = 1) -> Shop:
    opened = [await _replica(settings, stack) for _ in range(replicas)]
    return Shop(opened, fakes, opened[0].services.sessions)


@pytest.fixture
async def shop(database_url: str, tmp_path: Path, fakes: Fakes) -> AsyncIterator[Shop]:
    async with AsyncExitStack() as stack:
        yield await open_shop(payment_settings(database_url, tmp_path, fakes), fakes, stack, replicas=2)
