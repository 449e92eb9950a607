"""``/admin/audit``: the audit log, read-only, filtered by action, actor, target and day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from fastapi import Request
from starlette.responses import Response

from modelsnest.admin import audit as service
from modelsnest.admin.routes._base import AdminActor, int_param, page, section
from modelsnest.web import context as web

router = section()


def _day(value: str) -> datetime | None:
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        return None


@router.get("/audit")
async def audit_page(request: Request, admin: AdminActor) -> Response:
    params = request.query_params
    filters = {k: params.get(k, "").strip()[:200] for k in ("action", "actor", "target", "since", "until")}
    until = _day(filters["until"])
    listing = await service.list_entries(
        web.services(request).sessions,
        action=filters["action"],
        actor=filters["actor"],
        target=filters["target"],
        since=_day(filters["since"]),
        until=until + timedelta(days=1) if until else None,
        page=int_param(request, "page"),
    )
    query = urlencode({k: v for k, v in filters.items() if v})
    return await page(
        request,
        "audit.html",
        {
            "listing": listing,
            "filters": filters,
            "query": query,
            "action_options": [(a, a) for a in listing.actions],
        },
    )
