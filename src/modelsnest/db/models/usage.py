"""Usage: one row per request (``usage_logs``, grows without bound) and daily rollups per
user, key and model (``usage_daily``) that dashboards and budget checks read instead."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from modelsnest.db.base import Base, BigIntPK, IdMixin, utcnow


class UsageLog(IdMixin, Base):
    __tablename__ = "usage_logs"
    __table_args__ = (
        Index("ix_usage_logs_user_created", "user_id", "created_at"),
        Index("ix_usage_logs_token_created", "api_token_id", "created_at"),
        Index("ix_usage_logs_created", "created_at"),
    )

    request_id: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("users.id", ondelete="CASCADE"))
    api_token_id: Mapped[int | None] = mapped_column(
        BigIntPK, ForeignKey("api_tokens.id", ondelete="SET NULL")
    )
    # Where the call came from: api | playground | store (checked by billing, not by a CHECK:
    # changing one on SQLite rebuilds the table, and this is the largest table there is).
    origin: Mapped[str] = mapped_column(String(16), default="api", server_default="api")
    endpoint: Mapped[str] = mapped_column(String(64))
    model_slug: Mapped[str] = mapped_column(String(120))
    provider_name: Mapped[str | None] = mapped_column(String(64))
    upstream_model: Mapped[str | None] = mapped_column(String(200))
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    # Non-token units (images, seconds, characters) and their kind, for other modalities.
    units: Mapped[int] = mapped_column(BigInteger, default=0)
    unit_type: Mapped[str | None] = mapped_column(String(32))
    cost_nanos: Mapped[int] = mapped_column(BigInteger, default=0)
    # Token details (OpenAI's convention: parts of prompt_tokens / completion_tokens).
    cached_tokens: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    cache_write_tokens: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    reasoning_tokens: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    audio_input_tokens: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    audio_output_tokens: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The selling price version (``ai_model_pricing.id``) the request was billed at, and how:
    # one line per dimension (``catalog.pricing.Costing.as_record``). No foreign key: price
    # versions are never deleted while a model exists, and this is the hottest insert there is.
    price_version_id: Mapped[int | None] = mapped_column(BigInteger)
    cost_breakdown: Mapped[list[Any] | None]
    # What the serving route's provider charges for the same usage (same one-rounding rule),
    # and the cost price version used; NULL when the route has no cost price.
    upstream_cost_nanos: Mapped[int | None] = mapped_column(BigInteger)
    upstream_price_version_id: Mapped[int | None] = mapped_column(BigInteger)
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    ttft_ms: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))  # success | error | cancelled | partial
    http_status: Mapped[int | None] = mapped_column(Integer)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    streamed: Mapped[bool] = mapped_column(Boolean, default=False)
    meta: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class UsageDaily(Base):
    """One row per (UTC day, user, key, model, provider). ``api_token_id`` 0 means "no key"
    (dashboard); ``provider_name`` '' means none answered (a request refused or failed before).

    ``upstream_cost_nanos`` sums the upstream cost of the requests whose route has a cost
    price; ``upstream_uncosted_nanos`` sums what was charged for the others, so the margin
    ``cost_nanos - upstream_uncosted_nanos - upstream_cost_nanos`` is exact over the costed part."""

    __tablename__ = "usage_daily"
    __table_args__ = (Index("ix_usage_daily_token_day", "api_token_id", "day"),)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    api_token_id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    model_slug: Mapped[str] = mapped_column(String(120), primary_key=True)
    provider_name: Mapped[str] = mapped_column(String(64), primary_key=True, server_default="")
    requests: Mapped[int] = mapped_column(BigInteger, default=0)
    errors: Mapped[int] = mapped_column(BigInteger, default=0)
    prompt_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    completion_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    units: Mapped[int] = mapped_column(BigInteger, default=0)
    cost_nanos: Mapped[int] = mapped_column(BigInteger, default=0)
    cached_tokens: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    cache_write_tokens: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    reasoning_tokens: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    audio_input_tokens: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    audio_output_tokens: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    upstream_cost_nanos: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    upstream_uncosted_nanos: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
