"""One model's documentation, rendered at request time from the stored docs rows.

The docs tables (``ai_model_docs`` and its steps, parameters and examples) hold what the seed
wrote (``docs.build_docs``) or an operator edited: Jinja2 templates. ``model_docs`` renders
them in the docs sandbox (``docs_jinja``) with the request's public base URL and the model's
current price, and returns plain dataclasses (no HTML; a page renders them):

    docs = await model_docs(sessions, "gpt-4o-mini", base_url="http://127.0.0.1:8000/api/v1")
    docs.examples[0].code  # curl http://127.0.0.1:8000/api/v1/chat/completions …

The placeholders a row may use are ``DOCS_VARIABLES``. ``check_docs_template`` tells an editor
whether a row it is about to save renders. Failures are ``DocsTemplateError`` (422) naming the
model and the row; a malformed base URL is ``InvalidRequest``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

import orjson
from sqlalchemy import select

from modelsnest.catalog.docs import DocExample, DocParam, DocSpec
from modelsnest.catalog.docs_jinja import DocsSandbox, render_docs_template
from modelsnest.catalog.price_rows import current_model_price
from modelsnest.catalog.pricing import billing_json, chat_cost, price_text, require_price, unit_cost
from modelsnest.catalog.providers import validate_base_url
from modelsnest.catalog.types import ENDPOINTS, PriceInfo
from modelsnest.db.engine import SessionFactory
from modelsnest.db.models.catalog import (
    AiModel,
    AiModelDoc,
    AiModelDocExample,
    AiModelDocParameter,
    AiModelDocStep,
)
from modelsnest.errors import InvalidRequest, NotFound, PricingError
from modelsnest.money import usd_str

__all__ = [
    "DOCS_VARIABLES",
    "DocStep",
    "ModelDocs",
    "check_docs_template",
    "model_docs",
    "render_docs",
]

DOCS_VARIABLES: Final[Mapping[str, str]] = {
    "base_url": "The public API base URL the reader calls, e.g. https://api.example.com/api/v1.",
    "site_url": "The public site root (files are served under {{ site_url }}/files/…).",
    "slug": 'The model id to send as "model".',
    "name": "The model's display name.",
    "price_text": "The model's current price in words, e.g. $0.15 per 1K input tokens.",
    "cost(…)": "The exact USD cost, as a JSON number, of an example request at the current price: "
    "cost(prompt_tokens, completion_tokens) for chat models, cost(quantity) for the others "
    "(tokens, images, seconds or characters); null while the model has no valid price.",
    "billing(…)": "The billing object of that example, as indented JSON (the same arguments as "
    "cost); write {{ billing(…) | indent(2) }} one level deep in a JSON body.",
}
UNPRICED_TEXT: Final = "(not priced yet)"
_MAX_QUANTITY: Final = 10**12
_RENDER_ENV: Final = DocsSandbox()
_UNSAFE_URL_CHARS: Final = re.compile(r"[\"'`<>\\{}\s\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class DocStep:
    number: int
    title: str
    body: str


@dataclass(frozen=True, slots=True)
class ModelDocs:
    """One model's docs, rendered: plain text and code, ready for a page or an API."""

    slug: str
    name: str
    endpoint: str
    model_status: str  # active, beta, deprecated or disabled: a page decides what to show
    description: str
    method: str
    path: str
    status: int  # of a successful response: 200, or 202 for an accepted video job
    price_text: str | None  # None while the model has no valid price
    steps: tuple[DocStep, ...]
    parameters: tuple[DocParam, ...]
    examples: tuple[DocExample, ...]
    response_example: str | None


@dataclass(frozen=True, slots=True)
class _Priced:
    slug: str
    endpoint: str
    pricing: PriceInfo | None


def _url(url: str, param: str) -> str:
    # The URL lands inside quoted strings of code samples: it must not be able to close them.
    checked = validate_base_url(url)
    if _UNSAFE_URL_CHARS.search(checked):
        raise InvalidRequest(f"Base URL {url!r} contains characters a URL cannot have.", param=param)
    return checked


def _public_urls(base_url: str, site_url: str | None) -> tuple[str, str]:
    """The validated API base and site root; the root defaults to the base without its
    ``/api/v1`` (or to its origin)."""
    base = _url(base_url, "base_url")
    if site_url is not None:
        return base, _url(site_url, "site_url")
    if base.endswith("/api/v1"):
        return base, base.removesuffix("/api/v1")
    parts = urlsplit(base)
    return base, f"{parts.scheme}://{parts.netloc}"


def _quantities(endpoint: str, values: tuple[Any, ...]) -> tuple[int, ...]:
    wanted = 2 if endpoint == "chat" else 1
    if len(values) != wanted:
        shape = "(prompt_tokens, completion_tokens)" if wanted == 2 else "(quantity)"
        raise TypeError(f"a {endpoint} model's cost takes {shape}")
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_QUANTITY:
            raise ValueError(f"quantities are whole numbers from 0 to {_MAX_QUANTITY}, not {value!r}")
    return tuple(values)


def _money_functions(
    slug: str, endpoint: str, price: PriceInfo | None
) -> tuple[Callable[..., str], Callable[..., str]]:
    priced = _Priced(slug, endpoint, price)

    def nanos(values: tuple[Any, ...]) -> int | None:
        quantities = _quantities(endpoint, values)
        if price is None:
            return None
        if endpoint == "chat":
            return chat_cost(price, quantities[0], quantities[1])
        return unit_cost(price, quantities[0])

    def cost(*values: Any) -> str:
        amount = nanos(values)
        return "null" if amount is None else usd_str(amount)  # what ``money()`` writes into JSON

    def billing(*values: Any) -> str:
        amount = nanos(values)
        if amount is None:
            return "null"
        return orjson.dumps(billing_json(priced, amount), option=orjson.OPT_INDENT_2).decode()

    return cost, billing


