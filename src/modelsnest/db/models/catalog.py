"""The model catalog: the eight tables of DESIGN §4."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from modelsnest.db.base import Base, BigIntPK, IdMixin, TimestampMixin, utcnow

PRICE_UNITS = (
    "per_1k_tokens",
    "per_image",
    "per_second",
    "per_minute",
    "per_character",
    "per_1k_characters",
    "per_request",
)
# What a price can charge for (``ai_model_price_components.dimension``; the CHECK lists them).
PRICE_DIMENSIONS = (
    "input",
    "output",
    "cached_input",
    "cache_write",
    "cache_write_1h",
    "reasoning",
    "audio_input",
    "audio_output",
    "image",
)


class AiModelCategory(IdMixin, Base):
    __tablename__ = "ai_model_categories"

    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str | None] = mapped_column(Text)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class AiModel(IdMixin, TimestampMixin, Base):
    __tablename__ = "ai_models"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'beta', 'deprecated', 'disabled')", name="status"),
    )

    slug: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    vendor: Mapped[str] = mapped_column(String(120))  # who made it: OpenAI, Meta, DeepSeek, …
    category_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("ai_model_categories.id"), index=True)
    # Which API serves it: chat, embeddings, images, transcription, speech, video.
    endpoint: Mapped[str] = mapped_column(String(32))
    description: Mapped[str | None] = mapped_column(Text)
    context_length: Mapped[int | None] = mapped_column(Integer)
    max_output_tokens: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="active")
    is_featured: Mapped[bool] = mapped_column(Boolean, default=False)
    capabilities: Mapped[dict[str, Any] | None]  # {"tools": true, "vision": true, "streaming": true, …}
    # Upstream id of this model at each provider kind that serves it: {"novita": "deepseek/…"}.
    upstream_ids: Mapped[dict[str, Any] | None]
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class AiModelFeature(IdMixin, Base):
    """Feature bullets, per page context: ``card`` (model list), ``detail`` (model page),
    ``pricing`` (pricing page)."""

    __tablename__ = "ai_model_features"
    __table_args__ = (CheckConstraint("context IN ('card', 'detail', 'pricing')", name="context"),)

    model_id: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("ai_models.id", ondelete="CASCADE"), index=True
    )
    context: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(String(300))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class AiModelPricing(IdMixin, TimestampMixin, Base):
    """One version of a price, in nano-dollars per ``price_unit``. Versions are never changed
    after they are written, except that the next version closes them (``effective_until``).

    ``route_id`` NULL: the model's selling price (what customers pay). ``route_id`` set: the
    upstream cost price of that route (what the provider charges the operator; a route without
    a current cost row has an unknown cost). At most one current version (``effective_until``
    NULL) per model's selling price and per route, enforced by two partial unique indexes.

    ``input_price_nanos``/``output_price_nanos`` are the base input and output prices (per 1k
    tokens; other units use the input column only); every other dimension, context tier and
    image variant is a row of ``ai_model_price_components``. ``source`` is ``seed`` until an
    operator sets the price; seeding never writes a new version over an operator's.
    """

    __tablename__ = "ai_model_pricing"
    __table_args__ = (
        CheckConstraint(
            "price_unit IN ('per_1k_tokens', 'per_image', 'per_second', 'per_minute', "
            "'per_character', 'per_1k_characters', 'per_request')",
            name="price_unit",
        ),
        CheckConstraint("input_price_nanos >= 0 AND output_price_nanos >= 0", name="not_negative"),
        CheckConstraint("source IN ('seed', 'operator')", name="source"),
        CheckConstraint(
            "effective_until IS NULL OR effective_until >= effective_from", name="effective_order"
        ),
        Index(
            "uq_ai_model_pricing_current_price",
            "model_id",
            unique=True,
            sqlite_where=text("route_id IS NULL AND effective_until IS NULL"),
            postgresql_where=text("route_id IS NULL AND effective_until IS NULL"),
        ),
        Index(
            "uq_ai_model_pricing_current_cost",
            "route_id",
            unique=True,
            sqlite_where=text("route_id IS NOT NULL AND effective_until IS NULL"),
            postgresql_where=text("route_id IS NOT NULL AND effective_until IS NULL"),
        ),
        Index("ix_ai_model_pricing_model_id", "model_id"),
    )

    model_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("ai_models.id", ondelete="CASCADE"))
    route_id: Mapped[int | None] = mapped_column(BigIntPK, ForeignKey("model_routes.id", ondelete="CASCADE"))
    price_unit: Mapped[str] = mapped_column(String(32))
    input_price_nanos: Mapped[int] = mapped_column(BigInteger, default=0)
    output_price_nanos: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    source: Mapped[str] = mapped_column(String(16), default="seed")
    effective_from: Mapped[datetime] = mapped_column(default=utcnow)
    effective_until: Mapped[datetime | None]
    actor: Mapped[str | None] = mapped_column(String(120))  # who set it: "seed", "cli:ops", "admin:…"
    reason: Mapped[str | None] = mapped_column(Text)


class AiModelPriceComponent(IdMixin, Base):
    """One priced dimension of a price version beyond its base input/output columns.

    ``dimension`` is one of ``PRICE_DIMENSIONS``; ``variant`` names an image variant
    (``"1024x1024/high"``, or ``"1024x1024"`` for any quality) and is '' otherwise;
    ``above_input_tokens`` > 0 is a context tier: the price of this dimension for requests
    whose input exceeds that many tokens (0 = every request). The base input and output are
    the version's columns, never a component (the ``not_base`` CHECK).
    """

    __tablename__ = "ai_model_price_components"
    __table_args__ = (
        UniqueConstraint(
            "pricing_id",
            "dimension",
            "variant",
            "above_input_tokens",
            name="uq_ai_model_price_components_entry",
        ),
        CheckConstraint(
            "dimension IN ('input', 'output', 'cached_input', 'cache_write', 'cache_write_1h', "
            "'reasoning', 'audio_input', 'audio_output', 'image')",
            name="dimension",
        ),
        CheckConstraint("price_nanos >= 0", name="price_not_negative"),
        CheckConstraint("above_input_tokens >= 0", name="tier_not_negative"),
        CheckConstraint(
            "(dimension = 'image' AND variant <> '' AND above_input_tokens = 0) "
            "OR (dimension <> 'image' AND variant = '')",
            name="variant_is_image",
        ),
        CheckConstraint("NOT (dimension IN ('input', 'output') AND above_input_tokens = 0)", name="not_base"),
    )

    pricing_id: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("ai_model_pricing.id", ondelete="CASCADE"), index=True
    )
    dimension: Mapped[str] = mapped_column(String(32))
    variant: Mapped[str] = mapped_column(String(64), default="")
    above_input_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    price_nanos: Mapped[int] = mapped_column(BigInteger)


class AiModelDoc(IdMixin, TimestampMixin, Base):
    __tablename__ = "ai_model_docs"

    model_id: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("ai_models.id", ondelete="CASCADE"), unique=True
    )
    description: Mapped[str | None] = mapped_column(Text)
    endpoint_method: Mapped[str] = mapped_column(String(8), default="POST")
    endpoint_path: Mapped[str] = mapped_column(String(200))
    response_status: Mapped[int] = mapped_column(Integer, default=200)
    response_example: Mapped[str | None] = mapped_column(Text)


class AiModelDocStep(IdMixin, Base):
    __tablename__ = "ai_model_doc_steps"
    __table_args__ = (UniqueConstraint("doc_id", "step_number"),)

    doc_id: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("ai_model_docs.id", ondelete="CASCADE"), index=True
    )
    step_number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)


class AiModelDocParameter(IdMixin, Base):
    __tablename__ = "ai_model_doc_parameters"

    doc_id: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("ai_model_docs.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(60))
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str] = mapped_column(Text)
    default_value: Mapped[str | None] = mapped_column(String(200))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class AiModelDocExample(IdMixin, Base):
    __tablename__ = "ai_model_doc_examples"
    __table_args__ = (CheckConstraint("language IN ('curl', 'python', 'javascript')", name="language"),)

    doc_id: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("ai_model_docs.id", ondelete="CASCADE"), index=True
    )
    language: Mapped[str] = mapped_column(String(16))
    title: Mapped[str | None] = mapped_column(String(200))
    code: Mapped[str] = mapped_column(Text)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


__all__ = [
    "PRICE_UNITS",
    "AiModel",
    "AiModelCategory",
    "AiModelDoc",
    "AiModelDocExample",
    "AiModelDocParameter",
    "AiModelDocStep",
    "AiModelFeature",
    "AiModelPriceComponent",
    "AiModelPricing",
    "PRICE_DIMENSIONS",
]
