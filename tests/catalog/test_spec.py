"""The packaged seed catalog is complete and consistent, and its generated docs are usable."""

from __future__ import annotations

import ast
import json
import re
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest

from modelsnest.catalog.docs import build_docs
from modelsnest.catalog.docs_render import ModelDocs, render_docs
from modelsnest.catalog.spec import ModelSpec, SpecError, load_catalog_spec, parse_catalog
from modelsnest.catalog.types import CATEGORY_ENDPOINTS, PriceInfo
from modelsnest.providers.registry import default_registry

SPEC = load_catalog_spec()


def test_catalog_has_enough_real_models_in_every_category() -> None:
    assert len(SPEC.models) >= 55
    per_category = Counter(m.category for m in SPEC.models)
    assert set(per_category) == set(CATEGORY_ENDPOINTS)
    assert all(count >= 5 for count in per_category.values()), per_category
    assert {m.endpoint for m in SPEC.models if m.category == "audio"} == {"transcription", "speech"}
    assert len({m.vendor for m in SPEC.models}) >= 20


@pytest.mark.parametrize(
    ("slug", "category", "endpoint", "unit", "input_usd_nanos"),
    [
        ("deepseek", "text", "chat", "per_1k_tokens", 270_000),
        ("whisper-1", "audio", "transcription", "per_minute", 6_000_000),
        ("elevenlabs-v3", "audio", "speech", "per_1k_characters", None),
        ("runway-gen-3", "video", "video", "per_second", None),
        ("midjourney-v5", "image", "images", "per_image", None),
    ],
)
def test_required_models(
    slug: str, category: str, endpoint: str, unit: str, input_usd_nanos: int | None
) -> None:
    model = SPEC.model(slug)
    assert (model.category, model.endpoint, model.price.unit) == (category, endpoint, unit)
    if input_usd_nanos is not None:
        assert model.price.input_nanos == input_usd_nanos


def test_deepseek_is_v3_served_by_novita() -> None:
    deepseek = SPEC.model("deepseek")
    assert "V3" in deepseek.name
    assert deepseek.upstream_ids["novita"] == "deepseek/deepseek-v3-0324"


def test_upstream_ids() -> None:
    assert SPEC.model("gpt-4o-mini").upstream_ids["openai"] == "gpt-4o-mini"
    assert SPEC.model("claude-sonnet-4").upstream_ids["anthropic"] == "claude-sonnet-4-20250514"
    assert SPEC.model("eleven-multilingual-v2").upstream_ids["elevenlabs"] == "eleven_multilingual_v2"
    assert SPEC.model("llama-3.3-70b-instruct").upstream_ids["novita"] == "meta-llama/llama-3.3-70b-instruct"
    assert sum(len(m.upstream_ids) > 1 for m in SPEC.models) >= 3
    for kind in set(default_registry.kinds()) - {"simulator"}:
        assert any(kind in m.upstream_ids for m in SPEC.models), kind


def test_every_model_is_fully_described() -> None:
    for model in SPEC.models:
        assert model.description.count(".") >= 1 and len(model.description) >= 60, model.slug
        if model.endpoint == "chat":
            assert model.context_length and model.max_output_tokens, model.slug
            assert model.price.output_nanos > 0, model.slug
        for context in ("card", "detail", "pricing"):
            assert 2 <= len(model.features[context]) <= 4, (model.slug, context)
    featured = [m.slug for m in SPEC.models if m.featured]
    assert 5 <= len(featured) <= 20


def _payload_of_curl(code: str) -> Any:
    match = re.search(r"-d '(.*?)'", code, re.DOTALL)
    assert match, code
    return json.loads(match.group(1))


def test_docs_for_every_model() -> None:
    for model in SPEC.models:
        docs = build_docs(model)
        assert 3 <= len(docs.steps) <= 5, model.slug
        assert docs.parameters[0].name in ("model", "file")
        assert {p.name for p in docs.parameters if p.required} >= {"model"}
        assert [e.language for e in docs.examples] == ["curl", "python", "javascript"]
        everything = " ".join([docs.description, docs.response_example, *(e.code for e in docs.examples)])
        # Stored as Jinja templates: only what varies per request is left to fill.
        placeholders = set(re.findall(r"\{\{ (\w+)", everything))
        assert placeholders <= {"base_url", "site_url", "price_text", "cost", "billing"}, model.slug
        for example in docs.examples:
            assert model.slug in example.code
            assert "{{ base_url }}" in example.code
        ast.parse(docs.examples[1].code)  # the Python sample is valid Python
        if model.endpoint != "transcription":
            assert _payload_of_curl(docs.examples[0].code)["model"] == model.slug


EXPECTED_ENDPOINTS = {
    "chat": ("POST", "/api/v1/chat/completions", 200),
    "embeddings": ("POST", "/api/v1/embeddings", 200),
    "images": ("POST", "/api/v1/images/generations", 200),
    "transcription": ("POST", "/api/v1/audio/transcriptions", 200),
    "speech": ("POST", "/api/v1/audio/speech", 200),
    "video": ("POST", "/api/v1/video/generations", 202),
    "rerank": ("POST", "/api/v1/rerank", 200),
}


