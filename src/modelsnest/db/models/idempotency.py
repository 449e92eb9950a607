from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from modelsnest.db.base import Base, BigIntPK, IdMixin, utcnow


class IdempotencyRecord(IdMixin, Base):
    """A client's ``Idempotency-Key``, scoped to its API key, with the SHA-256 of the request
    so the same key with another body is refused rather than replayed. ``billing.settle`` may
    complete it (status, body, media type, headers) in the transaction that charges the request."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("api_token_id", "key"),)

    api_token_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("api_tokens.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | completed
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    response_media_type: Mapped[str | None] = mapped_column(String(100))
    response_headers: Mapped[dict[str, Any] | None]  # header name -> value, replayed as stored
    request_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
