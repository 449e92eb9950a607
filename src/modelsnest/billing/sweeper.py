"""The sweeper: holds whose process died (or forgot them) are resolved after ``expires_at``.

A hold with a checkpoint (``provisional_cost_nanos`` in its meta) is settled at that cost,
so a stream that broke mid-way is billed what it delivered; any other expired hold is
released, so nothing stays reserved for ever.

Any number of replicas may sweep at once. Each hold is resolved in its own short
transaction that first locks it with ``FOR UPDATE SKIP LOCKED`` (PostgreSQL; SQLite
serializes writers): a replica skips what another is resolving. The status-guarded updates
of ``settle_in``/``release_in`` would make double processing impossible even without it."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select

from modelsnest.billing import _checks, _db
from modelsnest.billing.holds import PROVISIONAL_KEY, release_in
from modelsnest.billing.settlement import settle_in
from modelsnest.billing.types import USAGE_ORIGINS, SweepReport, UsageRecord
from modelsnest.db.base import utcnow
from modelsnest.db.engine import SessionFactory

log = logging.getLogger(__name__)


async def sweep_expired_holds(
    sessions: SessionFactory, *, now: datetime | None = None, limit: int = 500
) -> SweepReport:
    """Resolve up to ``limit`` holds that expired by ``now`` (default: the current time)."""
    cutoff = now or utcnow()
    h = _db.holds.c
    async with sessions() as session:
        candidates = (
            await session.execute(
                select(h.id)
                .where(h.status == "active", h.expires_at <= cutoff)
                .order_by(h.expires_at)
                .limit(_checks.positive_int(limit, "limit"))
            )
        ).scalars()
        hold_ids = list(candidates)
    settled = released = failed = 0
    for hold_id in hold_ids:
        try:
            outcome = await _resolve(sessions, hold_id, cutoff)
        except Exception:
            # One bad hold must not stop the others; it stays active and is retried next sweep.
            log.exception("could not resolve expired hold %s", hold_id)
            failed += 1
            continue
        settled += outcome == "settled"
        released += outcome == "released"
    return SweepReport(settled=settled, released=released, failed=failed)


async def _resolve(sessions: SessionFactory, hold_id: str, cutoff: datetime) -> str | None:
    h = _db.holds.c
    async with sessions.begin() as session:
        row = (
            await session.execute(
                select(_db.holds)
                .where(h.id == hold_id, h.status == "active", h.expires_at <= cutoff)
                .with_for_update(skip_locked=True)
            )
        ).first()
        if row is None:  # another replica holds it, or it was settled/released meanwhile
            return None
        now = utcnow()
        provisional = (row.meta or {}).get(PROVISIONAL_KEY)
        if provisional:
            cost = _checks.nanos(provisional, PROVISIONAL_KEY)
            await settle_in(session, hold_id=hold_id, cost=cost, usage=_usage_of(row), now=now)
            return "settled"
        await release_in(session, hold_id=hold_id, usage=None, now=now)
        return "released"


def _usage_of(hold: Row[Any]) -> UsageRecord:
    """The usage row of a request whose process died, from what its hold recorded."""
    meta: dict[str, Any] = hold.meta or {}

    def field(name: str, size: int) -> str | None:
        value = meta.get(name)
        return str(value)[:size] if value else None

    origin = meta.get("origin")
    version = meta.get("price_version_id")
    return UsageRecord(
        request_id=hold.request_id or hold.id,
        user_id=hold.user_id,
        api_token_id=hold.api_token_id,
        endpoint=field("endpoint", 64) or "unknown",
        model_slug=field("model", 120) or "unknown",
        provider_name=field("provider", 64),
        upstream_model=field("upstream_model", 200),
        status="partial",
        error_code="HOLD_EXPIRED",
        error_message="the request ended without settling; billed what its last checkpoint recorded",
        streamed=bool(meta.get("streamed", True)),
        meta={"swept": True, "hold_id": hold.id},
        origin=origin if origin in USAGE_ORIGINS else "api",
        price_version_id=version
        if isinstance(version, int) and _checks.is_int(version) and version > 0
        else None,
    )


async def run_sweeper(sessions: SessionFactory, *, interval_seconds: float = 30.0) -> None:
    """Sweep for the app's lifetime. Errors are logged and the loop goes on; cancelling the
    task (app shutdown) stops it."""
    batch = 500
    while True:
        full = False
        try:
            report = await sweep_expired_holds(sessions, limit=batch)
            if report.settled or report.released or report.failed:
                log.info(
                    "hold sweep: %d settled, %d released, %d failed",
                    report.settled,
                    report.released,
                    report.failed,
                )
            full = report.failed == 0 and report.settled + report.released >= batch
        except Exception:
            log.exception("hold sweep failed; retrying in %.0fs", interval_seconds)
        if not full:  # a full batch means a backlog: go again at once
            await asyncio.sleep(interval_seconds)
