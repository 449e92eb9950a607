"""Speech-to-text: the audio's duration is measured from the uploaded file on the server and
billed per second or minute as the catalog says; whatever the client claims is ignored."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from modelsnest.catalog.pricing import unit_cost
from modelsnest.errors import InvalidRequest
from modelsnest.exact_json import decimal_text, dumps, number
from modelsnest.gateway.costs import unit_costing
from modelsnest.gateway.fallback import Served
from modelsnest.gateway.pipeline import Bill, Call, Incoming, Modality, Reply, Upload
from modelsnest.gateway.receipts import add_cost, unit_billing
from modelsnest.media import measure_audio
from modelsnest.media.formats.common import AudioInfo as MeasuredAudio
from modelsnest.providers.media_types import TranscriptionRequest, TranscriptionResult, TranscriptionSegment
from modelsnest.providers.protocol import Provider

FORMATS = ("json", "text", "srt", "verbose_json", "vtt")


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


@dataclass
class TranscriptionJob:
    fields: Mapping[str, str]
    upload: Upload
    response_format: str
    audio: MeasuredAudio | None = None  # measured from the file's own data, before the hold

    @property
    def seconds(self) -> Fraction:
        assert self.audio is not None
        return self.audio.duration


class TranscriptionModality(Modality[TranscriptionJob, TranscriptionResult]):
    endpoint = "transcription"

    def parse(self, incoming: Incoming) -> tuple[str, TranscriptionJob]:
        fields = incoming.fields or {}
        slug = fields.get("model", "").strip()
        if not slug:
            raise InvalidRequest("you must provide a model parameter", code="MISSING_MODEL", param="model")
        if incoming.upload is None:
            raise InvalidRequest("file is required (multipart/form-data)", param="file")
        response_format = fields.get("response_format") or "json"
        if response_format not in FORMATS:
            raise InvalidRequest(
                f"response_format must be one of {', '.join(FORMATS)}", param="response_format"
            )
        return slug, TranscriptionJob(fields, incoming.upload, response_format)

    def fingerprint(self, incoming: Incoming) -> bytes:
        # A retry's multipart boundary differs: compare what the form says, not its framing.
        digest = hashlib.sha256()
        for name, value in sorted((incoming.fields or {}).items()):
            digest.update(f"{name}={value}\0".encode())
        if incoming.upload is not None:
            digest.update(incoming.upload.filename.encode() + b"\0")
            digest.update(hashlib.sha256(incoming.upload.data).digest())
        return digest.digest()

    async def hold(self, call: Call, request: TranscriptionJob) -> int:
        upload = request.upload
        request.audio = await measure_audio(upload.data, upload.filename, upload.content_type)
        # Exact and measured here; a client's duration_seconds is never read.
        return unit_cost(call.price, request.seconds)

    async def invoke(
        self, adapter: Provider, request: TranscriptionJob, upstream_model: str
    ) -> TranscriptionResult:
        assert request.audio is not None
        fields, upload = request.fields, request.upload
        return await adapter.transcribe(
            TranscriptionRequest(
                audio=upload.data,
                filename=upload.filename or f"audio.{request.audio.format}",
                content_type=upload.content_type or "application/octet-stream",
                language=fields.get("language") or None,
                prompt=fields.get("prompt") or None,
                temperature=fields.get("temperature") or None,
            ),
            upstream_model,
        )

    def bill(self, call: Call, request: TranscriptionJob, result: TranscriptionResult) -> Bill:
        assert request.audio is not None
        seconds = request.seconds
        costing, meter = unit_costing(call.price, seconds, "audio_seconds")
        return Bill(
            costing.cost_nanos,
            costing=costing,
            meter=meter,
            usage={
                "units": int(seconds * 1000),
                "unit_type": "audio_ms",
                "meta": {"audio_format": request.audio.format, "duration_seconds": decimal_text(seconds)},
            },
            headers={"X-Modelsnest-Audio-Seconds": decimal_text(seconds)},
        )

    async def answer(
        self, call: Call, request: TranscriptionJob, result: TranscriptionResult, bill: Bill, served: Served
    ) -> Reply:
        seconds = request.seconds
        response_format = request.response_format
        if response_format == "text":
            return Reply(result.text.encode(), media_type="text/plain; charset=utf-8")
        if response_format == "srt":
            return Reply(render_srt(result.segments).encode(), media_type="text/plain; charset=utf-8")
        if response_format == "vtt":
            return Reply(render_vtt(result.segments).encode(), media_type="text/vtt; charset=utf-8")
        billing = unit_billing(
            call.model, call.price, bill.cost_nanos, number(seconds), "second", bill.costing
        )
        whole_seconds = -(-seconds.numerator // seconds.denominator)
        usage = add_cost({"type": "duration", "seconds": whole_seconds}, bill.cost_nanos, bill.costing)
        body: dict[str, Any] = {"text": result.text, "usage": usage, "billing": billing}
        if response_format == "verbose_json":
            body = {
                "task": "transcribe",
                "language": result.language or request.fields.get("language") or "unknown",
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
        return Reply(dumps(body))


TRANSCRIPTION = TranscriptionModality()
