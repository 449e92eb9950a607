"""In-dashboard notifications: create, count unread, list, mark read.

The header of every dashboard page shows ``unread_count``; ``/dashboard/notifications`` lists
them. Anything may notify (billing on a low balance, payments on a top-up): call ``notify``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update

from modelsnest.db.base import utcnow
from modelsnest.db.engine import SessionFactory
from modelsnest.db.models import Notification
from modelsnest.errors import InvalidRequest

__all__ = ["NotificationView", "list_notifications", "mark_all_read", "mark_read", "notify", "unread_count"]

MAX_TITLE_LENGTH = 200


@dataclass(frozen=True, slots=True)
class NotificationView:
    id: int
    kind: str
    title: str
    body: str | None
    link: str | None
    created_at: datetime
    read_at: datetime | None

    @property
    def unread(self) -> bool:
        return self.read_at is None

    @classmethod
    def of(cls, row: Notification) -> NotificationView:
        return cls(row.id, row.kind, row.title, row.body, row.link, row.created_at, row.read_at)


async def notify(
    sessions: SessionFactory,
    user_id: int,
    *,
    kind: str,
    title: str,
    body: str | None = None,
    link: str | None = None,
) -> NotificationView:
    """Tell ``user_id`` something. ``link`` must be a same-site path (``/dashboard/…``)."""
    title = " ".join(title.split())
    if not title or len(title) > MAX_TITLE_LENGTH:
        raise InvalidRequest(
            f"a notification needs a title of 1 to {MAX_TITLE_LENGTH} characters", param="title"
        )
    if link is not None and not (link.startswith("/") and not link.startswith("//")):
        raise InvalidRequest("a notification's link must be a path on this site", param="link")
    async with sessions() as session, session.begin():
        row = Notification(user_id=user_id, kind=kind[:32], title=title, body=body, link=link)
        session.add(row)
        await session.flush()
        return NotificationView.of(row)


async def unread_count(sessions: SessionFactory, user_id: int) -> int:
    async with sessions() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        )
    return int(count or 0)


async def list_notifications(
    sessions: SessionFactory,
    user_id: int,
    *,
    limit: int = 50,
    before_id: int | None = None,
    unread_only: bool = False,
) -> list[NotificationView]:
    """Newest first; pass the last id seen as ``before_id`` for the next page."""
    if not 1 <= limit <= 200:
        raise InvalidRequest("limit must be between 1 and 200", param="limit")
    query = select(Notification).where(Notification.user_id == user_id)
    if before_id is not None:
        query = query.where(Notification.id < before_id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    async with sessions() as session:
        rows = await session.scalars(query.order_by(Notification.id.desc()).limit(limit))
        return [NotificationView.of(row) for row in rows]


async def mark_read(sessions: SessionFactory, user_id: int, notification_id: int) -> bool:
    """Mark one of the user's notifications read; False when it is not theirs (or unknown)."""
    async with sessions() as session, session.begin():
        found = await session.scalar(
            select(Notification.id).where(Notification.id == notification_id, Notification.user_id == user_id)
        )
        if found is None:
            return False
        await session.execute(
            update(Notification)
            .where(Notification.id == notification_id, Notification.read_at.is_(None))
            .values(read_at=utcnow())
        )
        return True


async def mark_all_read(sessions: SessionFactory, user_id: int) -> int:
    async with sessions() as session, session.begin():
        result = await session.execute(
            update(Notification)
            .where(Notification.user_id == user_id, Notification.read_at.is_(None))
            .values(read_at=utcnow())
        )
        return int(result.rowcount)  # type: ignore[attr-defined]
