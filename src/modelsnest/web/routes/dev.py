"""Developer pages, absent in production: the component gallery (every component, for
screenshots and accessibility checks) and the outbox of mails written instead of sent."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi import APIRouter, Request
from starlette.responses import Response

from modelsnest.db.base import utcnow
from modelsnest.mail import OutboxTransport
from modelsnest.web import context as web
from modelsnest.web.errors import PageError
from modelsnest.web.render import render

router = APIRouter(prefix="/dev", include_in_schema=False)
LINK = re.compile(r"https?://[^\s<>\"]+")


@router.get("/components")
async def components(request: Request) -> Response:
    now = utcnow()
    days = [now - timedelta(days=13 - i) for i in range(14)]
    spend = [120, 340, 280, 510, 460, 720, 650, 810, 790, 1020, 940, 1210, 1150, 1330]
    chart = {
        "x": [int(day.timestamp()) for day in days],
        "series": [{"label": "Spend", "values": [value / 100 for value in spend]}],
        "xLabel": "Day",
        "yLabel": "Spend (USD)",
        "yPrefix": "$",
    }
    rows = [(day.strftime("%b %d"), f"${value / 100:,.2f}") for day, value in zip(days, spend, strict=True)]
    samples = {
        "now": now,
        "minutes_ago": now - timedelta(minutes=3),
        "hours_ago": now - timedelta(hours=5),
        "days_ago": now - timedelta(days=2),
        "cost_nanos": 12_345_678,
        "tiny_cost_nanos": 123_456,
        "balance_nanos": 1_234_567_891_234,
    }
    return await render(
        request,
        "pages/dev/components.html",
        {
            "chart": chart,
            "chart_rows": rows,
            "samples": samples,
            "tab": request.query_params.get("tab", "overview"),
        },
    )


def _outbox(request: Request) -> OutboxTransport:
    transport = web.services(request).mailer.transport
    if not isinstance(transport, OutboxTransport):
        raise PageError(404, "No outbox", "Mail is sent over SMTP here, so there is no outbox to show.")
    return transport


@router.get("/outbox")
async def outbox(request: Request) -> Response:
    transport = _outbox(request)
    return await render(
        request, "pages/dev/outbox.html", {"entries": transport.entries(), "folder": str(transport.directory)}
    )


@router.get("/outbox/{name}")
async def outbox_message(request: Request, name: str) -> Response:
    entry = _outbox(request).entry(name)
    if entry is None:
        raise PageError(404, "Message not found", "This message is not in the outbox.")
    links = list(dict.fromkeys(LINK.findall(entry.text)))
    return await render(request, "pages/dev/outbox_message.html", {"entry": entry, "links": links})
