"""API Store products: any HTTP API an operator lists (or one the platform serves itself),
sold per call through the same ``ptr_`` keys and credits as the models."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from modelsnest.db.base import Base, IdMixin, TimestampMixin


class StoreProduct(IdMixin, TimestampMixin, Base):
    """One product. Either ``upstream_base_url`` (a proxied HTTP API, its host fixed here) or
    ``handler`` (a built-in product served in-process) is set. The upstream secret is stored
    encrypted (``crypto.SecretBox``), like provider keys."""

    __tablename__ = "store_products"
    __table_args__ = (
        CheckConstraint("price_per_call_nanos >= 0", name="price_per_call_not_negative"),
        CheckConstraint("price_per_mb_nanos >= 0", name="price_per_mb_not_negative"),
        CheckConstraint("billing_policy IN ('2xx', 'any_answer')", name="billing_policy_known"),
        CheckConstraint("auth_location IN ('none', 'header', 'query')", name="auth_location_known"),
    )

    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(32), default="utilities")
    upstream_base_url: Mapped[str | None] = mapped_column(String(500))
    handler: Mapped[str | None] = mapped_column(String(64))
    auth_location: Mapped[str] = mapped_column(String(8), default="none")
    auth_name: Mapped[str | None] = mapped_column(String(120))
    auth_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    allowed_methods: Mapped[list[Any]]
    path_patterns: Mapped[list[Any]]
    price_per_call_nanos: Mapped[int] = mapped_column(BigInteger, default=0)
    price_per_mb_nanos: Mapped[int] = mapped_column(BigInteger, default=0)
    billing_policy: Mapped[str] = mapped_column(String(16), default="2xx")
    rate_limit_per_minute: Mapped[int | None] = mapped_column(Integer)
    timeout_seconds: Mapped[float] = mapped_column(Float, default=30.0)
    max_request_bytes: Mapped[int] = mapped_column(BigInteger, default=10 * 1024 * 1024)
    max_response_bytes: Mapped[int] = mapped_column(BigInteger, default=50 * 1024 * 1024)
    allow_private_network: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    docs_markdown: Mapped[str] = mapped_column(Text, default="")
