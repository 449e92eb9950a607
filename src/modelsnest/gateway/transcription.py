"""Speech-to-text: the audio's duration is measured from the uploaded file on the server and
billed per second or minute as the catalog says; whatever the client claims is ignored."""

from __future__ import annotations

import time
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from modelsnest.auth.key_verifier import ApiKeyPrincipal
from modelsnest.catalog.pricing import require_price, unit_cost
from modelsnest.errors import InvalidRequest
from modelsnest.exact_json import decimal_text, dumps, money, number
from modelsnest.gateway.admission import (
    admit,
    call_routes,
    finish_served,
    resolve_model,
)
from modelsnest.gateway.receipts import unit_billing
from modelsnest.gateway.service import Gateway
from modelsnest.media import measure_audio
from modelsnest.money import usd_str
from modelsnest.providers.media_types import TranscriptionRequest, TranscriptionResult, TranscriptionSegment

ENDPOINT = "transcription"
FORMATS = ("json", "text", "srt", "verbose_json", "vtt")


@dataclass
class Upload:
    data: bytes
    filename: str
    content_type: str


@dataclass
class Transcript:
    body: bytes
    media_type: str
    headers: dict[str, str]


def _timestamp(ms: int, separator: str) -> str:
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{separator}{millis:03d}"


def render_srt(segments: list[TranscriptionSegment]) -> str:
    blocks = [
        f"{i}\n{_timestamp(s.start_ms, ',')} --> {_timestamp(s.end_ms, ',')}\n{s.text.strip()}\n"
        for i, s in enumerate(segments, start=1)
    ]
    return "\n".join(blocks)


def render_vtt(segments: list[TranscriptionSegment]) -> str:
    blocks = [
        f"{_timestamp(s.start_ms, '.')} --> {_timestamp(s.end_ms, '.')}\n{s.text.strip()}\n" for s in segments
    ]
    return "WEBVTT\n\n" + "\n".join(blocks)


def _seconds_text(duration: Fraction) -> str:
    return decimal_text(duration)


async def transcribe(
    gateway: Gateway,
    principal: ApiKeyPrincipal,
    fields: dict[str, str],
    upload: Upload | None,
    request_id: str,
) -> Transcript:
    started = time.perf_counter()
    slug = fields.get("model", "").strip()
    if not slug:
        raise InvalidRequest("you must provide a model parameter", code="MISSING_MODEL", param="model")
    if upload is None:
        raise InvalidRequest("file is required (multipart/form-data)", param="file")
    response_format = fields.get("response_format") or "json"
    if response_format not in FORMATS:
        raise InvalidRequest(f"response_format must be one of {', '.join(FORMATS)}", param="response_format")
    model = await resolve_model(gateway, principal, slug, ENDPOINT)
    price = require_price(model)
    audio = await measure_audio(upload.data, upload.filename, upload.content_type)
    seconds = audio.duration  # exact, measured here; a client's duration_seconds is never read
    cost = unit_cost(price, seconds)
    admission = await admit(
        gateway, principal, model, price, request_id=request_id, hold_nanos=cost, endpoint=ENDPOINT
    )
    request = TranscriptionRequest(
        audio=upload.data,
        filename=upload.filename or f"audio.{audio.format}",
        content_type=upload.content_type or "application/octet-stream",
        language=fields.get("language") or None,
        prompt=fields.get("prompt") or None,
        temperature=fields.get("temperature") or None,
    )

    async def call(route: Any) -> TranscriptionResult:
        result: TranscriptionResult = await gateway.pool.get(route.provider).transcribe(
            request, route.upstream_model
        )
        return result

    result, served = await call_routes(gateway, admission, ENDPOINT, started, call)
    whole_seconds = -(-seconds.numerator // seconds.denominator)
    await finish_served(
        gateway,
        admission,
        served,
        ENDPOINT,
        started,
        cost_nanos=cost,
        units=int(seconds * 1000),
        unit_type="audio_ms",
        meta={"audio_format": audio.format, "duration_seconds": _seconds_text(seconds)},
    )
    headers = admission.limit_state.headers()
    headers["X-Modelsnest-Provider"] = served.provider_name
    headers["X-Modelsnest-Cost-USD"] = usd_str(cost)
    headers["X-Modelsnest-Audio-Seconds"] = _seconds_text(seconds)
    billing = unit_billing(model, price, cost, number(seconds), "second")
    usage = {"type": "duration", "seconds": whole_seconds, "cost": money(cost)}
    if response_format == "text":
        return Transcript(result.text.encode(), "text/plain; charset=utf-8", headers)
    if response_format == "srt":
        return Transcript(render_srt(result.segments).encode(), "text/plain; charset=utf-8", headers)
    if response_format == "vtt":
        return Transcript(render_vtt(result.segments).encode(), "text/vtt; charset=utf-8", headers)
    body: dict[str, Any] = {"text": result.text, "usage": usage, "billing": billing}
    if response_format == "verbose_json":
        body = {
            "task": "transcribe",
            "language": result.language or fields.get("language") or "unknown",
            "duration": number(seconds),
            "text": result.text,
            "segments": [
                {
                    "id": index,
                    "start": number(Fraction(s.start_ms, 1000)),
                    "end": number(Fraction(s.end_ms, 1000)),
                    "text": s.text,
                }
                for index, s in enumerate(result.segments)
            ],
            "usage": usage,
            "billing": billing,
        }
    return Transcript(dumps(body), "application/json", headers)
