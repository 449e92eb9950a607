"""Reading the health rollups: success rates, latency and daily uptime per model and per
provider over any window. Shared by the status page and the admin overview; every function
reads the hourly rollups only (never ``usage_logs``), with one or two grouped queries.

Success is counted over *attempts*: a provider's attempts are the requests it answered or
failed (its usage rows, the caller's own 4xx excepted) plus the failed attempts a failover
hid (``provider_health_hourly``); a model's are its requests minus the caller's 4xx.
Windows are half-open ``[since, until)`` over whole hours.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, func, select

from modelsnest.db.engine import SessionFactory
from modelsnest.db.models.health import ProviderHealthHourly, UsageHealthHourly, UsageLatencyHourly
from modelsnest.db.models.providers import Provider
from modelsnest.health.latency import median_ms, quantile_ms
from modelsnest.health.rollup import NO_PROVIDER

Subject = Literal["model", "provider"]


@dataclass(frozen=True)
class HealthStats:
    """One subject's counts over a window. ``latency`` maps bucket → successful requests."""

    requests: int = 0
    errors: int = 0
    client_errors: int = 0
    failed_attempts: int = 0  # providers only: failures a failover answered elsewhere
    circuit_opens: int = 0  # providers only
    cost_nanos: int = 0
    latency: Mapping[int, int] = field(default_factory=dict)

    @property
    def attempts(self) -> int:
        return self.requests - self.client_errors + self.failed_attempts

    @property
    def failures(self) -> int:
        return self.errors + self.failed_attempts

    @property
    def success_rate(self) -> float | None:
        """Share of attempts that succeeded (0–1); None without attempts. A display ratio,
        never money."""
        attempts = self.attempts
        return None if attempts <= 0 else (attempts - self.failures) / attempts

    @property
    def median_latency_ms(self) -> int | None:
        return median_ms(self.latency)

    def latency_quantile_ms(self, q: float) -> int | None:
        return quantile_ms(self.latency, q)


@dataclass(frozen=True)
class HourHealth:
    hour: datetime
    stats: HealthStats


def _window(column: Any, since: date | datetime, until: date | datetime | None) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [column >= since]
    if until is not None:
        conditions.append(column < until)
    return conditions


async def _provider_names(sessions: SessionFactory) -> dict[int, str]:
    async with sessions() as session:
        return {row.id: row.name for row in (await session.execute(select(Provider.id, Provider.name))).all()}


async def health_by(
    sessions: SessionFactory, subject: Subject, *, since: datetime, until: datetime | None = None
) -> dict[str, HealthStats]:
    """Each model's (or provider's, by name) counts and latency over ``[since, until)``.
    Requests no provider answered count for their model only."""
    key = UsageHealthHourly.model_slug if subject == "model" else UsageHealthHourly.provider_name
    lat_key = UsageLatencyHourly.model_slug if subject == "model" else UsageLatencyHourly.provider_name
    async with sessions() as session:
        counts = (
            await session.execute(
                select(
                    key,
                    func.sum(UsageHealthHourly.requests),
                    func.sum(UsageHealthHourly.errors),
                    func.sum(UsageHealthHourly.client_errors),
                    func.sum(UsageHealthHourly.cost_nanos),
                )
                .where(*_window(UsageHealthHourly.hour, since, until))
                .group_by(key)
            )
        ).all()
        latency = (
            await session.execute(
                select(lat_key, UsageLatencyHourly.bucket, func.sum(UsageLatencyHourly.requests))
                .where(*_window(UsageLatencyHourly.hour, since, until))
                .group_by(lat_key, UsageLatencyHourly.bucket)
            )
        ).all()
        failures: Sequence[Any] = []
        if subject == "provider":
            failures = (
                await session.execute(
                    select(
                        ProviderHealthHourly.provider_id,
                        func.sum(ProviderHealthHourly.failures),
                        func.sum(ProviderHealthHourly.circuit_opens),
                    )
                    .where(*_window(ProviderHealthHourly.hour, since, until))
                    .group_by(ProviderHealthHourly.provider_id)
                )
            ).all()
    buckets: dict[str, dict[int, int]] = defaultdict(dict)
    for name, bucket, count in latency:
        buckets[name][int(bucket)] = int(count)
    out: dict[str, HealthStats] = {}
    for name, requests, errors, client_errors, cost in counts:
        if subject == "provider" and name == NO_PROVIDER:
            continue
        out[name] = HealthStats(
            requests=int(requests or 0),
            errors=int(errors or 0),
            client_errors=int(client_errors or 0),
            cost_nanos=int(cost or 0),
            latency=buckets.get(name, {}),
        )
    if failures:
        names = await _provider_names(sessions)
        for provider_id, failed, opens in failures:
            known = names.get(provider_id)
            if known is None:
                continue  # a provider removed since
            base = out.get(known, HealthStats())
            out[known] = HealthStats(
                requests=base.requests,
                errors=base.errors,
                client_errors=base.client_errors,
                failed_attempts=int(failed or 0),
                circuit_opens=int(opens or 0),
                cost_nanos=base.cost_nanos,
                latency=base.latency,
            )
    return out


async def model_health(
    sessions: SessionFactory, *, since: datetime, until: datetime | None = None
) -> dict[str, HealthStats]:
    return await health_by(sessions, "model", since=since, until=until)


async def provider_health(
    sessions: SessionFactory, *, since: datetime, until: datetime | None = None
) -> dict[str, HealthStats]:
    return await health_by(sessions, "provider", since=since, until=until)