def _context(
    *, slug: str, name: str, endpoint: str, price: PriceInfo | None, base_url: str, site_url: str
) -> dict[str, Any]:
    try:
        valid = require_price(_Priced(slug, endpoint, price))
        shown: str | None = price_text(valid, endpoint)
    except PricingError:  # no price, or one that cannot bill this endpoint: no numbers shown
        valid, shown = None, None
    cost, billing = _money_functions(slug, endpoint, valid)
    return {
        "base_url": base_url,
        "site_url": site_url,
        "slug": slug,
        "name": name,
        "price_text": shown or UNPRICED_TEXT,
        "cost": cost,
        "billing": billing,
    }


def render_docs(
    doc: DocSpec,
    *,
    slug: str,
    name: str,
    endpoint: str,
    price: PriceInfo | None,
    base_url: str,
    site_url: str | None = None,
    model_status: str = "active",
) -> ModelDocs:
    """Render stored (or freshly built) docs of one model; see the module docstring."""
    base, root = _public_urls(base_url, site_url)
    context = _context(slug=slug, name=name, endpoint=endpoint, price=price, base_url=base, site_url=root)

    def render(source: str, where: str) -> str:
        return render_docs_template(_RENDER_ENV, source, context, f"The docs of {slug!r} ({where})")

    parameters = tuple(
        DocParam(
            name=p.name,
            type=p.type,
            required=p.required,
            description=render(p.description, f"parameter {p.name} description"),
            default=render(p.default, f"parameter {p.name} default") if p.default is not None else None,
        )
        for p in doc.parameters
    )
    return ModelDocs(
        slug=slug,
        name=name,
        endpoint=endpoint,
        model_status=model_status,
        description=render(doc.description, "description"),
        method=doc.method,
        path=doc.path,
        status=doc.status,
        price_text=None if context["price_text"] == UNPRICED_TEXT else context["price_text"],
        steps=tuple(
            DocStep(n, render(title, f"step {n} title"), render(body, f"step {n} body"))
            for n, (title, body) in enumerate(doc.steps, start=1)
        ),
        parameters=parameters,
        examples=tuple(
            DocExample(e.language, e.title, render(e.code, f"{e.language} example")) for e in doc.examples
        ),
        response_example=render(doc.response_example, "response example") if doc.response_example else None,
    )


async def model_docs(
    sessions: SessionFactory, slug: str, *, base_url: str, site_url: str | None = None
) -> ModelDocs:
    """The docs of the model ``slug`` as a reader at ``base_url`` (the public API base, e.g.
    ``http://127.0.0.1:8000/api/v1``) should see them, at the model's current price."""
    async with sessions() as session:
        model = await session.scalar(select(AiModel).where(AiModel.slug == slug))
        if model is None:
            raise NotFound(f"No model with slug {slug!r}.", param="model")
        doc = await session.scalar(select(AiModelDoc).where(AiModelDoc.model_id == model.id))
        if doc is None:
            raise NotFound(f"Model {slug!r} has no documentation yet.", param="model")
        steps = (
            await session.scalars(
                select(AiModelDocStep)
                .where(AiModelDocStep.doc_id == doc.id)
                .order_by(AiModelDocStep.step_number)
            )
        ).all()
        params = (
            await session.scalars(
                select(AiModelDocParameter)
                .where(AiModelDocParameter.doc_id == doc.id)
                .order_by(AiModelDocParameter.sort_order, AiModelDocParameter.id)
            )
        ).all()
        examples = (
            await session.scalars(
                select(AiModelDocExample)
                .where(AiModelDocExample.doc_id == doc.id)
                .order_by(AiModelDocExample.sort_order, AiModelDocExample.id)
            )
        ).all()
        price = await current_model_price(session, model.id)
    stored = DocSpec(
        description=doc.description or "",
        method=doc.endpoint_method,
        path=doc.endpoint_path,
        status=doc.response_status,
        steps=tuple((step.title, step.body) for step in steps),
        parameters=tuple(
            DocParam(p.name, p.type, p.required, p.description, p.default_value) for p in params
        ),
        examples=tuple(DocExample(e.language, e.title or e.language, e.code) for e in examples),
        response_example=doc.response_example or "",
    )
    return render_docs(
        stored,
        slug=model.slug,
        name=model.name,
        endpoint=model.endpoint,
        price=price,
        base_url=base_url,
        site_url=site_url,
        model_status=model.status,
    )


def check_docs_template(source: str, *, endpoint: str = "chat") -> None:
    """Raise ``DocsTemplateError`` unless ``source`` (one docs field an editor is about to save)
    renders for a model of ``endpoint``, with example values for every variable."""
    if endpoint not in ENDPOINTS:
        raise InvalidRequest(f"Unknown endpoint {endpoint!r}.", param="endpoint")
    unit = "per_1k_tokens" if endpoint in ("chat", "embeddings") else "per_request"
    context = _context(
        slug="example-model",
        name="Example model",
        endpoint=endpoint,
        price=PriceInfo(unit, 1_000_000, 2_000_000 if unit == "per_1k_tokens" else 0),
        base_url="https://api.example.com/api/v1",
        site_url="https://api.example.com",
    )
    render_docs_template(_RENDER_ENV, source, context, "This docs text")
