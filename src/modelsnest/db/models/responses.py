"""Stored answers of the Responses API (``store: true``, the default): what ``GET
/api/v1/responses/{id}`` returns and what ``previous_response_id`` continues from."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from modelsnest.db.base import Base, BigIntPK, utcnow


class StoredResponse(Base):
    """One response. ``conversation`` is the chat history it ends (its input after the
    previous responses' and its own output, without ``instructions``, which never carry
    over); ``body`` is the Response object's JSON as it was answered. ``request_id`` ties it to its
    usage row: a response is served back only once that row says it was billed."""

    __tablename__ = "stored_responses"
    __table_args__ = (Index("ix_stored_responses_user_created", "user_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("users.id", ondelete="CASCADE"))
    api_token_id: Mapped[int | None] = mapped_column(
        BigIntPK, ForeignKey("api_tokens.id", ondelete="SET NULL")
    )
    request_id: Mapped[str] = mapped_column(String(64))
    model_slug: Mapped[str] = mapped_column(String(120))
    previous_response_id: Mapped[str | None] = mapped_column(String(64))
    conversation: Mapped[list[Any]]
    body: Mapped[str] = mapped_column(Text)  # the exact JSON answered (money as written)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
