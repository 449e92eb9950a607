"""What the store hands out and takes in: plain dataclasses, no ORM objects leave the package."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from modelsnest.money import usd_str

CATEGORIES: Final = ("scraping", "search", "data", "documents", "utilities", "ai", "media", "other")
BILLING_POLICIES: Final = ("2xx", "any_answer")
AUTH_LOCATIONS: Final = ("none", "header", "query")
METHODS: Final = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
MB: Final = 1_000_000  # per-MB prices are per 10^6 bytes of response actually returned


@dataclass(frozen=True)
class ProductView:
    """A product as the CLI, the dashboard and the admin panel see it (never the secret)."""

    id: int
    slug: str
    name: str
    description: str
    category: str
    upstream_base_url: str | None
    handler: str | None
    auth_location: str
    auth_name: str | None
    has_secret: bool
    allowed_methods: tuple[str, ...]
    path_patterns: tuple[str, ...]
    price_per_call_nanos: int
    price_per_mb_nanos: int
    billing_policy: str
    rate_limit_per_minute: int | None
    timeout_seconds: float
    max_request_bytes: int
    max_response_bytes: int
    allow_private_network: bool
    active: bool
    docs_markdown: str
    created_at: datetime
    updated_at: datetime

    @property
    def builtin(self) -> bool:
        return self.handler is not None

    @property
    def model_slug(self) -> str:
        """What its usage rows record as the model (``/api/v1/generation`` shows it)."""
        return f"store/{self.slug}"

    def public_fields(self) -> dict[str, object]:
        """What a customer may see (the store page, docs): never the upstream URL or its auth.
        Prices are exact decimal USD strings."""
        return {
            "slug": self.slug,
            "name": self.name,
            "description": self.description,
            "category": self.category,
            "builtin": self.builtin,
            "endpoint": f"/api/v1/store/{self.slug}/",
            "methods": list(self.allowed_methods),
            "paths": list(self.path_patterns),
            "price_per_call_usd": usd_str(self.price_per_call_nanos),
            "price_per_mb_usd": usd_str(self.price_per_mb_nanos) if self.price_per_mb_nanos else None,
            "billing_policy": self.billing_policy,
            "rate_limit_per_minute": self.rate_limit_per_minute,
            "timeout_seconds": self.timeout_seconds,
            "max_request_bytes": self.max_request_bytes,
            "max_response_bytes": self.max_response_bytes,
            "docs_markdown": self.docs_markdown,
        }

    @property
    def max_cost_nanos(self) -> int:
        """What one call can cost at most: the hold."""
        return max_cost_nanos(self.price_per_call_nanos, self.price_per_mb_nanos, self.max_response_bytes)


@dataclass(frozen=True)
class ProductSpec:
    """Fields for ``create_product`` / ``update_product``; on update ``None`` keeps a field."""

    name: str | None = None
    description: str | None = None
    category: str | None = None
    upstream_base_url: str | None = None
    handler: str | None = None
    auth_location: str | None = None
    auth_name: str | None = None
    auth_secret: str | None = None
    clear_auth_secret: bool = False
    allowed_methods: tuple[str, ...] | None = None
    path_patterns: tuple[str, ...] | None = None
    price_per_call_nanos: int | None = None
    price_per_mb_nanos: int | None = None
    billing_policy: str | None = None
    rate_limit_per_minute: int | None = None
    clear_rate_limit: bool = False
    timeout_seconds: float | None = None
    max_request_bytes: int | None = None
    max_response_bytes: int | None = None
    allow_private_network: bool | None = None
    active: bool | None = None
    docs_markdown: str | None = None


@dataclass(frozen=True)
class LiveProduct:
    """A product as the hot path reads it from memory: its secret decrypted."""

    view: ProductView
    auth_secret: str | None = field(repr=False, default=None)


@dataclass(frozen=True)
class ProbeResult:
    """``test_product``: what one unbilled call to the upstream answered."""

    ok: bool
    status: int | None
    latency_ms: int
    bytes: int
    detail: str


def max_cost_nanos(per_call: int, per_mb: int, max_bytes: int) -> int:
    return per_call + -(-per_mb * max_bytes // MB)


def call_cost_nanos(per_call: int, per_mb: int, returned_bytes: int) -> int:
    """One call's cost: the per-call price plus the per-MB price on the bytes returned,
    computed exactly and rounded up once."""
    return per_call + -(-per_mb * returned_bytes // MB)
