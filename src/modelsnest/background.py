"""Every background loop of a server process, in one list. Each replica runs all of them;
each is safe to run on many replicas at once (claims, SKIP LOCKED, status-guarded updates)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from modelsnest.billing import run_sweeper
from modelsnest.gateway import idempotency
from modelsnest.gateway.health import persist_health_events
from modelsnest.gateway.video import run_video_poller
from modelsnest.health import run_health_rollup
from modelsnest.services import Services

log = logging.getLogger(__name__)

MAINTENANCE_SECONDS = 300.0


async def run_maintenance(services: Services) -> None:
    """Expired stored files and idempotency records go away on their own."""
    while True:
        await asyncio.sleep(MAINTENANCE_SECONDS)
        try:
            await services.gateway.media.purge_expired()
            await idempotency.purge_expired(services.sessions)
        except Exception:
            log.warning("maintenance round failed", exc_info=True)


def loops(services: Services) -> list[tuple[str, Coroutine[Any, Any, Any]]]:
    gateway = services.gateway
    return [
        ("provider-health", persist_health_events(gateway.health_events, services.sessions)),
        ("hold-sweeper", run_sweeper(services.sessions)),
        ("maintenance", run_maintenance(services)),
        ("video-poller", run_video_poller(gateway)),
        (
            "payments-reconciler",
            services.payments.run_reconciler(services.settings.payments_reconcile_seconds),
        ),
        ("auto-recharge", services.payments.recharger.run()),
        ("health-rollup", run_health_rollup(services.sessions)),
        ("notification-alerts", services.alerts.run()),
    ]
