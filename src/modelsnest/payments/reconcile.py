"""The reconciler: payments left created or pending (the payer closed the tab, a webhook never
came, a capture timed out) are asked about and finished.

A payment is looked at only when it has not changed for ``older_than_seconds``, and only by
the replica that wins a status- and time-guarded claim (the claim touches ``updated_at``, so
the next look at the same payment waits another period). A checkout still open past its
expiry is closed (Stripe: expired at Stripe first, so it can no longer be paid)."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from sqlalchemy import select

from modelsnest.db.base import utcnow
from modelsnest.errors import ModelsnestError
from modelsnest.payments.confirm import observe
from modelsnest.payments.context import Context
from modelsnest.payments.providers.base import Observation
from modelsnest.payments.records import payments
from modelsnest.payments.types import OPEN_STATUSES, ReconcileReport

log = logging.getLogger(__name__)


async def reconcile(
    ctx: Context, *, older_than_seconds: int | None = None, limit: int = 200, now: datetime | None = None
) -> ReconcileReport:
    now = now or utcnow()
    age = ctx.config.reconcile_after_seconds if older_than_seconds is None else older_than_seconds
    cutoff = now - timedelta(seconds=age)
    p = payments.c
    async with ctx.sessions() as session:
        rows = (
            await session.execute(
                select(payments)
                .where(
                    p.status.in_(OPEN_STATUSES), p.provider.in_(list(ctx.providers)), p.updated_at <= cutoff
                )
                .order_by(p.updated_at)
                .limit(limit)
            )
        ).all()
    counts = {"checked": 0, "completed": 0, "closed": 0, "unchanged": 0, "errors": 0}
    for row in rows:
        if not await _claim(ctx, row.id, cutoff, now):
            continue  # another replica has it, or it just changed
        counts["checked"] += 1
        try:
            outcome = await _settle_one(ctx, dict(row._mapping), now)
        except ModelsnestError as exc:
            counts["errors"] += 1
            log.warning("reconciling payment %s failed: %s", row.public_id, exc.message)
            continue
        key = {"credited": "completed", "expired": "closed", "failed": "closed", "cancelled": "closed"}
        counts[key.get(outcome, "unchanged")] += 1
    return ReconcileReport(**counts)


async def _claim(ctx: Context, payment_id: int, cutoff: datetime, now: datetime) -> bool:
    p = payments.c
    async with ctx.sessions.begin() as session:
        claimed = await session.execute(
            payments.update()
            .where(p.id == payment_id, p.status.in_(OPEN_STATUSES), p.updated_at <= cutoff)
            .values(checked_at=now, updated_at=now)
            .returning(p.id)
        )
        return claimed.first() is not None


async def _settle_one(ctx: Context, row: dict[str, object], now: datetime) -> str:
    adapter = ctx.providers[str(row["provider"])]
    public_id, checkout_id = str(row["public_id"]), row["provider_checkout_id"]
    if row["kind"] == "auto_recharge" and not checkout_id:
        from modelsnest.payments.autorecharge import retry_charge

        return await retry_charge(ctx, row)
    if not isinstance(checkout_id, str):
        observation = Observation("failed", reason="the provider never created the checkout")
        return (
            await observe(ctx, adapter, public_id, f"none-{public_id}", observation, source="reconcile")
        ).outcome
    observation = await adapter.poll(checkout_id, request_key=str(row["request_key"]))
    expires = row["expires_at"]
    if observation.state == "open" and isinstance(expires, datetime) and now >= expires:
        expire = getattr(adapter, "expire", None)
        observation = (
            await expire(checkout_id)
            if expire is not None
            else Observation("expired", reason="the payer did not pay before the checkout expired")
        )
    return (await observe(ctx, adapter, public_id, checkout_id, observation, source="reconcile")).outcome


async def run_reconciler(ctx: Context, *, every_seconds: float) -> None:
    """The server's periodic reconciliation (each replica; claims keep them apart)."""
    while True:
        await asyncio.sleep(every_seconds)
        try:
            report = await reconcile(ctx)
            if report.checked:
                log.info("payments reconciled: %s", report)
        except Exception:
            log.warning("payments reconciliation round failed", exc_info=True)
