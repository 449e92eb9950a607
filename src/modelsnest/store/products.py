"""The product list: create, update, disable, read (the CLI, the admin panel and the dashboard
call these); the hot path reads it from memory (``ProductCache``)."""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from modelsnest.crypto import SecretBox
from modelsnest.db.engine import SessionFactory
from modelsnest.db.models import StoreProduct
from modelsnest.errors import Conflict, InvalidRequest, NotFound
from modelsnest.store.safety import check_base_url, check_slug
from modelsnest.store.types import (
    AUTH_LOCATIONS,
    BILLING_POLICIES,
    CATEGORIES,
    METHODS,
    LiveProduct,
    ProductSpec,
    ProductView,
)

MAX_TIMEOUT_SECONDS = 600.0
MAX_BYTES = 1024 * 1024 * 1024  # 1 GiB, the largest cap a product may set


def _view(row: StoreProduct) -> ProductView:
    return ProductView(
        id=row.id,
        slug=row.slug,
        name=row.name,
        description=row.description,
        category=row.category,
        upstream_base_url=row.upstream_base_url,
        handler=row.handler,
        auth_location=row.auth_location,
        auth_name=row.auth_name,
        has_secret=row.auth_secret_encrypted is not None,
        allowed_methods=tuple(row.allowed_methods),
        path_patterns=tuple(row.path_patterns),
        price_per_call_nanos=row.price_per_call_nanos,
        price_per_mb_nanos=row.price_per_mb_nanos,
        billing_policy=row.billing_policy,
        rate_limit_per_minute=row.rate_limit_per_minute,
        timeout_seconds=row.timeout_seconds,
        max_request_bytes=row.max_request_bytes,
        max_response_bytes=row.max_response_bytes,
        allow_private_network=row.allow_private_network,
        active=row.active,
        docs_markdown=row.docs_markdown,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _methods(methods: tuple[str, ...]) -> list[str]:
    cleaned = sorted({m.strip().upper() for m in methods if m.strip()})
    unknown = [m for m in cleaned if m not in METHODS]
    if unknown or not cleaned:
        raise InvalidRequest(f"Allowed methods are some of {', '.join(METHODS)}.", param="allowed_methods")
    return cleaned


def _patterns(patterns: tuple[str, ...]) -> list[str]:
    cleaned = [p.strip().lstrip("/") for p in patterns if p.strip()]
    if not cleaned:
        raise InvalidRequest("Give at least one path pattern ('*' allows every path).", param="path_patterns")
    for pattern in cleaned:
        if ".." in pattern or "\\" in pattern or any(c in pattern for c in "\r\n\x00"):
            raise InvalidRequest(f"Path pattern {pattern!r} is not allowed.", param="path_patterns")
    return cleaned


def _nanos(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidRequest(f"{name} must be a whole, non-negative number of nano-dollars.", param=name)
    return value


def _positive_bytes(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_BYTES:
        raise InvalidRequest(f"{name} must be between 1 and {MAX_BYTES} bytes.", param=name)
    return value


def _apply(row: StoreProduct, spec: ProductSpec, box: SecretBox, *, creating: bool) -> None:
    if spec.name is not None:
        name = spec.name.strip()
        if not 1 <= len(name) <= 120:
            raise InvalidRequest("The name must be 1-120 characters.", param="name")
        row.name = name
    if spec.description is not None:
        row.description = spec.description.strip()
    if spec.category is not None:
        if spec.category not in CATEGORIES:
            raise InvalidRequest(f"The category is one of {', '.join(CATEGORIES)}.", param="category")
        row.category = spec.category
    if spec.upstream_base_url is not None:
        row.upstream_base_url = check_base_url(spec.upstream_base_url)
    if spec.handler is not None:
        from modelsnest.store.builtins import BUILTINS

        if spec.handler not in BUILTINS:
            raise InvalidRequest(f"No built-in handler {spec.handler!r}.", param="handler")
        row.handler = spec.handler
    if spec.auth_location is not None:
        if spec.auth_location not in AUTH_LOCATIONS:
            raise InvalidRequest(
                f"Upstream auth goes in one of {', '.join(AUTH_LOCATIONS)}.", param="auth_location"
            )
        row.auth_location = spec.auth_location
    if spec.auth_name is not None:
        name = spec.auth_name.strip()
        if not name or any(c in name for c in "\r\n\x00:= &?"):
            raise InvalidRequest("The auth header or parameter name is not valid.", param="auth_name")
        row.auth_name = name
    if spec.auth_secret is not None and spec.clear_auth_secret:
        raise InvalidRequest("Give a new secret or clear it, not both.", param="auth_secret")
    if spec.auth_secret is not None:
        secret = spec.auth_secret.strip()
        if not secret or any(c in secret for c in "\r\n\x00"):
            raise InvalidRequest("The secret may not be empty or contain line breaks.", param="auth_secret")
        row.auth_secret_encrypted = box.encrypt(secret)
    if spec.clear_auth_secret:
        row.auth_secret_encrypted = None
    if spec.allowed_methods is not None:
        row.allowed_methods = _methods(spec.allowed_methods)
    if spec.path_patterns is not None:
        row.path_patterns = _patterns(spec.path_patterns)
    if spec.price_per_call_nanos is not None:
        row.price_per_call_nanos = _nanos("price_per_call_nanos", spec.price_per_call_nanos)
    if spec.price_per_mb_nanos is not None:
        row.price_per_mb_nanos = _nanos("price_per_mb_nanos", spec.price_per_mb_nanos)
    if spec.billing_policy is not None:
        if spec.billing_policy not in BILLING_POLICIES:
            raise InvalidRequest("The billing policy is '2xx' or 'any_answer'.", param="billing_policy")
        row.billing_policy = spec.billing_policy
    if spec.rate_limit_per_minute is not None:
        if spec.rate_limit_per_minute < 1:
            raise InvalidRequest(
                "The rate limit is at least 1 call per minute.", param="rate_limit_per_minute"
            )
        row.rate_limit_per_minute = spec.rate_limit_per_minute
    if spec.clear_rate_limit:
        row.rate_limit_per_minute = None
    if spec.timeout_seconds is not None:
        t = spec.timeout_seconds
        if not math.isfinite(t) or not 0 < t <= MAX_TIMEOUT_SECONDS:
            raise InvalidRequest(
                f"The timeout is between 0 and {MAX_TIMEOUT_SECONDS:g} s.", param="timeout_seconds"
            )
        row.timeout_seconds = float(t)
    if spec.max_request_bytes is not None:
        row.max_request_bytes = _positive_bytes("max_request_bytes", spec.max_request_bytes)
    if spec.max_response_bytes is not None:
        row.max_response_bytes = _positive_bytes("max_response_bytes", spec.max_response_bytes)
    if spec.allow_private_network is not None:
        row.allow_private_network = spec.allow_private_network
    if spec.active is not None:
        row.active = spec.active
    if spec.docs_markdown is not None:
        row.docs_markdown = spec.docs_markdown
    # What must hold together.
    if (row.upstream_base_url is None) == (row.handler is None):
        raise InvalidRequest(
            "A product has either an upstream base URL or a built-in handler.", param="upstream_base_url"
        )
    if row.auth_location != "none" and not row.auth_name:
        raise InvalidRequest("Name the header or query parameter that carries the secret.", param="auth_name")
    if row.auth_location != "none" and row.auth_secret_encrypted is None:
        raise InvalidRequest("Upstream auth needs a secret.", param="auth_secret")


async def create_product(
    sessions: SessionFactory, box: SecretBox, slug: str, spec: ProductSpec
) -> ProductView:
    slug = check_slug(slug)
    if spec.name is None:
        raise InvalidRequest("A product needs a name.", param="name")
    row = StoreProduct(
        slug=slug,
        description="",
        category="utilities",
        auth_location="none",
        allowed_methods=["GET"],
        path_patterns=["*"],
        price_per_call_nanos=0,
        price_per_mb_nanos=0,
        billing_policy="2xx",
        timeout_seconds=30.0,
        max_request_bytes=10 * 1024 * 1024,
        max_response_bytes=50 * 1024 * 1024,
        allow_private_network=False,
        active=True,
        docs_markdown="",
    )
    _apply(row, spec, box, creating=True)
    try:
        async with sessions() as session, session.begin():
            if await session.scalar(select(StoreProduct.id).where(StoreProduct.slug == slug)) is not None:
                raise Conflict(f"A product {slug!r} already exists.", param="slug")
            session.add(row)
            await session.flush()
            return _view(row)
    except IntegrityError:
        raise Conflict(f"A product {slug!r} already exists.", param="slug") from None


async def _row(session: Any, slug: str) -> StoreProduct:
    row = await session.scalar(select(StoreProduct).where(StoreProduct.slug == slug))
    if row is None:
        raise NotFound(f"No store product {slug!r}.", code="PRODUCT_NOT_FOUND", param="slug")
    return row  # type: ignore[no-any-return]


async def update_product(
    sessions: SessionFactory, box: SecretBox, slug: str, spec: ProductSpec
) -> ProductView:
    """Change the given fields (``None`` keeps a field); a built-in keeps its handler."""
    async with sessions() as session, session.begin():
        row = await _row(session, slug)
        if row.handler is not None and spec.upstream_base_url is not None:
            raise InvalidRequest("A built-in product has no upstream URL.", param="upstream_base_url")
        if row.upstream_base_url is not None and spec.handler is not None:
            raise InvalidRequest("A proxied product has no built-in handler.", param="handler")
        _apply(row, spec, box, creating=False)
        await session.flush()
        return _view(row)


async def set_active(sessions: SessionFactory, slug: str, active: bool) -> ProductView:
    """Disable (or enable again) a product: calls to a disabled one are refused, nothing charged."""
    async with sessions() as session, session.begin():
        row = await _row(session, slug)
        row.active = active
        await session.flush()
        return _view(row)


async def get_product(sessions: SessionFactory, slug: str) -> ProductView:
    async with sessions() as session:
        return _view(await _row(session, slug))


async def list_products(
    sessions: SessionFactory, *, active_only: bool = False, category: str | None = None
) -> list[ProductView]:
    """Products by category then name (the store page lists ``active_only=True``)."""
    query = select(StoreProduct).order_by(StoreProduct.category, StoreProduct.name)
    if active_only:
        query = query.where(StoreProduct.active.is_(True))
    if category is not None:
        query = query.where(StoreProduct.category == category)
    async with sessions() as session:
        return [_view(row) for row in (await session.scalars(query)).all()]


class ProductCache:
    """Every product in memory, secrets decrypted, refreshed when older than ``ttl_seconds``:
    an operator's change reaches every replica within it."""

    def __init__(self, sessions: SessionFactory, box: SecretBox, ttl_seconds: float) -> None:
        self._sessions = sessions
        self._box = box
        self._ttl = ttl_seconds
        self._products: dict[str, LiveProduct] = {}
        self._loaded_at = -math.inf
        self._lock = asyncio.Lock()

    async def get(self, slug: str) -> LiveProduct | None:
        if time.monotonic() - self._loaded_at > self._ttl:
            async with self._lock:
                if time.monotonic() - self._loaded_at > self._ttl:
                    await self._load()
        return self._products.get(slug)

    def invalidate(self) -> None:
        self._loaded_at = -math.inf

    async def _load(self) -> None:
        async with self._sessions() as session:
            rows = (await session.scalars(select(StoreProduct))).all()
            products = {
                row.slug: LiveProduct(
                    _view(row),
                    self._box.decrypt(row.auth_secret_encrypted) if row.auth_secret_encrypted else None,
                )
                for row in rows
            }
        self._products = products
        self._loaded_at = time.monotonic()
