"""Hourly health rollups for the status page and the admin overview, filled in the
background from ``usage_logs`` (by an id watermark) and from the circuit breaker's events,
so the request path writes nothing more than it did."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from modelsnest.db.base import Base, BigIntPK, utcnow


class UsageHealthHourly(Base):
    """Requests of one UTC hour for one (model, provider) pair. ``provider_name`` is ``''``
    for requests no provider answered (refused before routing, or every route failed).

    ``errors`` are failures on our side or upstream (5xx, timeouts, broken streams);
    ``client_errors`` are the caller's (4xx: bad input, no credits, rate limits) and do not
    count against a model's or provider's success rate."""

    __tablename__ = "usage_health_hourly"
    __table_args__ = (Index("ix_usage_health_hourly_day", "day"),)

    hour: Mapped[datetime] = mapped_column(primary_key=True)
    model_slug: Mapped[str] = mapped_column(String(120), primary_key=True)
    provider_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    requests: Mapped[int] = mapped_column(BigInteger, default=0)
    errors: Mapped[int] = mapped_column(BigInteger, default=0)
    client_errors: Mapped[int] = mapped_column(BigInteger, default=0)
    cost_nanos: Mapped[int] = mapped_column(BigInteger, default=0)


class UsageLatencyHourly(Base):
    """How many successful requests of the hour fell in each latency bucket (fixed
    log-scale buckets, ``health.latency``): a median estimate without storing every value."""

    __tablename__ = "usage_latency_hourly"

    hour: Mapped[datetime] = mapped_column(primary_key=True)
    model_slug: Mapped[str] = mapped_column(String(120), primary_key=True)
    provider_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    bucket: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    requests: Mapped[int] = mapped_column(BigInteger, default=0)


class ProviderHealthHourly(Base):
    """Failed upstream attempts of one hour for one provider, counted from the circuit
    breaker's events (a failover leaves no usage row for the provider that failed)."""

    __tablename__ = "provider_health_hourly"
    __table_args__ = (Index("ix_provider_health_hourly_day", "day"),)

    hour: Mapped[datetime] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    failures: Mapped[int] = mapped_column(BigInteger, default=0)
    circuit_opens: Mapped[int] = mapped_column(Integer, default=0)


class HealthRollupState(Base):
    """The watermark of one rollup: every ``usage_logs`` row with an id up to ``last_id`` is
    counted. Advanced by compare-and-set, in the same transaction as the counts it covers."""

    __tablename__ = "health_rollup_state"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_id: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
