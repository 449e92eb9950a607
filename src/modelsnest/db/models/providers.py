from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from modelsnest.db.base import Base, BigIntPK, IdMixin, TimestampMixin


class Provider(IdMixin, TimestampMixin, Base):
    """An upstream. The API key is stored encrypted with a key derived from the secret key.

    ``kind`` names a kind of the provider registry (``modelsnest.providers.registry``); the
    service layer validates it there, so a plugin's kind needs no migration."""

    __tablename__ = "providers"

    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    base_url: Mapped[str | None] = mapped_column(String(500))
    api_key_encrypted: Mapped[str | None] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    connect_timeout: Mapped[float] = mapped_column(Float, default=5.0)
    first_byte_timeout: Mapped[float] = mapped_column(Float, default=60.0)
    total_timeout: Mapped[float] = mapped_column(Float, default=600.0)
    config: Mapped[dict[str, Any] | None]
    # Health as the gateway last saw it (circuit breaker), shared by every replica.
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    circuit_open_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]


class ModelRoute(IdMixin, TimestampMixin, Base):
    """Model → provider + upstream model id. Tried by ascending priority; weight spreads load
    between routes of equal priority."""

    __tablename__ = "model_routes"
    __table_args__ = (
        UniqueConstraint("model_id", "provider_id", "upstream_model"),
        CheckConstraint("weight >= 0", name="weight_not_negative"),
    )

    model_id: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("ai_models.id", ondelete="CASCADE"), index=True
    )
    provider_id: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("providers.id", ondelete="CASCADE"), index=True
    )
    upstream_model: Mapped[str] = mapped_column(String(200))
    priority: Mapped[int] = mapped_column(Integer, default=100)
    weight: Mapped[int] = mapped_column(Integer, default=1)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
