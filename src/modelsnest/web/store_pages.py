"""What the API Store pages show of the store's products (``web.routes.dashboard``): the
cards' filters and search, a product's docs and curl example, the "try it" form read back,
and a product's answer made safe to show (text escaped by the template, JSON pretty-printed,
PNG / SVG as an ``<img>`` data URL, anything else as its size)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from markupsafe import Markup

from modelsnest.catalog.listing import Directory
from modelsnest.content.markdown import render_markdown
from modelsnest.errors import ModelsnestError, public_message
from modelsnest.store import ProductView
from modelsnest.store.trial import TrialAnswer
from modelsnest.web.forms import Form
from modelsnest.web.templating import prose

KINDS: Final = ("models", "apis")
CATEGORY_NAMES: Final = {"ai": "AI"}
IMAGE_TYPES: Final = ("image/png", "image/svg+xml")
MAX_SHOWN_BYTES: Final = 200_000
MAX_BODY_CHARS: Final = 10_000
MAX_FIELD_CHARS: Final = 2_000
SAMPLE_HTML: Final = (
    '<h1>Hello</h1>\n<p>From the <b>API Store</b>, with <a href="https://example.com">a link</a>.</p>'
)


def category_name(slug: str) -> str:
    return CATEGORY_NAMES.get(slug, slug.replace("-", " ").capitalize())


def product_categories(products: Iterable[ProductView]) -> dict[str, str]:
    """The categories of the listed products, slug → name, alphabetical."""
    return {slug: category_name(slug) for slug in sorted({p.category for p in products})}


def product_counts(products: Iterable[ProductView]) -> dict[str, int]:
    out: dict[str, int] = {}
    for product in products:
        out[product.category] = out.get(product.category, 0) + 1
    return out


@dataclass(frozen=True)
class FilterCounts:
    """The number on each filter chip: what that chip would show with the other active
    filters kept (the kind chips count under the chosen category and search, the category
    chips under the chosen kind and search)."""

    kinds: dict[str, int]  # "" (everything), "models", "apis"
    categories: dict[str, int]  # a model or product category's slug
    every_category: int  # the "All" chip


def filter_counts(
    directory: Directory,
    products: Iterable[ProductView],
    *,
    kind: str,
    category: str | None,
    query: str,
) -> FilterCounts:
    """``category`` is the chosen model or product category's slug (None: all)."""
    listed = list(products)
    model_slugs = {c.slug for c in directory.categories} & {m.info.category for m in directory.models}
    product_slugs = {p.category for p in listed}

    def models_in(slug: str | None) -> int:
        if slug is not None and slug not in model_slugs:
            return 0
        return len(directory.search(category=slug, query=query))

    def products_in(slug: str | None) -> int:
        if slug is not None and slug not in product_slugs:
            return 0
        return len(search_products(listed, category=slug, query=query))

    def under_kind(slug: str | None) -> int:
        return (models_in(slug) if kind != "apis" else 0) + (products_in(slug) if kind != "models" else 0)

    models, apis = models_in(category), products_in(category)
    return FilterCounts(
        kinds={"": models + apis, "models": models, "apis": apis},
        categories={slug: under_kind(slug) for slug in sorted(model_slugs | product_slugs)},
        every_category=under_kind(None),
    )


def _matches(product: ProductView, words: str) -> bool:
    haystack = " ".join((product.slug, product.name, product.description, product.category)).lower()
    return all(word in haystack for word in words.lower().split())


def search_products(
    products: Iterable[ProductView], *, category: str | None = None, query: str = ""
) -> list[ProductView]:
    return [
        p
        for p in products
        if (category is None or p.category == category) and (not query or _matches(p, query))
    ]


def docs_html(markdown: str) -> Markup:
    """A product's docs with the content pages' renderer and sanitiser (no raw HTML survives);
    a leading ``# Title`` is left out (the page's own heading is the product's name)."""
    text = markdown.lstrip()
    if text.startswith("# "):
        text = text.partition("\n")[2]
    return prose(render_markdown(text).html)


