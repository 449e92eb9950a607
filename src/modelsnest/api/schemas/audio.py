"""Speech: ``POST /api/v1/audio/speech`` (audio bytes, as OpenAI answers), ``POST
/api/v1/text-to-speech`` (a JSON acknowledgment with the audio) and ``POST
/api/v1/audio/transcriptions`` (a multipart upload; JSON or text as ``response_format`` asks).
Fields and limits are those ``gateway.speech`` and ``gateway.transcription`` check."""

from __future__ import annotations

import struct
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel
from starlette.responses import Response

from modelsnest.api.schemas.common import (
    BEARER,
    IDEMPOTENCY_KEY,
    SERVED_HEADERS,
    Money,
    Quantity,
    UnitBilling,
    WireModel,
    binary_content,
    ok,
    request_body,
    string_content,
)
from modelsnest.api.schemas.errors import PAID_ERRORS, error_responses
from modelsnest.gateway.speech import DEFAULT_VOICE, MAX_CHARACTERS
from modelsnest.media.generate import CONTENT_TYPES as AUDIO_CONTENT_TYPES

SpeechFormat = Literal["mp3", "opus", "aac", "flac", "wav", "pcm"]  # gateway.speech.FORMATS
TranscriptFormat = Literal["json", "text", "srt", "verbose_json", "vtt"]  # gateway.transcription.FORMATS


class _Speech(BaseModel):
    model_config = ConfigDict(extra="allow")

    model: str = Field(min_length=1, description="A text-to-speech model id from `GET /api/v1/models`.")
    voice: str = Field(DEFAULT_VOICE, min_length=1, pattern=r"\S")
    response_format: SpeechFormat = Field(
        "mp3", description="The audio format (aac only where the provider can encode it)."
    )
    speed: float | None = Field(None, ge=0.25, le=4.0)


class SpeechRequest(_Speech):
    """Billed per character of `input`, counted on the server. Other fields go to the provider."""

    input: str = Field(min_length=1, max_length=MAX_CHARACTERS, pattern=r"\S")


class TextToSpeechRequest(_Speech):
    """As `/audio/speech` with the text in `text`; the answer is JSON."""

    text: str = Field(min_length=1, max_length=MAX_CHARACTERS, pattern=r"\S")


class SpeechAudio(WireModel):
    url: str = Field(description="Where we serve the audio until expires_at.")
    content_type: str
    expires_at: int = Field(description="Unix time.")
    base64: str = Field(description="The same audio, inline.")


class SpeechUsage(WireModel):
    characters: int = Field(ge=0)
    cost: Money


class TextToSpeechResponse(WireModel):
    object: Literal["text_to_speech"]
    id: str = Field(description="The request id.")
    status: Literal["succeeded"]
    model: str
    characters: int = Field(ge=0)
    audio: SpeechAudio
    usage: SpeechUsage
    billing: UnitBilling


class TranscriptionForm(BaseModel):
    """`multipart/form-data`: the audio file and the fields. The duration billed is measured
    from the file's own bytes (wav, mp3, m4a, ogg, flac, webm); any claimed duration is ignored."""

    file: bytes = Field(description="The audio file.")
    model: str = Field(min_length=1, pattern=r"\S", description="A transcription model id.")
    response_format: TranscriptFormat = Field("json", description="json, verbose_json, text, srt or vtt.")
    language: str = Field(description="ISO-639-1 code of the spoken language.", default="")
    prompt: str = ""
    temperature: float = Field(0, ge=0, le=1)


class TranscriptionUsage(WireModel):
    type: Literal["duration"]
    seconds: int = Field(ge=0, description="The audio's duration, rounded up to a whole second.")
    cost: Money


class Transcription(WireModel):
    text: str
    usage: TranscriptionUsage
    billing: UnitBilling


class TranscriptionSegment(WireModel):
    id: int
    start: Quantity
    end: Quantity
    text: str


