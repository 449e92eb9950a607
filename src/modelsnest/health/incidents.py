"""Incidents, derived from the hourly rollups rather than written by hand: a run of
consecutive hours in which a provider's error rate crossed ``ERROR_RATE`` (over at least
``MIN_ATTEMPTS`` attempts) or its circuit opened. Recomputed on read, so nothing needs
storing and a threshold change applies to the past too."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal

from sqlalchemy import func, select

from modelsnest.db.engine import SessionFactory
from modelsnest.db.models.health import ProviderHealthHourly, UsageHealthHourly
from modelsnest.db.models.providers import Provider
from modelsnest.health.rollup import NO_PROVIDER, hour_of

ERROR_RATE: Final = 0.05
OUTAGE_RATE: Final = 0.5
MIN_ATTEMPTS: Final = 5
HOUR: Final = timedelta(hours=1)

Severity = Literal["degraded", "outage"]


@dataclass(frozen=True)
class Incident:
    provider: str
    started: datetime  # the start of its first hour
    ended: datetime | None  # the end of its last hour; None while it goes on (this hour)
    attempts: int
    failures: int
    peak_error_rate: float
    circuit_opens: int

    @property
    def severity(self) -> Severity:
        return "outage" if self.peak_error_rate >= OUTAGE_RATE else "degraded"

    @property
    def ongoing(self) -> bool:
        return self.ended is None

    def duration(self, now: datetime) -> timedelta:
        return (self.ended or now) - self.started


@dataclass
class _Hour:
    attempts: int = 0
    failures: int = 0
    opens: int = 0

    @property
    def bad(self) -> bool:
        rate = self.failures / self.attempts if self.attempts else 0.0
        return self.opens > 0 or (self.attempts >= MIN_ATTEMPTS and rate >= ERROR_RATE)


async def _hours(
    sessions: SessionFactory, since: datetime, until: datetime
) -> dict[str, dict[datetime, _Hour]]:
    hours: dict[str, dict[datetime, _Hour]] = defaultdict(lambda: defaultdict(_Hour))
    async with sessions() as session:
        usage = (
            await session.execute(
                select(
                    UsageHealthHourly.provider_name,
                    UsageHealthHourly.hour,
                    func.sum(UsageHealthHourly.requests - UsageHealthHourly.client_errors),
                    func.sum(UsageHealthHourly.errors),
                )
                .where(
                    UsageHealthHourly.hour >= since,
                    UsageHealthHourly.hour < until,
                    UsageHealthHourly.provider_name != NO_PROVIDER,
                )
                .group_by(UsageHealthHourly.provider_name, UsageHealthHourly.hour)
            )
        ).all()
        failed = (
            await session.execute(
                select(
                    Provider.name,
                    ProviderHealthHourly.hour,
                    ProviderHealthHourly.failures,
                    ProviderHealthHourly.circuit_opens,
                )
                .join(Provider, Provider.id == ProviderHealthHourly.provider_id)
                .where(ProviderHealthHourly.hour >= since, ProviderHealthHourly.hour < until)
            )
        ).all()
    for name, hour, attempts, errors in usage:
        entry = hours[name][hour]
        entry.attempts += int(attempts or 0)
        entry.failures += int(errors or 0)
    for name, hour, failures, opens in failed:
        entry = hours[name][hour]
        entry.attempts += int(failures or 0)
        entry.failures += int(failures or 0)
        entry.opens += int(opens or 0)
    return hours


async def incidents(sessions: SessionFactory, *, since: datetime, now: datetime) -> list[Incident]:
    """Every provider incident overlapping ``[since, now]``, newest first."""
    current = hour_of(now)
    found: list[Incident] = []
    for provider, by_hour in (await _hours(sessions, hour_of(since), current + HOUR)).items():
        run: list[tuple[datetime, _Hour]] = []
        for hour in sorted(by_hour):
            entry = by_hour[hour]
            if not entry.bad:
                continue
            if run and hour - run[-1][0] > HOUR:
                found.append(_incident(provider, run, current))
                run = []
            run.append((hour, entry))
        if run:
            found.append(_incident(provider, run, current))
    return sorted(found, key=lambda incident: incident.started, reverse=True)


def _incident(provider: str, run: list[tuple[datetime, _Hour]], current: datetime) -> Incident:
    last = run[-1][0]
    return Incident(
        provider=provider,
        started=run[0][0],
        ended=None if last >= current else last + HOUR,
        attempts=sum(h.attempts for _, h in run),
        failures=sum(h.failures for _, h in run),
        peak_error_rate=max((h.failures / h.attempts if h.attempts else 1.0) for _, h in run),
        circuit_opens=sum(h.opens for _, h in run),
    )


__all__ = ["ERROR_RATE", "MIN_ATTEMPTS", "OUTAGE_RATE", "Incident", "incidents"]
