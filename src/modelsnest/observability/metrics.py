"""Prometheus metrics (``prometheus-client``), safe across uvicorn workers.

With several workers ``modelsnest serve`` points ``PROMETHEUS_MULTIPROC_DIR`` at a fresh
directory before they start; each worker then writes its samples to memory-mapped files there
and ``GET /metrics`` in any worker reads them all (``MultiProcessCollector``). With one worker
(and in tests) the process's own registry answers. Recording a sample costs about a
microsecond: a dictionary lookup for the labels and an add under a lock.

What is measured, and where it is recorded:
* HTTP requests by route template, method and status, with their duration: the request-id
  middleware, which every request passes.
* Gateway requests by endpoint, model, provider and outcome, their latency and time to first
  token: the metered ledger (``billing.hot.metered``), from the usage row each request settles
  or releases with — one place that sees every modality, streams and deferred jobs included.
* Upstream call duration and errors by provider, circuit state: the route fallback loop.
* Holds open, ledger operation latency (hold, settle, release: commit included), settlement
  batch sizes of the SQLite group-committing writer.
* API errors by code (rate-limit refusals are code ``RATE_LIMITED``): the error renderer.
"""

from __future__ import annotations

import os
from typing import Any, Final

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

MULTIPROC_ENV: Final = "PROMETHEUS_MULTIPROC_DIR"

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
_LEDGER_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1)

HTTP_REQUESTS = Counter(
    "modelsnest_http_requests_total", "HTTP requests answered", ["route", "method", "status"]
)
HTTP_DURATION = Histogram(
    "modelsnest_http_request_duration_seconds",
    "Time from the request's arrival to the end of its answer",
    ["route"],
    buckets=_LATENCY_BUCKETS,
)
GATEWAY_REQUESTS = Counter(
    "modelsnest_gateway_requests_total",
    "Paid requests by outcome (success, error, cancelled, partial)",
    ["endpoint", "model", "provider", "status"],
)
GATEWAY_LATENCY = Histogram(
    "modelsnest_gateway_request_duration_seconds",
    "Paid request latency as recorded in its usage row",
    ["endpoint", "model"],
    buckets=_LATENCY_BUCKETS,
)
TIME_TO_FIRST_TOKEN = Histogram(
    "modelsnest_time_to_first_token_seconds",
    "Streamed requests: time until the first chunk reached the client",
    ["model"],
    buckets=_LATENCY_BUCKETS,
)
UPSTREAM_DURATION = Histogram(
    "modelsnest_upstream_duration_seconds",
    "One upstream attempt, until its answer (or a stream's first chunk) arrived",
    ["provider"],
    buckets=_LATENCY_BUCKETS,
)
UPSTREAM_ERRORS = Counter(
    "modelsnest_upstream_errors_total",
    "Failed upstream attempts by provider and error",
    ["provider", "error"],
)
CIRCUIT_OPEN = Gauge(
    "modelsnest_circuit_open",
    "1 while this process skips the provider (circuit open), else 0",
    ["provider"],
    multiprocess_mode="max",
)
HOLDS_OPEN = Gauge(
    "modelsnest_holds_open", "Holds placed and not yet settled or released", multiprocess_mode="livesum"
)
LEDGER_SECONDS = Histogram(
    "modelsnest_ledger_operation_seconds",
    "Hold, settle and release, commit included",
    ["operation"],
    buckets=_LEDGER_BUCKETS,
)
SETTLEMENT_BATCH = Histogram(
    "modelsnest_ledger_batch_size",
    "Ledger operations committed together by one group commit",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
)
LEDGER_COMMIT_SECONDS = Histogram(
    "modelsnest_ledger_commit_seconds",
    "One group commit of the PostgreSQL hot ledger: the round of statements and its WAL flush",
    ["operation"],
    buckets=_LEDGER_BUCKETS,
)
API_ERRORS = Counter("modelsnest_api_errors_total", "Error answers by code and status", ["code", "status"])


_children: dict[tuple[object, tuple[str, ...]], Any] = {}


def child(metric: Counter | Histogram | Gauge, *labels: str) -> Any:
    """``metric.labels(*labels)``, remembered: the library validates and locks on every call
    (1–1.5 µs), a dictionary hit costs a tenth of that, on every request."""
    key = (metric, labels)
    found = _children.get(key)
    if found is None:
        found = _children[key] = metric.labels(*labels)
    return found


def multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


def exposition() -> tuple[bytes, str]:
    """The text format of every sample (of every worker, with several)."""
    if multiprocess():
        from prometheus_client import multiprocess as mp

        registry = CollectorRegistry()
        mp.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
