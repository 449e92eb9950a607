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
    """One row per (UTC day, user, key, model). ``api_token_id`` 0 means "no key" (dashboard)."""

    __tablename__ = "usage_daily"
    __table_args__ = (Index("ix_usage_daily_token_day", "api_token_id", "day"),)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    api_token_id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    model_slug: Mapped[str] = mapped_column(String(120), primary_key=True)
    requests: Mapped[int] = mapped_column(BigInteger, default=0)
    errors: Mapped[int] = mapped_column(BigInteger, default=0)
    prompt_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    completion_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    units: Mapped[int] = mapped_column(BigInteger, default=0)
    cost_nanos: Mapped[int] = mapped_column(BigInteger, default=0)
