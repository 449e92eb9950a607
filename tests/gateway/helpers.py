from __future__ import annotations

import asyncio
import io
import json
import wave
from decimal import Decimal
from typing import Any

import httpx
import openai
from sqlalchemy import select

from modelsnest.db.models import UsageLog
from modelsnest.money import usd_to_nanos
from tests.live import Platform, ServerProcess


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


def sdk(server: ServerProcess, token: str) -> openai.OpenAI:
    """The official openai SDK pointed at a live server, no retries (a retry would hide bugs)."""
    return openai.OpenAI(base_url=server.api_base, api_key=token, max_retries=0, timeout=30)


def wav_bytes(seconds: float, rate: int = 16000) -> bytes:
    """A real mono 16-bit WAV file of exactly ``seconds``."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\x10\x00" * int(seconds * rate))
    return buffer.getvalue()


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


async def usage_row(platform: Platform, request_id: str) -> UsageLog:
    """The ``usage_logs`` row of a request, read from the database (waits for a stream's)."""
    for _ in range(100):
        async with platform.sessions() as session:
            row = await session.scalar(select(UsageLog).where(UsageLog.request_id == request_id))
        if row is not None:
            return row
        await asyncio.sleep(0.1)
    raise AssertionError(f"no usage row for {request_id}")