async def daily_health(
    sessions: SessionFactory, subject: Subject, *, since: date, until: date | None = None
) -> dict[str, dict[date, HealthStats]]:
    """Per subject, per UTC day in ``[since, until)``: the counts (no latency) that uptime
    bars are drawn from. Days without traffic are absent."""
    key = UsageHealthHourly.model_slug if subject == "model" else UsageHealthHourly.provider_name
    out: dict[str, dict[date, HealthStats]] = defaultdict(dict)
    async with sessions() as session:
        rows = (
            await session.execute(
                select(
                    key,
                    UsageHealthHourly.day,
                    func.sum(UsageHealthHourly.requests),
                    func.sum(UsageHealthHourly.errors),
                    func.sum(UsageHealthHourly.client_errors),
                )
                .where(*_window(UsageHealthHourly.day, since, until))
                .group_by(key, UsageHealthHourly.day)
            )
        ).all()
        failures: Sequence[Any] = []
        if subject == "provider":
            failures = (
                await session.execute(
                    select(
                        ProviderHealthHourly.provider_id,
                        ProviderHealthHourly.day,
                        func.sum(ProviderHealthHourly.failures),
                        func.sum(ProviderHealthHourly.circuit_opens),
                    )
                    .where(*_window(ProviderHealthHourly.day, since, until))
                    .group_by(ProviderHealthHourly.provider_id, ProviderHealthHourly.day)
                )
            ).all()
    for name, day, requests, errors, client_errors in rows:
        if subject == "provider" and name == NO_PROVIDER:
            continue
        out[name][day] = HealthStats(
            requests=int(requests or 0), errors=int(errors or 0), client_errors=int(client_errors or 0)
        )
    if failures:
        names = await _provider_names(sessions)
        for provider_id, day, failed, opens in failures:
            known = names.get(provider_id)
            if known is None:
                continue
            base = out[known].get(day, HealthStats())
            out[known][day] = HealthStats(
                requests=base.requests,
                errors=base.errors,
                client_errors=base.client_errors,
                failed_attempts=int(failed or 0),
                circuit_opens=int(opens or 0),
            )
    return dict(out)


async def hourly_health(
    sessions: SessionFactory,
    *,
    since: datetime,
    until: datetime | None = None,
    model: str | None = None,
    provider: str | None = None,
) -> list[HourHealth]:
    """Hour by hour over ``[since, until)``, for all traffic or one model and/or one provider
    (a provider's failed-over attempts included): the series behind a chart. Hours without
    traffic are absent."""
    filters = _window(UsageHealthHourly.hour, since, until)
    lat_filters = _window(UsageLatencyHourly.hour, since, until)
    if model is not None:
        filters.append(UsageHealthHourly.model_slug == model)
        lat_filters.append(UsageLatencyHourly.model_slug == model)
    if provider is not None:
        filters.append(UsageHealthHourly.provider_name == provider)
        lat_filters.append(UsageLatencyHourly.provider_name == provider)
    async with sessions() as session:
        rows = (
            await session.execute(
                select(
                    UsageHealthHourly.hour,
                    func.sum(UsageHealthHourly.requests),
                    func.sum(UsageHealthHourly.errors),
                    func.sum(UsageHealthHourly.client_errors),
                    func.sum(UsageHealthHourly.cost_nanos),
                )
                .where(*filters)
                .group_by(UsageHealthHourly.hour)
            )
        ).all()
        latency = (
            await session.execute(
                select(
                    UsageLatencyHourly.hour, UsageLatencyHourly.bucket, func.sum(UsageLatencyHourly.requests)
                )
                .where(*lat_filters)
                .group_by(UsageLatencyHourly.hour, UsageLatencyHourly.bucket)
            )
        ).all()
        failures: list[tuple[datetime, int, int]] = []
        if provider is not None and model is None:
            provider_id = await session.scalar(select(Provider.id).where(Provider.name == provider))
            if provider_id is not None:
                failures = [
                    (hour, int(failed), int(opens))
                    for hour, failed, opens in (
                        await session.execute(
                            select(
                                ProviderHealthHourly.hour,
                                ProviderHealthHourly.failures,
                                ProviderHealthHourly.circuit_opens,
                            ).where(
                                ProviderHealthHourly.provider_id == provider_id,
                                *_window(ProviderHealthHourly.hour, since, until),
                            )
                        )
                    ).all()
                ]
    buckets: dict[datetime, dict[int, int]] = defaultdict(dict)
    for hour, bucket, count in latency:
        buckets[hour][int(bucket)] = int(count)
    series: dict[datetime, HealthStats] = {
        hour: HealthStats(
            requests=int(requests or 0),
            errors=int(errors or 0),
            client_errors=int(client_errors or 0),
            cost_nanos=int(cost or 0),
            latency=buckets.get(hour, {}),
        )
        for hour, requests, errors, client_errors, cost in rows
    }
    for hour, failed, opens in failures:
        base = series.get(hour, HealthStats())
        series[hour] = HealthStats(
            requests=base.requests,
            errors=base.errors,
            client_errors=base.client_errors,
            failed_attempts=failed,
            circuit_opens=opens,
            cost_nanos=base.cost_nanos,
            latency=base.latency,
        )
    return [HourHealth(hour, series[hour]) for hour in sorted(series)]


__all__ = [
    "HealthStats",
    "HourHealth",
    "daily_health",
    "health_by",
    "hourly_health",
    "model_health",
    "provider_health",
]
