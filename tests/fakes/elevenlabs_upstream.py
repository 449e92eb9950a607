"""A fake ElevenLabs text-to-speech API: ``POST /v1/text-to-speech/{voice_id}?output_format=…``.

``base_url`` is ``http://127.0.0.1:<port>`` (the adapter appends ``/v1/...``). Behaviour and
recording are described in ``tests.fakes.server`` (``RecordedRequest.query`` holds
``output_format``). Like the real API it:

* answers ``401 {"detail": {"status": "invalid_api_key", "message"}}`` when
  ``Behaviour.expected_api_key`` is set and the ``xi-api-key`` header differs;
* answers ``404 voice_not_found`` for a voice id that is not 20 letters and digits, and
  ``422`` (FastAPI's ``{"detail": [{"loc", "msg", "type"}]}``) for a missing ``text`` or an
  unknown ``output_format``;
* returns the audio itself: ``mp3_<rate>_<kbps>`` → MP3, ``pcm_<rate>`` → raw 16-bit LE mono
  samples, ``opus_48000_<kbps>`` → Ogg Opus, ``ulaw_8000``/``alaw_8000`` → 8-bit stubs; the
  audio lasts ``len(text) / 15`` seconds (at least 0.5). Default ``mp3_44100_128``.

Errors forced with ``Behaviour.status`` use ElevenLabs' ``{"detail": {"status", "message"}}``.

    python -m tests.fakes.elevenlabs_upstream --port 18002
"""

from __future__ import annotations

import re
import zlib
from typing import Any

from aiohttp import web

from modelsnest.media.generate import encode_audio, wav_audio
from modelsnest.providers.elevenlabs import OPENAI_VOICES
from tests.fakes.server import FakeUpstream, serve_forever

__all__ = ["FakeElevenLabsUpstream", "elevenlabs_error"]

_VOICE_ID = re.compile(r"^[A-Za-z0-9]{20}$")
_FORMAT = re.compile(r"^(mp3|pcm|opus|ulaw|alaw)_(\d+)(?:_(\d+))?$")
_TYPES = {
    "mp3": "audio/mpeg",
    "pcm": "application/octet-stream",
    "opus": "audio/ogg",
    "ulaw": "audio/basic",
    "alaw": "audio/basic",
}
KNOWN_VOICES = frozenset(OPENAI_VOICES.values())


def elevenlabs_error(status: int, message: str | None = None, code: str | None = None) -> dict[str, Any]:
    codes = {401: "invalid_api_key", 404: "not_found", 429: "too_many_concurrent_requests"}
    return {
        "detail": {
            "status": code or codes.get(status, "error"),
            "message": message or f"fake elevenlabs error {status}",
        }
    }


def _validation_error(loc: list[str], msg: str) -> dict[str, Any]:
    return {"detail": [{"type": "value_error", "loc": loc, "msg": msg, "input": None}]}


class FakeElevenLabsUpstream(FakeUpstream):
    api_prefix = ""
    name = "elevenlabs"

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/text-to-speech/{voice_id}", self.text_to_speech)

    async def text_to_speech(self, request: web.Request) -> web.Response:
        recorded, generation = await self.record(request)
        b = self.behaviour
        await self.delay_headers(generation)
        status = self.forced_failure()
        if status is not None:
            return self.error_response(
                status, b.error_body if b.error_body is not None else elevenlabs_error(status)
            )
        if b.expected_api_key is not None and request.headers.get("xi-api-key") != b.expected_api_key:
            return self.error_response(401, elevenlabs_error(401, "Invalid API key"))
        voice = request.match_info["voice_id"]
        if not _VOICE_ID.match(voice):
            message = f"A voice with voice_id {voice!r} does not exist."
            return self.error_response(404, elevenlabs_error(404, message, "voice_not_found"))
        body = recorded.json
        if not isinstance(body, dict) or not isinstance(body.get("text"), str) or not body["text"]:
            return self.error_response(422, _validation_error(["body", "text"], "Field required"))
        match = _FORMAT.match(request.query.get("output_format", "mp3_44100_128"))
        if match is None:
            return self.error_response(
                422, _validation_error(["query", "output_format"], "Invalid output format")
            )
        codec, rate = match.group(1), int(match.group(2))
        duration = max(0.5, len(body["text"]) / 15)
        if codec in ("ulaw", "alaw"):
            audio = bytes(round(duration * rate))
        else:
            wav = wav_audio(duration, sample_rate=rate, seed=zlib.crc32(body["text"].encode()))
            audio = encode_audio(wav, codec)[0]
        content_type = b.content_type or _TYPES[codec]
        headers = {**b.headers, "Content-Type": content_type, "request-id": f"req_fake{self.calls}"}
        return web.Response(body=audio, headers=headers)


if __name__ == "__main__":
    serve_forever(FakeElevenLabsUpstream())