def example_path(product: ProductView) -> str:
    """A path the product accepts, for the examples (a pattern's wildcards left out)."""
    for pattern in product.path_patterns:
        cleaned = pattern.replace("**", "").replace("*", "").strip("/")
        if cleaned:
            return cleaned
    return ""


def curl_example(base_url: str, product: ProductView) -> str:
    method = product.allowed_methods[0] if product.allowed_methods else "GET"
    query = default_try(product).query
    url = f"{base_url}/api/v1/store/{product.slug}/{example_path(product)}" + (f"?{query}" if query else "")
    lines = [f'curl -X {method} "{url}" \\', '  -H "Authorization: Bearer $MODELSNEST_API_KEY"']
    if method in ("POST", "PUT", "PATCH"):
        lines[-1] += " \\"
        lines.append('  -H "Content-Type: application/json" --data-binary @body.json')
    return "\n".join(lines)


@dataclass(frozen=True)
class TryForm:
    """The "try it" builder's values (shown again after the call)."""

    method: str
    path: str
    query: str
    content_type: str
    body: str
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def headers(self) -> list[tuple[str, str]]:
        return [("Content-Type", self.content_type)] if self.content_type and self.body else []


def default_try(product: ProductView) -> TryForm:
    method = product.allowed_methods[0] if product.allowed_methods else "GET"
    query = "data=https%3A%2F%2Fmodelsnest.example&format=png&size=6" if product.handler == "qr-code" else ""
    if product.handler == "html-to-markdown":
        return TryForm(method, example_path(product), "", "text/html", SAMPLE_HTML)
    sends = method in ("POST", "PUT", "PATCH")
    return TryForm(method, example_path(product), query, "application/json" if sends else "", "")


def read_try(form: Form, product: ProductView) -> TryForm:
    method = form.get("method", "GET").upper()
    if method not in product.allowed_methods:
        method = product.allowed_methods[0] if product.allowed_methods else "GET"
    return TryForm(
        method=method,
        path=form.get("path").strip()[:MAX_FIELD_CHARS],
        query=form.get("query").strip().lstrip("?")[:MAX_FIELD_CHARS],
        content_type=form.get("content_type").strip()[:200],
        body=form.get("body")[:MAX_BODY_CHARS],
    )


def _pretty_json(body: bytes) -> str | None:
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except (ValueError, UnicodeDecodeError):
        return None


def show_answer(answer: TrialAnswer) -> dict[str, Any]:
    """The answer as the result panel shows it. ``kind``: image, json, text or binary."""
    headers = list(answer.headers)
    if not any(k.lower() == "content-type" for k, _ in headers):
        headers.insert(0, ("Content-Type", answer.media_type))
    shown: dict[str, Any] = {
        "ok": 200 <= answer.status < 300,
        "status": answer.status,
        "headers": headers,
        "media_type": answer.media_type,
        "size": len(answer.body),
        "cost_nanos": answer.cost_nanos,
        "balance_nanos": answer.balance_nanos,
        "error": None,
        "kind": "binary",
        "text": "",
        "data_url": "",
        "truncated": len(answer.body) > MAX_SHOWN_BYTES,
    }
    body = answer.body[:MAX_SHOWN_BYTES]
    if answer.media_type in IMAGE_TYPES and not shown["truncated"]:
        encoded = base64.b64encode(answer.body).decode("ascii")
        shown.update(kind="image", data_url=f"data:{answer.media_type};base64,{encoded}")
    elif answer.media_type.endswith("json") and (pretty := _pretty_json(answer.body)) is not None:
        shown.update(kind="json", text=pretty[:MAX_SHOWN_BYTES])
    else:
        try:
            shown.update(kind="text", text=body.decode("utf-8"))
        except UnicodeDecodeError:
            if answer.media_type.startswith("text/"):
                shown.update(kind="text", text=body.decode("utf-8", errors="replace"))
    return shown


def show_error(exc: ModelsnestError) -> dict[str, Any]:
    """A refusal of the store (no call made, nothing charged), as the result panel shows it."""
    return {
        "ok": False,
        "status": exc.status,
        "headers": [],
        "error": public_message(exc),
        "code": exc.code,
        "cost_nanos": None,
        "balance_nanos": None,
        "kind": "error",
    }