class TranscriptionVerbose(WireModel):
    task: Literal["transcribe"]
    language: str
    duration: Quantity = Field(description="Seconds, measured from the file.")
    text: str
    segments: list[TranscriptionSegment]
    usage: TranscriptionUsage
    billing: UnitBilling


class TranscriptionResponse(RootModel[Transcription | TranscriptionVerbose]):
    """`json` answers a `Transcription`, `verbose_json` a `TranscriptionVerbose`."""


def _tiny_wav() -> str:
    """A real 0.1 s WAV (8-bit mono, 8 kHz) whose every byte is ASCII, so it fits a JSON example."""
    samples = b"\x7f" * 800
    fmt = struct.pack("<4sIHHIIHH", b"fmt ", 16, 1, 1, 8000, 8000, 1, 8)
    riff = b"RIFF" + struct.pack("<I", 4 + len(fmt) + 8 + len(samples)) + b"WAVE"
    return (riff + fmt + b"data" + struct.pack("<I", len(samples)) + samples).decode("ascii")


SPEECH_EXAMPLES: dict[str, dict[str, Any]] = {
    "mp3": {"model": "tts-1", "input": "Hello from Modelsnest.", "voice": "alloy"},
    "wav_faster": {"model": "tts-1", "input": "Quick test.", "response_format": "wav", "speed": 1.5},
}
TTS_EXAMPLES: dict[str, dict[str, Any]] = {
    "acknowledged": {"model": "tts-1", "text": "Hello from Modelsnest.", "voice": "alloy"}
}
TRANSCRIPTION_EXAMPLES: dict[str, dict[str, Any]] = {
    "json": {"model": "whisper-1", "file": _tiny_wav()},
    "subtitles": {"model": "whisper-1", "file": _tiny_wav(), "response_format": "srt", "language": "en"},
}

SPEECH: dict[str, Any] = {
    "tags": ["Audio"],
    "response_class": Response,  # audio bytes, no JSON body
    "responses": {
        200: ok(
            None,
            "The audio, in the content type of the requested response_format.",
            header_names=(*SERVED_HEADERS, "X-Modelsnest-Characters"),
            content=binary_content(*dict.fromkeys(AUDIO_CONTENT_TYPES.values())),
        ),
        **error_responses(*PAID_ERRORS),
    },
    "openapi_extra": {
        **request_body(SpeechRequest, SPEECH_EXAMPLES),
        "parameters": [IDEMPOTENCY_KEY],
        "security": BEARER,
    },
}

TEXT_TO_SPEECH: dict[str, Any] = {
    "tags": ["Audio"],
    "responses": {
        200: ok(
            TextToSpeechResponse,
            "The billing and the audio: a link we serve and the bytes in base64.",
            header_names=(*SERVED_HEADERS, "X-Modelsnest-Characters"),
        ),
        **error_responses(*PAID_ERRORS),
    },
    "openapi_extra": {
        **request_body(TextToSpeechRequest, TTS_EXAMPLES),
        "parameters": [IDEMPOTENCY_KEY],
        "security": BEARER,
    },
}

TRANSCRIPTION: dict[str, Any] = {
    "tags": ["Audio"],
    "responses": {
        200: ok(
            TranscriptionResponse,
            "JSON for json and verbose_json; text for text and srt; WebVTT for vtt.",
            header_names=(*SERVED_HEADERS, "X-Modelsnest-Audio-Seconds"),
            content={
                **string_content("The transcript (text) or SubRip subtitles (srt).", "text/plain"),
                **string_content("WebVTT subtitles.", "text/vtt"),
            },
        ),
        **error_responses(*PAID_ERRORS),
    },
    "openapi_extra": {
        **request_body(
            TranscriptionForm,
            TRANSCRIPTION_EXAMPLES,
            media_type="multipart/form-data",
            encoding={"file": {"contentType": "audio/*, application/octet-stream"}},
        ),
        "parameters": [IDEMPOTENCY_KEY],
        "security": BEARER,
    },
}
