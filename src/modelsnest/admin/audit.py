"""The audit log: who did what to which target, with the state before and after, when and
from where. Append-only: this module writes rows and reads them, and no code path updates or
deletes one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from modelsnest.db.engine import SessionFactory
from modelsnest.db.models import AdminAudit

PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class Actor:
    """The signed-in administrator acting, and the address they act from."""

    user_id: int
    email: str
    ip: str | None = None

    @property
    def label(self) -> str:
        """How ledger and price rows name the actor (``admin:<id>:<email>``)."""
        return f"admin:{self.user_id}:{self.email}"[:120]


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    actor_id: int | None
    actor_email: str
    action: str
    target_type: str
    target_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    ip_address: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AuditPage:
    entries: list[AuditEntry]
    total: int
    page: int
    pages: int
    actions: list[str]


def _row(
    actor: Actor,
    action: str,
    target_type: str,
    target_id: str | int,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> AdminAudit:
    return AdminAudit(
        actor_id=actor.user_id,
        actor_email=actor.email,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        before=before,
        after=after,
        ip_address=actor.ip,
    )


def add(
    session: AsyncSession,
    actor: Actor,
    action: str,
    target_type: str,
    target_id: str | int,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """One audit row, inside the caller's transaction (with the change it records)."""
    session.add(_row(actor, action, target_type, target_id, before, after))


async def record(
    sessions: SessionFactory,
    actor: Actor,
    action: str,
    target_type: str,
    target_id: str | int,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """One audit row in its own transaction (after a change made by another package's
    function, which commits on its own)."""
    async with sessions.begin() as session:
        add(session, actor, action, target_type, target_id, before=before, after=after)


def _entry(row: AdminAudit) -> AuditEntry:
    return AuditEntry(
        id=row.id,
        actor_id=row.actor_id,
        actor_email=row.actor_email,
        action=row.action,
        target_type=row.target_type,
        target_id=row.target_id,
        before=row.before,
        after=row.after,
        ip_address=row.ip_address,
        created_at=row.created_at,
    )


async def list_entries(
    sessions: SessionFactory,
    *,
    action: str = "",
    actor: str = "",
    target: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
    page: int = 1,
) -> AuditPage:
    """Newest first, filtered by action, actor e-mail (part of), target (``user:12`` or
    ``12``) and time."""
    conditions = []
    if action:
        conditions.append(AdminAudit.action == action)
    if actor:
        conditions.append(func.lower(AdminAudit.actor_email).contains(actor.strip().lower()))
    if target:
        kind, _, ident = target.strip().rpartition(":")
        if kind:
            conditions.append(AdminAudit.target_type == kind)
        conditions.append(AdminAudit.target_id == ident)
    if since is not None:
        conditions.append(AdminAudit.created_at >= since)
    if until is not None:
        conditions.append(AdminAudit.created_at < until)
    async with sessions() as session:
        total = int(
            await session.scalar(select(func.count()).select_from(AdminAudit).where(*conditions)) or 0
        )
        pages = max(1, -(-total // PAGE_SIZE))
        page = min(max(1, page), pages)
        rows = await session.scalars(
            select(AdminAudit)
            .where(*conditions)
            .order_by(AdminAudit.id.desc())
            .limit(PAGE_SIZE)
            .offset((page - 1) * PAGE_SIZE)
        )
        entries = [_entry(row) for row in rows]
        actions = list(
            await session.scalars(select(AdminAudit.action).distinct().order_by(AdminAudit.action))
        )
    return AuditPage(entries, total, page, pages, actions)
