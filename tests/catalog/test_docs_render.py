"""Model docs rendered at request time from the stored rows: the reader's base URL and the
model's current price go in, a broken or hostile row is a clear catalog error."""

from __future__ import annotations

import ast
import json
import re
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select, update

from modelsnest.catalog.docs_render import DOCS_VARIABLES, ModelDocs, check_docs_template, model_docs
from modelsnest.catalog.pricing import chat_cost, unit_cost
from modelsnest.catalog.seed import seed_catalog
from modelsnest.catalog.spec import load_catalog_spec
from modelsnest.catalog.types import PriceInfo
from modelsnest.db.models.catalog import AiModel, AiModelDoc, AiModelDocStep, AiModelPricing
from modelsnest.errors import DocsTemplateError, InvalidRequest, NotFound
from modelsnest.money import usd_str
from modelsnest.runtime import Runtime
from tests.catalog.test_seed import BOX

SPEC = load_catalog_spec()
BASE_URL = "http://127.0.0.1:8000/api/v1"


@pytest.fixture
async def seeded(runtime: Runtime) -> Runtime:
    await seed_catalog(runtime.sessions, secret_box=BOX, simulator_enabled=True, provider_keys={})
    return runtime


def _json_of(docs: ModelDocs) -> Any:
    text = docs.response_example or ""
    return json.loads(text[text.index("{") :], parse_float=Decimal)


def _texts(docs: ModelDocs) -> list[str]:
    return [
        docs.description,
        docs.response_example or "",
        *(text for step in docs.steps for text in (step.title, step.body)),
        *(p.description for p in docs.parameters),
        *(p.default or "" for p in docs.parameters),
        *(e.code for e in docs.examples),
    ]


async def test_rendering_puts_in_the_readers_url(seeded: Runtime) -> None:
    docs = await model_docs(seeded.sessions, "gpt-4o-mini", base_url=BASE_URL + "/")
    curl, python, javascript = (e.code for e in docs.examples)
    assert curl.startswith(f"curl {BASE_URL}/chat/completions \\")
    assert f'OpenAI(base_url="{BASE_URL}", api_key=' in python
    assert f'baseURL: "{BASE_URL}"' in javascript
    assert f"set the base URL to {BASE_URL}." in docs.steps[1].body
    text = (
        "$0.00015 per 1K input tokens and $0.0006 per 1K output tokens; "
        "per 1K tokens of cached input $0.000075"
    )
    assert text in docs.description
    assert docs.price_text == text
    assert (docs.slug, docs.endpoint, docs.model_status, docs.method, docs.status) == (
        "gpt-4o-mini",
        "chat",
        "active",
        "POST",
        200,
    )
    elsewhere = await model_docs(seeded.sessions, "gpt-4o-mini", base_url="https://ai.example.com/api/v1")
    assert elsewhere.examples[0].code.startswith("curl https://ai.example.com/api/v1/chat/completions")
    image = await model_docs(seeded.sessions, "dall-e-3", base_url=BASE_URL)
    assert _json_of(image)["data"][0]["url"] == "http://127.0.0.1:8000/files/img_7QkL2m9xV4.png"


async def test_stored_rows_keep_placeholders_not_a_host(seeded: Runtime) -> None:
    async with seeded.sessions() as session:
        doc = await session.scalar(
            select(AiModelDoc)
            .join(AiModel, AiModel.id == AiModelDoc.model_id)
            .where(AiModel.slug == "whisper-1")
        )
    assert doc is not None and doc.response_example is not None
    assert '"cost": {{ cost(61) }}' in doc.response_example
    assert "{{ price_text }}" in (doc.description or "")
    assert "YOUR_HOST" not in doc.response_example + (doc.description or "")


async def test_every_seeded_model_renders(seeded: Runtime) -> None:
    for spec in SPEC.models:
        docs = await model_docs(seeded.sessions, spec.slug, base_url=BASE_URL)
        for text in _texts(docs):
            assert not re.search(r"\{\{|\{%|\{#", text), (spec.slug, text)
        assert all(BASE_URL in e.code for e in docs.examples), spec.slug
        ast.parse(docs.examples[1].code)
        body = _json_of(docs)
        price = PriceInfo(spec.price.unit, spec.price.input_nanos, spec.price.output_nanos)
        if spec.endpoint == "chat":
            usage = body["usage"]
            expected = chat_cost(price, usage["prompt_tokens"], usage["completion_tokens"])
        elif spec.endpoint == "rerank" and spec.price.unit == "per_request":
            expected = unit_cost(price, body["usage"]["search_units"])  # billed per search
        else:
            quantity = next(
                body["usage"][k]
                for k in ("prompt_tokens", "images", "seconds", "characters")
                if k in body["usage"]
            )
            expected = unit_cost(price, quantity)
        assert body["usage"]["cost"] == body["billing"]["cost_usd"] == Decimal(usd_str(expected)), spec.slug
        assert body["billing"]["catalog_pricing"]["slug"] == spec.slug


