"""GET /api/v1/key: the calling key's name, prefix, limits and spend (OpenRouter's shape under
``data``), its spend equal to the ledger's usage rows for that key."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from modelsnest.db.models import CreditTransaction
from tests.fakes.openai_upstream import FakeOpenAIUpstream
from tests.gateway.helpers import exact_json, nanos, sdk
from tests.live import Platform, ServerProcess

pytestmark = pytest.mark.postgres


async def test_key_reports_limits_and_spend_equal_to_the_ledger(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    provider = await platform.provider("openai", openai_upstream.base_url)
    slug = await platform.model([(provider, "up")])
    account = await platform.account("5", name="ci-bot", spend_limit_nanos=nanos(2), rpm_limit=120)
    client = sdk(live_server, account.token)
    client.chat.completions.create(model=slug, messages=[{"role": "user", "content": "hi"}])
    client.responses.create(model=slug, input="hello")

    response = httpx.get(f"{live_server.api_base}/key", headers={"Authorization": f"Bearer {account.token}"})
    assert response.status_code == 200, response.text
    data = exact_json(response)["data"]
    async with platform.sessions() as session:
        ledger = await session.scalar(
            select(func.sum(CreditTransaction.amount_nanos)).where(
                CreditTransaction.user_id == account.user_id, CreditTransaction.type == "usage"
            )
        )
    spent = -int(ledger or 0)
    assert spent > 0
    assert data["label"] == data["name"] == "ci-bot"
    assert account.token.startswith(data["prefix"])
    assert nanos(data["usage"]) == nanos(data["usage_daily"]) == nanos(data["usage_monthly"]) == spent
    assert nanos(data["limit"]) == nanos(2)
    assert nanos(data["limit_remaining"]) == nanos(2) - spent
    assert data["is_free_tier"] is False
    assert data["rate_limit"] == {"requests": 120, "interval": "1m", "tokens_per_minute": None}
    assert data["allowed_models"] is None

    unlimited = await platform.account("1")
    other = exact_json(
        httpx.get(f"{live_server.api_base}/key", headers={"Authorization": f"Bearer {unlimited.token}"})
    )["data"]
    assert other["limit"] is None and other["limit_remaining"] is None and nanos(other["usage"]) == 0
    missing = httpx.get(f"{live_server.api_base}/key")
    assert missing.status_code == 401
