"""API Store products as operators manage them: list with sales, create, edit, disable or
enable, test. The upstream secret is write-only: ``store.products`` encrypts it, and neither a
page nor an audit row ever holds it (only whether there is one)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Final

from modelsnest.admin import audit
from modelsnest.admin.audit import Actor
from modelsnest.db.engine import SessionFactory
from modelsnest.errors import InvalidRequest
from modelsnest.money import InvalidAmount, usd_str, usd_to_nanos
from modelsnest.store import Store
from modelsnest.store.stats import ProductSales
from modelsnest.store.types import ProbeResult, ProductSpec, ProductView

TARGET: Final = "store_product"
FIELDS: Final = (
    "slug",
    "name",
    "description",
    "category",
    "upstream_base_url",
    "auth_location",
    "auth_name",
    "auth_secret",
    "allowed_methods",
    "path_patterns",
    "price_per_call",
    "price_per_mb",
    "billing_policy",
    "rate_limit_per_minute",
    "timeout_seconds",
    "max_request_bytes",
    "max_response_bytes",
    "docs_markdown",
)


@dataclass(frozen=True, slots=True)
class ProductRow:
    product: ProductView
    calls: int
    revenue_nanos: int

    @property
    def call_usd(self) -> str:
        return usd_str(self.product.price_per_call_nanos)

    @property
    def mb_usd(self) -> str:
        return usd_str(self.product.price_per_mb_nanos)


def state(view: ProductView) -> dict[str, Any]:
    """What the audit log keeps of a product: every field but the secret (only ``has_secret``)."""
    kept = asdict(view)
    for name in ("id", "created_at", "updated_at", "docs_markdown"):
        kept.pop(name, None)
    kept["allowed_methods"] = list(view.allowed_methods)
    kept["path_patterns"] = list(view.path_patterns)
    kept["docs_length"] = len(view.docs_markdown)
    return kept


async def product_rows(store: Store) -> list[ProductRow]:
    products = await store.list_products()
    sales: dict[str, ProductSales] = {s.slug: s for s in await store.sales()}
    rows = []
    for p in products:
        s = sales.get(p.slug)
        rows.append(ProductRow(p, s.calls if s else 0, s.revenue_nanos if s else 0))
    return rows


def _usd(name: str, text: str) -> int | None:
    text = text.strip().removeprefix("$").strip()
    if not text:
        return None
    try:
        return usd_to_nanos(text)
    except (InvalidAmount, ValueError):
        raise InvalidRequest("Write a price in US dollars, e.g. 0.001.", param=name) from None


def _int(name: str, text: str, label: str) -> int | None:
    text = text.strip().replace("_", "").replace(",", "")
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise InvalidRequest(f"The {label} is a whole number.", param=name) from None


def _float(name: str, text: str, label: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise InvalidRequest(f"The {label} is a number of seconds.", param=name) from None


def _lines(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.replace(",", "\n").splitlines() if part.strip())


def spec_from_form(
    values: dict[str, str], methods: list[str], *, creating: bool, builtin: bool = False
) -> ProductSpec:
    """A spec from the form's text: blank keeps a field on edit; on create the defaults of
    ``store.products`` apply. A blank secret keeps the stored one."""
    secret = values.get("auth_secret", "")
    rate = values.get("rate_limit_per_minute", "").strip()
    base_url = values.get("upstream_base_url", "").strip()
    return ProductSpec(
        name=values.get("name", "").strip() or (None if not creating else ""),
        description=values.get("description", ""),
        category=values.get("category") or None,
        upstream_base_url=None if builtin else (base_url or (None if not creating else "")),
        auth_location=values.get("auth_location") or None,
        auth_name=(values.get("auth_name", "").strip() or None),
        auth_secret=secret if secret.strip() else None,
        clear_auth_secret=values.get("clear_auth_secret", "") == "on",
        allowed_methods=tuple(methods) if methods or creating else None,
        path_patterns=_lines(values.get("path_patterns", "")) if not builtin else None,
        price_per_call_nanos=_usd("price_per_call", values.get("price_per_call", "")),
        price_per_mb_nanos=_usd("price_per_mb", values.get("price_per_mb", "")),
        billing_policy=values.get("billing_policy") or None,
        rate_limit_per_minute=_int("rate_limit_per_minute", rate, "rate limit") if rate else None,
        clear_rate_limit=not rate,
        timeout_seconds=_float("timeout_seconds", values.get("timeout_seconds", ""), "timeout"),
        max_request_bytes=_int("max_request_bytes", values.get("max_request_bytes", ""), "request cap"),
        max_response_bytes=_int("max_response_bytes", values.get("max_response_bytes", ""), "response cap"),
        allow_private_network=values.get("allow_private_network", "") == "on",
        docs_markdown=values.get("docs_markdown", ""),
    )


async def create(
    store: Store, sessions: SessionFactory, actor: Actor, values: dict[str, str], methods: list[str]
) -> ProductView:
    spec = spec_from_form(values, methods, creating=True)
    if not spec.name:
        raise InvalidRequest("A product needs a name.", param="name")
    if not spec.upstream_base_url:
        raise InvalidRequest("Give the upstream base URL.", param="upstream_base_url")
    view = await store.create_product(values.get("slug", "").strip(), spec)
    await audit.record(sessions, actor, "store.create", TARGET, view.slug, after=state(view))
    return view


async def update(
    store: Store,
    sessions: SessionFactory,
    actor: Actor,
    slug: str,
    values: dict[str, str],
    methods: list[str],
) -> ProductView:
    before = await store.get_product(slug)
    spec = spec_from_form(values, methods, creating=False, builtin=before.builtin)
    view = await store.update_product(slug, spec)
    after = state(view)
    if spec.auth_secret is not None:
        after["auth_secret"] = "replaced"
    elif spec.clear_auth_secret:
        after["auth_secret"] = "cleared"
    await audit.record(sessions, actor, "store.update", TARGET, slug, before=state(before), after=after)
    return view


async def set_active(
    store: Store, sessions: SessionFactory, actor: Actor, slug: str, active: bool
) -> ProductView:
    before = await store.get_product(slug)
    view = await store.set_active(slug, active)
    await audit.record(
        sessions,
        actor,
        "store.enable" if active else "store.disable",
        TARGET,
        slug,
        before={"active": before.active},
        after={"active": view.active},
    )
    return view


async def test(
    store: Store, sessions: SessionFactory, actor: Actor, slug: str, path: str, method: str
) -> ProbeResult:
    await store.get_product(slug)
    result = await store.test_product(slug, path=path.strip().lstrip("/"), method=(method or "GET").upper())
    await audit.record(
        sessions,
        actor,
        "store.test",
        TARGET,
        slug,
        after={"path": path, "method": method, "ok": result.ok, "status": result.status},
    )
    return result


def price_text(nanos: int) -> str:
    return usd_str(nanos)
