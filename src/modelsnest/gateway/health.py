"""Provider health: circuit-breaker events persisted to ``providers`` in the background, so
``modelsnest providers list``, the admin panel and every other replica see them; failures are
also counted per hour for the status page (``health.failures``)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from modelsnest.catalog.providers import record_provider_health
from modelsnest.db.base import utcnow
from modelsnest.db.engine import SessionFactory
from modelsnest.gateway.routing import HealthEvent
from modelsnest.health.failures import record_failure

log = logging.getLogger(__name__)


async def persist_health_events(events: asyncio.Queue[HealthEvent], sessions: SessionFactory) -> None:
    while True:
        event = await events.get()
        try:
            open_until = (
                datetime.fromtimestamp(event.open_until_epoch, UTC) if event.open_until_epoch else None
            )
            await record_provider_health(
                sessions, event.provider_id, success=event.success, error=event.error, open_until=open_until
            )
            if not event.success:
                await record_failure(
                    sessions, event.provider_id, at=utcnow(), opened_circuit=open_until is not None
                )
        except Exception:
            log.warning("could not record provider health", exc_info=True)
