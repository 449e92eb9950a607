"""Failed upstream attempts per provider and hour, from the circuit breaker's events.

A request that fails over from provider A to B leaves a usage row for B only, so A's failures
are counted here, as the background loop that already persists each event writes it
(``gateway.health.persist_health_events``); nothing is added to the request path."""

from __future__ import annotations

from datetime import datetime

from modelsnest.db.engine import SessionFactory
from modelsnest.db.models.health import ProviderHealthHourly
from modelsnest.health._sql import add_to_rows
from modelsnest.health.rollup import hour_of

_TABLE = ProviderHealthHourly.__table__


async def record_failure(
    sessions: SessionFactory, provider_id: int, *, at: datetime, opened_circuit: bool = False
) -> None:
    """Count one failed attempt of ``provider_id`` (and whether it opened the circuit)."""
    hour = hour_of(at)
    async with sessions.begin() as session:
        await session.execute(
            add_to_rows(session, _TABLE, ("hour", "provider_id"), ("failures", "circuit_opens")),
            [
                {
                    "hour": hour,
                    "provider_id": provider_id,
                    "day": hour.date(),
                    "failures": 1,
                    "circuit_opens": 1 if opened_circuit else 0,
                }
            ],
        )


__all__ = ["record_failure"]
