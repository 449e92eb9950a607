"""Reading the playground's server-sent events in tests, and funding an account."""

from __future__ import annotations

import json
import secrets
from typing import Any

from modelsnest import billing
from modelsnest.db.engine import SessionFactory
from modelsnest.money import usd_to_nanos


def sse(text: str) -> list[tuple[str, Any]]:
    """``(event, data)`` of each frame of an SSE body."""
    out: list[tuple[str, Any]] = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        if not block.strip():
            continue
        name, data = "message", ""
        for line in block.split("\n"):
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data += line[6:]
        out.append((name, json.loads(data)))
    return out


def named(events: list[tuple[str, Any]], name: str) -> list[Any]:
    return [data for event, data in events if event == name]


async def fund(sessions: SessionFactory, user_id: int, usd: str) -> None:
    await billing.top_up(
        sessions,
        user_id=user_id,
        amount_nanos=usd_to_nanos(usd),
        idempotency_key=f"test-{secrets.token_hex(8)}",
    )
