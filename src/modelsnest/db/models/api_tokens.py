from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from modelsnest.db.base import Base, BigIntPK, IdMixin, utcnow


class ApiToken(IdMixin, Base):
    """A ``ptr_…`` API key. The token itself is never stored: only its SHA-256 and a prefix
    short enough to show in lists but far too short to guess the rest from."""

    __tablename__ = "api_tokens"

    user_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    # Optional limits; NULL means "no limit of this kind".
    spend_limit_nanos: Mapped[int | None] = mapped_column(BigInteger)
    rpm_limit: Mapped[int | None] = mapped_column(Integer)
    tpm_limit: Mapped[int | None] = mapped_column(Integer)
    allowed_models: Mapped[list[Any] | None]
    # Lifetime spend of this key, kept by settlement so the spend limit needs no log scan.
    spent_nanos: Mapped[int] = mapped_column(BigInteger, default=0)
