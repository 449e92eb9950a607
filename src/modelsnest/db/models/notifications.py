from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from modelsnest.db.base import Base, BigIntPK, IdMixin, utcnow


class Notification(IdMixin, Base):
    """Something a user should read in the dashboard (low balance, a payment, a key expiring)."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_read", "user_id", "read_at"),)

    user_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(Text)
    # A same-site path to open from the notification (e.g. /dashboard/billing).
    link: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]


class NotificationPreference(Base):
    """A user's alert settings (no row: the defaults). ``low_balance_armed`` is the state of
    the low-balance alert: true while available credit is at or above the threshold, cleared
    (by one conditional update) when an alert fires, so each crossing alerts at most once."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    low_balance_threshold_nanos: Mapped[int] = mapped_column(BigInteger)
    email_copies: Mapped[bool] = mapped_column(Boolean, default=True)
    low_balance_armed: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class NotificationOnce(Base):
    """Notifications that must be sent once ever (e.g. "key expires soon", per key): the
    insert of ``key`` is the claim, so two replicas never both send one."""

    __tablename__ = "notification_once"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
