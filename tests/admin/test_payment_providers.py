"""``/admin/payment-providers``: the operator sees each configured payment provider checked
against its API (credentials accepted, webhook secret present), and a clear word when none is
configured or a check fails."""

from __future__ import annotations

from modelsnest.settings import Settings
from tests.admin.conftest import Panel, panel_on
from tests.fakes import stripe_api
from tests.fakes.stripe_api import FakeStripe


async def test_without_a_provider_the_page_says_customers_cannot_top_up(panel: Panel) -> None:
    answer = await panel.browser.get("/admin/payment-providers")
    assert answer.status_code == 200
    assert "No payment provider is configured" in answer.text


def _with_stripe(settings: Settings, stripe: FakeStripe, secret_key: str) -> Settings:
    return settings.model_copy(
        update={
            "stripe_secret_key": secret_key,
            "stripe_webhook_secret": stripe_api.WEBHOOK_SECRET,
            "stripe_api_base": stripe.url,
        }
    )


async def test_a_configured_stripe_is_checked_against_its_api(web_settings: Settings) -> None:
    async with (
        FakeStripe() as stripe,
        panel_on(_with_stripe(web_settings, stripe, stripe_api.SECRET_KEY)) as panel,
    ):
        page = (await panel.browser.get("/admin/payment-providers")).text
    assert "Every check passed" in page and "Card (Stripe)" in page
    assert "secret key accepted" in page


async def test_a_refused_secret_key_fails_its_check_without_showing_it(web_settings: Settings) -> None:
    wrong = "sk_test_not-the-fakes-key"
    async with FakeStripe() as stripe, panel_on(_with_stripe(web_settings, stripe, wrong)) as panel:
        page = (await panel.browser.get("/admin/payment-providers")).text
    assert "Some checks failed" in page and "Failed" in page
    assert wrong not in page