def _rendered(model: ModelSpec) -> ModelDocs:
    price = PriceInfo(model.price.unit, model.price.input_nanos, model.price.output_nanos)
    return render_docs(
        build_docs(model),
        slug=model.slug,
        name=model.name,
        endpoint=model.endpoint,
        price=price,
        base_url="http://127.0.0.1:8000/api/v1",
    )


@pytest.mark.parametrize("endpoint", sorted(EXPECTED_ENDPOINTS))
def test_docs_per_endpoint(endpoint: str) -> None:
    model = next(m for m in SPEC.models if m.endpoint == endpoint)
    docs = _rendered(model)
    assert (docs.method, docs.path, docs.status) == EXPECTED_ENDPOINTS[endpoint]
    python = docs.examples[1].code
    if endpoint in ("video", "rerank"):  # no openai SDK method for these
        assert "httpx" in python and "fetch(" in docs.examples[2].code
    else:
        assert "from openai import OpenAI" in python
        assert 'import OpenAI from "openai"' in docs.examples[2].code
    text = docs.response_example
    raw = text[text.index("{") :] if endpoint == "speech" else text
    body = json.loads(raw, parse_float=Decimal)
    billing = body["billing"]
    assert set(billing) == {"cost_usd", "input_price_per_1k", "output_price_per_1k", "catalog_pricing"}
    assert billing["catalog_pricing"]["slug"] == model.slug
    assert billing["catalog_pricing"]["price_unit"] == model.price.unit
    assert body["usage"]["cost"] == billing["cost_usd"]
    assert isinstance(billing["cost_usd"], Decimal)  # an exact JSON number


def test_whisper_docs_show_the_exact_cost_of_61_seconds() -> None:
    body = json.loads(_rendered(SPEC.model("whisper-1")).response_example or "", parse_float=Decimal)
    assert body["usage"] == {"type": "duration", "seconds": 61, "cost": Decimal("0.0061")}


def test_parameters_follow_capabilities() -> None:
    names = {p.name for p in build_docs(SPEC.model("gpt-4o-mini")).parameters}
    assert {"tools", "response_format", "stream"} <= names
    assert "tools" not in {p.name for p in build_docs(SPEC.model("deepseek-r1")).parameters}
    assert "reasoning_effort" in {p.name for p in build_docs(SPEC.model("o3-mini")).parameters}
    runway = {p.name: p for p in build_docs(SPEC.model("runway-gen-3")).parameters}
    assert runway["image_url"].required is True
    kling = {p.name: p for p in build_docs(SPEC.model("kling-v2-1-master")).parameters}
    assert kling["image_url"].required is False
    assert "dimensions" in {p.name for p in build_docs(SPEC.model("text-embedding-3-large")).parameters}
    assert "dimensions" not in {p.name for p in build_docs(SPEC.model("bge-m3")).parameters}


def _raw_model(**overrides: Any) -> dict[str, Any]:
    model: dict[str, Any] = {
        "slug": "m",
        "name": "M",
        "vendor": "V",
        "category": "text",
        "endpoint": "chat",
        "description": "A model.",
        "context_length": 1000,
        "max_output_tokens": 100,
        "price": {"unit": "per_1k_tokens", "input": "0.001", "output": "0.002"},
        "features": {"card": ["a", "b"], "detail": ["a", "b"], "pricing": ["a", "b"]},
    }
    model.update(overrides)
    return model


CATEGORIES = [{"slug": "text", "name": "Text", "description": "d"}]


def test_parse_accepts_a_minimal_model() -> None:
    spec = parse_catalog(CATEGORIES, [[_raw_model()]])
    assert spec.models[0].price.output_nanos == 2_000_000


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"price": {"unit": "per_image", "input": "0.04"}}, "cannot bill"),
        ({"price": {"unit": "per_1k_tokens", "input": 0.001}}, "decimal strings"),
        ({"price": {"unit": "per_1k_tokens", "input": "0.0000000001"}}, "precision"),
        ({"category": "video"}, "unknown category"),
        ({"endpoint": "images"}, "does not belong"),
        ({"max_output_tokens": None}, "context_length and max_output_tokens"),
        ({"features": {"card": ["a"], "detail": ["a", "b"], "pricing": ["a", "b"]}}, "2 to 4"),
        ({"status": "gone"}, "unknown status"),
        ({"capabilities": {"tools": "yes"}}, "booleans"),
    ],
)
def test_parse_rejects_inconsistent_models(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(SpecError, match=message):
        parse_catalog(CATEGORIES, [[_raw_model(**overrides)]])


def test_parse_rejects_duplicate_slugs() -> None:
    with pytest.raises(SpecError, match="twice"):
        parse_catalog(CATEGORIES, [[_raw_model()], [_raw_model()]])
