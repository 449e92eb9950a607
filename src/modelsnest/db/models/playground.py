from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from modelsnest.db.base import Base, BigIntPK, IdMixin, utcnow


class PlaygroundConversation(IdMixin, Base):
    """A chat in the dashboard's playground, kept for its owner (deleted with the account)."""

    __tablename__ = "playground_conversations"
    __table_args__ = (Index("ix_playground_conversations_user_updated", "user_id", "updated_at"),)

    user_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    model_slug: Mapped[str] = mapped_column(String(120))
    system_prompt: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class PlaygroundMessage(IdMixin, Base):
    """One turn of a conversation. An assistant turn records what its answer cost (the usage
    row of ``request_id`` is the bill; this is a copy for the page) and how it ended."""

    __tablename__ = "playground_messages"
    __table_args__ = (Index("ix_playground_messages_conversation", "conversation_id", "id"),)

    conversation_id: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("playground_conversations.id", ondelete="CASCADE")
    )
    role: Mapped[str] = mapped_column(String(16))  # user | assistant
    content: Mapped[str] = mapped_column(Text)
    model_slug: Mapped[str | None] = mapped_column(String(120))
    request_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str | None] = mapped_column(String(16))  # success | cancelled | partial | error
    cost_nanos: Mapped[int] = mapped_column(BigInteger, default=0)
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
