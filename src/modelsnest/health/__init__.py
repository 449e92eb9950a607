"""Service health from hourly rollups: the background aggregation of usage rows
(``rollup``), failed attempts per provider (``failures``), the reusable queries (``queries``:
success rates, latency, daily uptime, hourly series), derived incidents (``incidents``) and
the status page's report (``report``). No HTTP here; the status page and the admin overview
call these.
"""

from modelsnest.health.incidents import Incident, incidents
from modelsnest.health.latency import median_ms, quantile_ms
from modelsnest.health.queries import (
    HealthStats,
    HourHealth,
    daily_health,
    health_by,
    hourly_health,
    model_health,
    provider_health,
)
from modelsnest.health.report import StatusBoard, StatusReport, SubjectStatus, UptimeDay, status_report
from modelsnest.health.rollup import aggregate_once, aggregate_pending, last_rollup, run_health_rollup

__all__ = [
    "HealthStats",
    "HourHealth",
    "Incident",
    "StatusBoard",
    "StatusReport",
    "SubjectStatus",
    "UptimeDay",
    "aggregate_once",
    "aggregate_pending",
    "daily_health",
    "health_by",
    "hourly_health",
    "incidents",
    "last_rollup",
    "median_ms",
    "model_health",
    "provider_health",
    "quantile_ms",
    "run_health_rollup",
    "status_report",
]
