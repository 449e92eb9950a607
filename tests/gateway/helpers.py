from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx

from modelsnest.money import usd_to_nanos


def expected_cost_nanos(
    prompt_tokens: int, completion_tokens: int, input_price: str, output_price: str
) -> int:
    """The catalog price applied to the reported tokens, rounded up once to a nano-dollar."""
    exact = prompt_tokens * usd_to_nanos(input_price) + completion_tokens * usd_to_nanos(output_price)
    return -(-exact // 1000)


def exact_json(response: httpx.Response) -> Any:
    return json.loads(response.text, parse_float=Decimal)


def nanos(value: Decimal | int) -> int:
    return usd_to_nanos(Decimal(value))


def sse_events(text: str) -> list[Any]:
    """The data payloads of an SSE body, ``[DONE]`` as the string."""
    events: list[Any] = []
    for block in text.split("\n\n"):
        for line in block.splitlines():
            if line.startswith("data: "):
                payload = line[len("data: ") :]
                events.append(payload if payload == "[DONE]" else json.loads(payload, parse_float=Decimal))
    return events


def chat_body(model: str, text: str = "Hello there, how are you?", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": text}], **extra}
