from __future__ import annotations

import hmac

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text

from modelsnest.api.deps import services_of
from modelsnest.db.migrate import current_revision, head_revision
from modelsnest.errors import AuthError, NotFound
from modelsnest.observability import metrics

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up and serving."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """Ready for traffic: the database answers and its schema is at the code's migration head."""
    engine = services_of(request).engine
    checks: dict[str, str] = {}
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
        current, head = await current_revision(engine), head_revision()
        checks["migrations"] = "ok" if current == head else f"at {current}, expected {head}"
    except Exception as exc:  # any driver error means "not ready", reported, never raised
        checks["database"] = f"unreachable: {type(exc).__name__}"
    ready = all(value == "ok" for value in checks.values())
    return JSONResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks}, status_code=200 if ready else 503
    )


@router.get("/metrics")
async def prometheus_metrics(request: Request) -> Response:
    """Prometheus text format, every worker's samples (see ``observability.metrics``)."""
    settings = services_of(request).settings
    if not settings.metrics_enabled:
        raise NotFound("metrics are turned off (MODELSNEST_METRICS_ENABLED)")
    if settings.metrics_token:
        given = request.headers.get("authorization", "")
        expected = f"Bearer {settings.metrics_token}"
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise AuthError("a valid metrics token is required")
    body, content_type = metrics.exposition()
    return Response(body, media_type=content_type)
