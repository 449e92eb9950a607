"""The providers pages: a provider's API key is write-only (never in a page, the audit log or
the database in clear), the connection test reaches the upstream with it, routes are edited,
and a route whose upstream cost exceeds the selling price is flagged."""

from __future__ import annotations

from sqlalchemy import select

from modelsnest.catalog.prices import current_price
from modelsnest.catalog.providers import list_routes
from modelsnest.db.models import AdminAudit, ModelRoute, Provider
from modelsnest.money import usd_str
from tests.admin.conftest import Panel
from tests.fakes.openai_upstream import FakeOpenAIUpstream

SECRET = "sk-live-very-secret-0123456789"


async def _add(panel: Panel, base_url: str, **extra: str) -> str:
    return await panel.action(
        "/admin/providers",
        "/admin/providers",
        {"name": "openai-main", "kind": "openai", "base_url": base_url, "api_key": SECRET, **extra},
    )


async def test_the_api_key_is_never_shown_after_saving_and_not_stored_in_clear(
    panel: Panel, openai_upstream: FakeOpenAIUpstream
) -> None:
    location = await _add(panel, openai_upstream.base_url, connect_timeout="3")
    assert location == "/admin/providers/openai-main"
    for path in (location, "/admin/providers", "/admin/audit"):
        page = await panel.browser.get(path)
        assert page.status_code == 200
        assert SECRET not in page.text and SECRET[-10:] not in page.text, path
    async with panel.browser.services.sessions() as session:
        row = await session.scalar(select(Provider).where(Provider.name == "openai-main"))
        assert row is not None and row.api_key_encrypted and SECRET not in row.api_key_encrypted
        assert row.connect_timeout == 3.0
        audits = list(await session.scalars(select(AdminAudit)))
    assert [a.action for a in audits] == ["provider.add"]
    assert SECRET not in str(audits[0].after) and audits[0].after is not None
    assert audits[0].after["has_api_key"] is True


async def test_replacing_the_key_keeps_it_hidden_and_is_audited_without_it(
    panel: Panel, openai_upstream: FakeOpenAIUpstream
) -> None:
    await _add(panel, openai_upstream.base_url)
    url = "/admin/providers/openai-main"
    await panel.action(url, url, {"base_url": openai_upstream.base_url, "api_key": "sk-new-key-42424242"})
    page = await panel.browser.get(url)
    assert "sk-new-key-42424242" not in page.text
    async with panel.browser.services.sessions() as session:
        audits = list(await session.scalars(select(AdminAudit).order_by(AdminAudit.id)))
    assert audits[-1].action == "provider.update"
    assert audits[-1].after is not None and audits[-1].after["api_key"] == "replaced"
    assert "sk-new-key" not in str(audits[-1].after)


async def test_the_connection_test_uses_the_stored_key(
    panel: Panel, openai_upstream: FakeOpenAIUpstream
) -> None:
    openai_upstream.set(expected_api_key=SECRET)
    await _add(panel, openai_upstream.base_url)
    url = "/admin/providers/openai-main"
    page = await panel.browser.submit(url, url + "/test", {"upstream_model": "gpt-4o-mini"})
    assert page.status_code == 200
    assert "Connection works" in page.text
    assert openai_upstream.last.headers["Authorization"] == f"Bearer {SECRET}"

    openai_upstream.set(expected_api_key="something-else")
    failed = await panel.browser.submit(url, url + "/test", {"upstream_model": "gpt-4o-mini"})
    assert "Connection failed" in failed.text


async def test_disabling_a_provider_is_audited(panel: Panel, openai_upstream: FakeOpenAIUpstream) -> None:
    await _add(panel, openai_upstream.base_url)
    url = "/admin/providers/openai-main"
    await panel.action(url, url + "/enabled", {})
    page = await panel.browser.get(url)
    assert "Enable provider" in page.text
    async with panel.browser.services.sessions() as session:
        actions = list(await session.scalars(select(AdminAudit.action).order_by(AdminAudit.id)))
    assert actions == ["provider.add", "provider.disable"]


async def test_route_priority_weight_and_a_cost_above_the_price_is_flagged(seeded: Panel) -> None:
    sessions = seeded.browser.services.sessions
    [route] = await list_routes(sessions, "deepseek")
    url = f"/admin/providers/{route.provider_name}"
    await seeded.action(url, f"{url}/routes/{route.id}", {"priority": "5", "weight": "3", "enabled": "on"})
    async with sessions() as session:
        row = await session.get(ModelRoute, route.id)
        assert row is not None and (row.priority, row.weight, row.enabled) == (5, 3, True)

    price = await current_price(sessions, "deepseek")
    assert price is not None
    above = price.price.input_nanos * 2 + 1_000
    cost = f"input = {usd_str(above)}\noutput = 0"
    await seeded.action(
        url,
        f"{url}/routes/{route.id}/cost",
        {"unit": price.price.unit, "cost": cost, "reason": "Upstream invoice"},
    )
    listing = await seeded.browser.get("/admin/providers")
    assert "more than the model sells for" in listing.text
    assert f"#route-{route.id}" in listing.text
    detail = await seeded.browser.get(url)
    assert "Cost above price" in detail.text
    async with sessions() as session:
        actions = list(await session.scalars(select(AdminAudit.action).order_by(AdminAudit.id)))
    assert actions == ["route.update", "route.cost"]
    route_page = await seeded.browser.get(f"{url}/routes/{route.id}")
    assert route_page.status_code == 200
    assert "costs more than the model sells for" in route_page.text
    assert "Upstream invoice" in route_page.text  # the cost history keeps the reason
