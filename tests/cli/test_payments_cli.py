"""``modelsnest payments reconcile`` and the payment lines of ``modelsnest doctor``, against
fake providers served from a thread (the CLI runs its own event loop)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from modelsnest.auth.caller import Caller
from modelsnest.auth.users import create_user
from modelsnest.payments import Payments
from modelsnest.runtime import Runtime
from modelsnest.settings import Settings
from tests.cli.conftest import Invoke
from tests.cli.test_doctor import _lines
from tests.fakes import coinbase_api, paypal_api, stripe_api
from tests.fakes.coinbase_api import FakeCoinbase
from tests.fakes.paypal_api import FakePayPal
from tests.fakes.stripe_api import FakeStripe


@pytest.fixture
def providers(
    cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[FakeStripe, FakePayPal, FakeCoinbase]]:
    with FakeStripe() as stripe, FakePayPal() as paypal, FakeCoinbase() as coinbase:
        env = {
            "MODELSNEST_PUBLIC_URL": "https://modelsnest.test",
            "MODELSNEST_STRIPE_SECRET_KEY": stripe_api.SECRET_KEY,
            "MODELSNEST_STRIPE_WEBHOOK_SECRET": stripe_api.WEBHOOK_SECRET,
            "MODELSNEST_STRIPE_API_BASE": stripe.url,
            "MODELSNEST_PAYPAL_CLIENT_ID": paypal_api.CLIENT_ID,
            "MODELSNEST_PAYPAL_CLIENT_SECRET": paypal_api.CLIENT_SECRET,
            "MODELSNEST_PAYPAL_WEBHOOK_ID": paypal_api.WEBHOOK_ID,
            "MODELSNEST_PAYPAL_API_BASE": paypal.url,
            "MODELSNEST_COINBASE_API_KEY_ID": coinbase_api.KEY_ID,
            "MODELSNEST_COINBASE_API_KEY_SECRET": coinbase_api.KEY_SECRET,
            "MODELSNEST_COINBASE_API_BASE": coinbase.url,
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        yield stripe, paypal, coinbase


def test_doctor_checks_each_configured_provider(
    cli: Invoke, providers: tuple[FakeStripe, FakePayPal, FakeCoinbase]
) -> None:
    result = cli("doctor")
    checks = _lines(result.stdout)

    assert result.exit_code == 1, result.stdout  # Coinbase has no webhook secret
    assert checks["stripe key"].startswith("ok secret key accepted")
    assert checks["paypal key"].startswith("ok client credentials accepted")
    assert checks["coinbase key"].startswith("ok API key accepted")
    assert checks["stripe hook"] == "ok set" and checks["paypal hook"] == "ok set"
    assert checks["coinbase hook"].startswith("FAIL MODELSNEST_COINBASE_WEBHOOK_SECRET is not set")
    assert checks["stripe urls"] == "ok https://modelsnest.test/dashboard/billing/return/stripe"
    assert stripe_api.SECRET_KEY not in result.stdout and paypal_api.CLIENT_SECRET not in result.stdout


def test_doctor_reports_refused_credentials(
    cli: Invoke, providers: tuple[FakeStripe, FakePayPal, FakeCoinbase], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODELSNEST_PAYPAL_CLIENT_SECRET", "wrong")
    monkeypatch.setenv("MODELSNEST_STRIPE_SECRET_KEY", "sk_test_wrong")
    checks = _lines(cli("doctor").stdout)
    assert checks["paypal key"].startswith("FAIL PayPal refused the client credentials")
    assert checks["stripe key"].startswith("FAIL Stripe refused")


def test_reconcile_completes_an_approved_order_left_behind(
    cli: Invoke, providers: tuple[FakeStripe, FakePayPal, FakeCoinbase]
) -> None:
    _, paypal, _ = providers

    async def start() -> str:
        settings = Settings()
        runtime = Runtime.create(settings)
        payments = Payments.from_settings(settings, runtime.sessions)
        try:
            user = await create_user(runtime.sessions, email="late@example.com")
            payment = await payments.create_checkout(
                Caller.signed_in(user.id, "user"), provider="paypal", amount_usd="9.00"
            )
            return payment.id
        finally:
            await payments.close()
            await runtime.close()

    asyncio.run(start())
    paypal.approve(next(iter(paypal.orders)))

    too_soon = cli("payments", "reconcile")
    done = cli("payments", "reconcile", "--older-than", "0")

    assert too_soon.exit_code == 0 and too_soon.stdout.startswith("checked 0")
    assert done.exit_code == 0, done.stdout + done.stderr
    assert done.stdout.strip() == "checked 1: 1 completed, 0 closed, 0 still waiting, 0 errors"
    assert paypal.captures == 1


def test_reconcile_without_providers_says_so(cli: Invoke) -> None:
    result = cli("payments", "reconcile")
    assert result.exit_code == 0 and "no payment provider is configured" in result.stdout
