"""The catalog pages: deactivating a model stops the API serving it (``MODEL_UNAVAILABLE``),
a price edit writes a new version used by new requests, details are edited, each audited."""

from __future__ import annotations

import re

from sqlalchemy import select

from modelsnest import billing
from modelsnest.auth.api_keys import create_key
from modelsnest.catalog.prices import current_price, price_history
from modelsnest.db.models import AdminAudit, AiModel
from tests.admin.conftest import Panel
from tests.web.helpers import csrf_of

SLUG = "deepseek"
URL = f"/admin/catalog/{SLUG}/edit"


async def _chat(panel: Panel, token: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    response = await panel.browser.client.post(
        "/api/v1/chat/completions",
        headers={"Authorization": f"Bearer {token}"},
        json={"model": SLUG, "messages": [{"role": "user", "content": "Hello"}], "max_tokens": 16},
    )
    return response.status_code, response.json()


async def _audits(panel: Panel) -> list[AdminAudit]:
    async with panel.browser.services.sessions() as session:
        return list(await session.scalars(select(AdminAudit).order_by(AdminAudit.id)))


async def test_the_catalog_lists_the_seeded_models_and_filters_them(seeded: Panel) -> None:
    page = await seeded.browser.get("/admin/catalog")
    assert page.status_code == 200 and SLUG in page.text
    assert (await seeded.browser.get("/admin/models")).headers["location"] == "/admin/catalog"
    none = await seeded.browser.get("/admin/catalog?q=no-such-model")
    assert "No models found" in none.text


async def test_deactivating_a_model_makes_the_api_answer_model_unavailable(seeded: Panel) -> None:
    services = seeded.browser.services
    await billing.adjust(
        services.sessions,
        user_id=seeded.customer.id,
        amount_nanos=10**10,
        reason="t",
        actor="t",
        idempotency_key="k1",
    )
    _, token = await create_key(services.sessions, user_id=seeded.customer.id, name="t")
    status, _ = await _chat(seeded, token)
    assert status == 200

    await seeded.action(URL, f"/admin/catalog/{SLUG}/status", {"status": "disabled"})
    status, body = await _chat(seeded, token)
    assert status == 400 and body["error"]["code"] == "MODEL_UNAVAILABLE"

    await seeded.action(URL, f"/admin/catalog/{SLUG}/status", {"status": "active"})
    status, _ = await _chat(seeded, token)
    assert status == 200
    assert [(a.action, a.after) for a in await _audits(seeded)] == [
        ("model.status", {"status": "disabled"}),
        ("model.status", {"status": "active"}),
    ]


async def test_a_price_edit_writes_a_new_version_kept_in_the_history(seeded: Panel) -> None:
    sessions = seeded.browser.services.sessions
    old = await current_price(sessions, SLUG)
    assert old is not None
    page = await seeded.browser.get(URL)
    assert "Price history" in page.text
    await seeded.action(
        URL,
        f"/admin/catalog/{SLUG}/price",
        {
            "unit": "per_1k_tokens",
            "price": "input = 0.0005\noutput = 0.0015",
            "reason": "Upstream raised prices",
            "expected_version_id": str(old.id),
        },
    )
    new = await current_price(sessions, SLUG)
    assert new is not None and new.id != old.id
    assert (new.price.input_nanos, new.price.output_nanos) == (500_000, 1_500_000)
    assert [v.id for v in await price_history(sessions, SLUG)][:2] == [new.id, old.id]
    [audit] = await _audits(seeded)
    assert audit.action == "model.price" and audit.after is not None and audit.after["input"] == "0.0005"
    shown = await seeded.browser.get(URL)
    assert "Upstream raised prices" in shown.text


async def test_a_malformed_price_is_refused_in_the_page(seeded: Panel) -> None:
    page = await seeded.browser.get(URL)
    response = await seeded.browser.post(
        f"/admin/catalog/{SLUG}/price",
        {"csrf_token": csrf_of(page.text), "unit": "per_1k_tokens", "price": "input: cheap", "reason": "x"},
    )
    assert response.status_code == 400
    assert "key = amount" in response.text
    assert await _audits(seeded) == []


async def test_editing_the_details_renames_the_model(seeded: Panel) -> None:
    page = await seeded.browser.get(URL)
    category = re.search(r'<option value="(\d+)" selected', page.text)
    assert category is not None
    await seeded.action(
        URL,
        f"/admin/catalog/{SLUG}/details",
        {
            "name": "DeepSeek Renamed",
            "description": "New words.",
            "category_id": category.group(1),
            "sort_order": "3",
        },
    )
    async with seeded.browser.services.sessions() as session:
        model = await session.scalar(select(AiModel).where(AiModel.slug == SLUG))
        assert model is not None and (model.name, model.description, model.sort_order) == (
            "DeepSeek Renamed",
            "New words.",
            3,
        )
    [audit] = await _audits(seeded)
    assert (
        audit.action == "model.details"
        and audit.after is not None
        and audit.after["name"] == "DeepSeek Renamed"
    )
