"""The status page's report: every provider and model with its success rate and median
latency over the last 24 hours and 30 days, its current circuit state, 30 daily uptime bars
and the incidents, assembled from the rollup queries; ``StatusBoard`` caches it briefly so
page views cost no query at all most of the time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final, Literal

from modelsnest.catalog.listing import kind_label
from modelsnest.catalog.providers import list_providers
from modelsnest.db.base import utcnow
from modelsnest.db.engine import SessionFactory
from modelsnest.health.incidents import Incident, incidents
from modelsnest.health.queries import HealthStats, daily_health, health_by
from modelsnest.health.rollup import hour_of, last_rollup

WINDOW_DAYS: Final = 30
OK_RATE: Final = 0.995
DEGRADED_RATE: Final = 0.95

Level = Literal["ok", "degraded", "outage", "none"]
State = Literal["operational", "degraded", "down"]
Overall = Literal["operational", "degraded", "partial_outage", "major_outage"]


@dataclass(frozen=True)
class UptimeDay:
    day: date
    stats: HealthStats | None

    @property
    def level(self) -> Level:
        if self.stats is None or self.stats.attempts <= 0:
            return "none"
        rate = self.stats.success_rate or 0.0
        if rate < DEGRADED_RATE:
            return "outage"
        if rate < OK_RATE or self.stats.circuit_opens:
            return "degraded"
        return "ok"


@dataclass(frozen=True)
class SubjectStatus:
    """A provider (``name`` its name, ``label`` its kind) or a model (``label`` its name)."""

    name: str
    label: str
    last_day: HealthStats
    last_month: HealthStats
    days: tuple[UptimeDay, ...]
    state: State = "operational"
    circuit_open_until: datetime | None = None


@dataclass(frozen=True)
class StatusReport:
    generated_at: datetime
    rollup_at: datetime | None  # the data is as fresh as this
    providers: tuple[SubjectStatus, ...]
    models: tuple[SubjectStatus, ...]  # models with traffic in the window
    quiet_models: int  # catalog models without any
    incidents: tuple[Incident, ...]

    @property
    def overall(self) -> Overall:
        states = [p.state for p in self.providers]
        if states and all(s == "down" for s in states):
            return "major_outage"
        if "down" in states:
            return "partial_outage"
        if "degraded" in states:
            return "degraded"
        return "operational"


def _days(by_day: Mapping[date, HealthStats], first: date) -> tuple[UptimeDay, ...]:
    return tuple(
        UptimeDay(first + timedelta(days=i), by_day.get(first + timedelta(days=i)))
        for i in range(WINDOW_DAYS)
    )


async def status_report(
    sessions: SessionFactory, models: Mapping[str, str], *, now: datetime | None = None
) -> StatusReport:
    """The report at ``now``. ``models`` maps each public model's slug to its display name."""
    moment = now or utcnow()
    day_start = hour_of(moment) + timedelta(hours=1) - timedelta(hours=24)
    month_start = hour_of(moment) + timedelta(hours=1) - timedelta(days=WINDOW_DAYS)
    first_day = moment.date() - timedelta(days=WINDOW_DAYS - 1)
    providers = [p for p in await list_providers(sessions) if p.enabled]
    last_day = {s: await health_by(sessions, s, since=day_start) for s in ("provider", "model")}
    last_month = {s: await health_by(sessions, s, since=month_start) for s in ("provider", "model")}
    days = {s: await daily_health(sessions, s, since=first_day) for s in ("provider", "model")}
    found = await incidents(sessions, since=month_start, now=moment)
    ongoing = {i.provider for i in found if i.ongoing}
    empty = HealthStats()

    provider_rows = []
    for p in providers:
        open_until = p.circuit_open_until if p.circuit_open_until and p.circuit_open_until > moment else None
        state: State = "down" if open_until else ("degraded" if p.name in ongoing else "operational")
        provider_rows.append(
            SubjectStatus(
                name=p.name,
                label=kind_label(p.kind),
                last_day=last_day["provider"].get(p.name, empty),
                last_month=last_month["provider"].get(p.name, empty),
                days=_days(days["provider"].get(p.name, {}), first_day),
                state=state,
                circuit_open_until=open_until,
            )
        )
    model_rows = [
        SubjectStatus(
            name=slug,
            label=name,
            last_day=last_day["model"].get(slug, empty),
            last_month=last_month["model"][slug],
            days=_days(days["model"].get(slug, {}), first_day),
        )
        for slug, name in models.items()
        if slug in last_month["model"]
    ]
    known = {p.name for p in providers}
    return StatusReport(
        generated_at=moment,
        rollup_at=await last_rollup(sessions),
        providers=tuple(provider_rows),
        models=tuple(sorted(model_rows, key=lambda m: (-m.last_month.requests, m.label.lower()))),
        quiet_models=len(models) - len(model_rows),
        incidents=tuple(i for i in found if i.provider in known),
    )


class StatusBoard:
    """One per process: the report, rebuilt at most every ``ttl_seconds`` (single flight)."""

    def __init__(
        self,
        sessions: SessionFactory,
        ttl_seconds: float = 30.0,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = sessions
        self._ttl = ttl_seconds
        self._clock = clock
        self._report: StatusReport | None = None
        self._key: tuple[str, ...] = ()
        self._expires = 0.0
        self._lock = asyncio.Lock()

    async def report(self, models: Mapping[str, str]) -> StatusReport:
        key = tuple(models)
        if self._report is not None and self._key == key and self._clock() < self._expires:
            return self._report
        async with self._lock:
            if self._report is not None and self._key == key and self._clock() < self._expires:
                return self._report
            self._report = await status_report(self._sessions, models)
            self._key = key
            self._expires = self._clock() + self._ttl
            return self._report


__all__ = ["StatusBoard", "StatusReport", "SubjectStatus", "UptimeDay", "status_report"]
