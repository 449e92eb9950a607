"""The model catalog: the eight tables of DESIGN §4."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from modelsnest.db.base import Base, BigIntPK, IdMixin, TimestampMixin

PRICE_UNITS = (
    "per_1k_tokens",
    "per_image",
    "per_second",
    "per_minute",
    "per_character",
    "per_1k_characters",
    "per_request",
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
    """A model's price, in nano-dollars per ``price_unit``. For token models the input and
    output prices differ; other units use ``input_price_nanos`` only.

    ``source`` is ``seed`` until an operator edits the price; seeding never touches the row after.
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
    )

    model_id: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("ai_models.id", ondelete="CASCADE"), unique=True
    )
    price_unit: Mapped[str] = mapped_column(String(32))
    input_price_nanos: Mapped[int] = mapped_column(BigInteger, default=0)
    output_price_nanos: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    source: Mapped[str] = mapped_column(String(16), default="seed")


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
    "AiModelPricing",
]