async def test_docs_follow_the_price_an_operator_set(seeded: Runtime) -> None:
    async with seeded.sessions() as session, session.begin():
        model_id = await session.scalar(select(AiModel.id).where(AiModel.slug == "whisper-1"))
        await session.execute(
            update(AiModelPricing)
            .where(AiModelPricing.model_id == model_id)
            .values(price_unit="per_second", input_price_nanos=250_000, source="operator")
        )
    docs = await model_docs(seeded.sessions, "whisper-1", base_url=BASE_URL)
    assert docs.price_text == "$0.00025 per second of audio"
    assert "bill $0.00025 per second of audio" in docs.steps[-1].body
    body = _json_of(docs)
    assert body["usage"] == {"type": "duration", "seconds": 61, "cost": Decimal("0.01525")}
    assert body["billing"]["catalog_pricing"]["price_unit"] == "per_second"


async def test_a_model_without_a_valid_price_renders_without_numbers(seeded: Runtime) -> None:
    async with seeded.sessions() as session, session.begin():
        model_id = await session.scalar(select(AiModel.id).where(AiModel.slug == "gpt-4o-mini"))
        await session.execute(
            update(AiModelPricing).where(AiModelPricing.model_id == model_id).values(price_unit="per_image")
        )
    docs = await model_docs(seeded.sessions, "gpt-4o-mini", base_url=BASE_URL)
    assert docs.price_text is None and "(not priced yet)" in docs.description
    body = _json_of(docs)
    assert body["usage"]["cost"] is None and body["billing"] is None


async def _set_step_body(runtime: Runtime, slug: str, body: str) -> None:
    async with runtime.sessions() as session, session.begin():
        doc_id = await session.scalar(
            select(AiModelDoc.id).join(AiModel, AiModel.id == AiModelDoc.model_id).where(AiModel.slug == slug)
        )
        await session.execute(
            update(AiModelDocStep)
            .where(AiModelDocStep.doc_id == doc_id, AiModelDocStep.step_number == 3)
            .values(body=body)
        )


async def test_a_row_with_an_unknown_placeholder_is_a_clear_catalog_error(seeded: Runtime) -> None:
    await _set_step_body(seeded, "deepseek", "Send your key {{ api_key }} with every call.")
    with pytest.raises(DocsTemplateError) as info:
        await model_docs(seeded.sessions, "deepseek", base_url=BASE_URL)
    assert info.value.status == 422 and info.value.code == "INVALID_DOCS_TEMPLATE"
    assert info.value.message == "The docs of 'deepseek' (step 3 body): 'api_key' is undefined"
    # Other models are unaffected.
    assert (await model_docs(seeded.sessions, "gpt-4o-mini", base_url=BASE_URL)).steps


@pytest.mark.parametrize(
    "body",
    [
        "{{ ''.__class__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cost.__globals__['__builtins__']['__import__']('os').system('touch /tmp/modelsnest-pwned') }}",
        "{% for a in base_url %}{% for b in base_url %}{% for c in base_url %}x{% endfor %}{% endfor %}{% endfor %}",
    ],
)
async def test_a_sandbox_escape_attempt_is_refused(seeded: Runtime, body: str) -> None:
    await _set_step_body(seeded, "deepseek", body)
    with pytest.raises(DocsTemplateError, match=r"^The docs of 'deepseek' \(step 3 body\): .*not allowed"):
        await model_docs(seeded.sessions, "deepseek", base_url=BASE_URL)


async def test_bad_requests(seeded: Runtime) -> None:
    with pytest.raises(NotFound, match="No model with slug 'nope'"):
        await model_docs(seeded.sessions, "nope", base_url=BASE_URL)
    for url in ("not a url", "ftp://example.com/api/v1", 'http://evil"host/api/v1'):
        with pytest.raises(InvalidRequest) as info:
            await model_docs(seeded.sessions, "deepseek", base_url=url)
        assert info.value.param == "base_url"


def test_an_editor_can_check_a_row_before_saving_it() -> None:
    check_docs_template('curl {{ base_url }}/chat/completions -d \'{"model": "{{ slug }}"}\'')
    check_docs_template('"cost": {{ cost(31, 58) }}, "billing": {{ billing(31, 58) | indent(2) }}')
    check_docs_template("{{ cost(12) }} for {{ price_text }}", endpoint="embeddings")
    with pytest.raises(DocsTemplateError, match="chat model's cost takes"):
        check_docs_template("{{ cost(12) }}")
    with pytest.raises(DocsTemplateError, match="whole numbers"):
        check_docs_template("{{ cost(1.5, 2) }}")
    with pytest.raises(DocsTemplateError, match="'api_key' is undefined"):
        check_docs_template("{{ api_key }}")
    assert {"base_url", "site_url", "price_text", "cost(…)", "billing(…)"} <= set(DOCS_VARIABLES)
