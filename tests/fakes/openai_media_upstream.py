"""OpenAI's media endpoints for the fake OpenAI-compatible upstreams (mixed into
``FakeOpenAIUpstream``; every path is under the fake's ``api_prefix``):

* ``POST /embeddings``: ``{"object": "list", "data": [{"object": "embedding", "index",
  "embedding"}], "model", "usage": {"prompt_tokens", "total_tokens"}}``; unit vectors seeded
  by the input, ``dimensions`` or ``Behaviour.embedding_dimensions`` long, float lists or
  base64 little-endian float32 (``encoding_format``). ``prompt_tokens`` =
  ``fake_input_tokens`` (Σ ``len(text) // 4 + 1``, token arrays by length), not modelsnest's
  tokenizer, so a test can tell it from a local count. ``omit_usage`` drops it.
* ``POST /images/generations``: real PNGs (at most 64 px a side); ``response_format``
  ``b64_json`` or ``url`` (OpenAI's default; the PNG is then hosted by the fake:
  ``host_file``); ``Behaviour.image_response`` forces one; ``reject_response_format`` answers
  400 to any ``response_format`` (as gpt-image models do) and b64 otherwise. ``dall-e-3`` gets
  a ``revised_prompt``.
* ``POST /audio/transcriptions`` (multipart): ``file`` and ``model`` required; the audio is
  measured with ``modelsnest.media.probe_audio`` (undecodable → 400); ``json`` →
  ``{"text", "usage": {"type": "duration", "seconds"}}``, ``verbose_json`` → ``{"task",
  "language", "duration", "text", "segments": [{"id", "start", "end", "text", …}]}`` (the
  reply split in two segments), ``text`` → plain text; ``reject_verbose_json`` → 400.
* ``POST /audio/speech``: ``model``, ``input`` (≤ 4096 characters), ``voice`` required,
  ``speed`` 0.25–4; real audio (``wav_audio`` of ``len(input) / 15`` s, encoded to the
  format; ``aac`` is a fixed ADTS-looking stub) with the format's content type
  (``Behaviour.content_type`` overrides it).
"""

from __future__ import annotations

import base64
import io
import math
import zlib
from typing import Any

import numpy as np
import orjson
from aiohttp import web
from PIL import Image

from modelsnest.media import AudioDecodeError, probe_audio
from modelsnest.media.generate import encode_audio, wav_audio
from tests.fakes.behaviour import RecordedRequest
from tests.fakes.server import FakeUpstream

__all__ = ["OpenAIMediaRoutes", "fake_embedding", "fake_input_tokens", "fake_png"]

SPEECH_TYPES = {
    "mp3": "audio/mpeg",
    "opus": "audio/opus",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
}
AAC_STUB = b"\xff\xf1\x50\x80\x02\x1f\xfc" + b"\x00" * 64


def fake_input_tokens(value: Any) -> int:
    """The fakes' embeddings token count (see the module docstring)."""
    if isinstance(value, str):
        return len(value) // 4 + 1
    if isinstance(value, list) and all(isinstance(v, int) for v in value):
        return len(value)
    return sum(fake_input_tokens(item) for item in value or ())


def fake_embedding(item: Any, dimensions: int) -> np.ndarray:
    seed = zlib.crc32(orjson.dumps(item))
    vector = np.random.default_rng(seed).standard_normal(dimensions)
    return np.asarray(vector / np.linalg.norm(vector), dtype="<f4")


def fake_png(width: int, height: int, seed: int) -> bytes:
    colour = (seed % 256, (seed >> 8) % 256, (seed >> 16) % 256)
    image = Image.new("RGB", (max(1, min(width, 64)), max(1, min(height, 64))), colour)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _error(status: int, message: str, param: str | None = None, code: str | None = None) -> dict[str, Any]:
    kind = "invalid_request_error" if status < 500 else "server_error"
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


class OpenAIMediaRoutes(FakeUpstream):
    """Handlers for the media endpoints (the chat fake adds ``add_media_routes`` to its app)."""

    def add_media_routes(self, app: web.Application) -> None:
        prefix = self.api_prefix
        app.router.add_post(f"{prefix}/embeddings", self.embeddings)
        app.router.add_post(f"{prefix}/images/generations", self.images)
        app.router.add_post(f"{prefix}/audio/transcriptions", self.transcriptions)
        app.router.add_post(f"{prefix}/audio/speech", self.speech)
        app.router.add_post(f"{prefix}/rerank", self.rerank)

    async def _start(self, request: web.Request) -> tuple[RecordedRequest, web.Response | None]:
        """Record, wait, apply forced failures and the API key check."""
        recorded, generation = await self.record(request)
        b = self.behaviour
        await self.delay_headers(generation)
        status = self.forced_failure()
        if status is not None:
            body = (
                b.error_body if b.error_body is not None else _error(status, f"fake upstream error {status}")
            )
            return recorded, self.error_response(status, body)
        expected = b.expected_api_key
        if expected is not None and request.headers.get("Authorization") != f"Bearer {expected}":
            error = _error(401, "Incorrect API key provided.", code="invalid_api_key")
            return recorded, self.error_response(401, error)
        return recorded, None

    def _json(self, body: Any) -> web.Response:
        return web.Response(
            body=orjson.dumps(body), content_type="application/json", headers=self.behaviour.headers
        )

    async def embeddings(self, request: web.Request) -> web.Response:
        recorded, failed = await self._start(request)
        if failed is not None:
            return failed
        body = recorded.json
        if not isinstance(body, dict) or not body.get("model") or not body.get("input"):
            return self.error_response(400, _error(400, "'input' and 'model' are required"))
        value = body["input"]
        items = [value] if isinstance(value, str) or all(isinstance(v, int) for v in value) else value
        dimensions = int(body.get("dimensions") or self.behaviour.embedding_dimensions)
        data = []
        for index, item in enumerate(items):
            vector = fake_embedding(item, dimensions)
            encoded: Any = (
                base64.b64encode(vector.tobytes()).decode()
                if body.get("encoding_format") == "base64"
                else vector.tolist()
            )
            data.append({"object": "embedding", "index": index, "embedding": encoded})
        answer: dict[str, Any] = {"object": "list", "data": data, "model": body["model"]}
        if not self.behaviour.omit_usage:
            tokens = fake_input_tokens(value)
            answer["usage"] = {"prompt_tokens": tokens, "total_tokens": tokens}
        return self._json(answer)

    async def rerank(self, request: web.Request) -> web.Response:
        """Jina's rerank: the later a document, the more relevant (score (i+1)/(n+1)); usage
        ``total_tokens`` = query and documents at len // 4 + 1 each."""
        recorded, failed = await self._start(request)
        if failed is not None:
            return failed
        body = recorded.json
        if not isinstance(body, dict) or not body.get("query") or not isinstance(body.get("documents"), list):
            return self.error_response(400, _error(400, "'query' and 'documents' are required"))
        documents = [d if isinstance(d, str) else d["text"] for d in body["documents"]]
        n = len(documents)
        results: list[dict[str, Any]] = []
        for index in reversed(range(n)):
            result: dict[str, Any] = {"index": index, "relevance_score": round((index + 1) / (n + 1), 4)}
            if body.get("return_documents", True):
                result["document"] = {"text": documents[index]}
            results.append(result)
        if body.get("top_n"):
            results = results[: int(body["top_n"])]
        answer: dict[str, Any] = {"model": body.get("model"), "results": results}
        if not self.behaviour.omit_usage:
            tokens = len(body["query"]) // 4 + 1 + sum(len(d) // 4 + 1 for d in documents)
            answer["usage"] = {"total_tokens": tokens}
        return self._json(answer)

    async def images(self, request: web.Request) -> web.Response:
        recorded, failed = await self._start(request)
        if failed is not None:
            return failed
        body = recorded.json
        b = self.behaviour
        if not isinstance(body, dict) or not body.get("prompt"):
            return self.error_response(400, _error(400, "'prompt' is required", "prompt"))
        if b.reject_response_format and "response_format" in body:
            message = "Unknown parameter: 'response_format'."
            return self.error_response(400, _error(400, message, "response_format", "unknown_parameter"))
        n = body.get("n", 1)
        if not isinstance(n, int) or not 1 <= n <= 10:
            return self.error_response(400, _error(400, "n must be between 1 and 10", "n"))
        try:
            width, height = (int(side) for side in str(body.get("size", "1024x1024")).split("x"))
        except ValueError:
            return self.error_response(400, _error(400, "invalid size", "size"))
        form = b.image_response or (
            "b64_json" if b.reject_response_format else body.get("response_format", "url")
        )
        data = []
        for index in range(n):
            png = fake_png(width, height, zlib.crc32(f"{body['prompt']}{index}".encode()))
            item: dict[str, Any] = (
                {"b64_json": base64.b64encode(png).decode()}
                if form == "b64_json"
                else {"url": self.host_file(png, "image/png", ".png")}
            )
            if str(body.get("model", "")).startswith("dall-e-3"):
                item["revised_prompt"] = f"{body['prompt']} (revised)"
            data.append(item)
        answer: dict[str, Any] = {"created": 1700000000, "data": data}
        if b.image_quality is not None:
            answer["quality"] = b.image_quality
        return self._json(answer)

    async def transcriptions(self, request: web.Request) -> web.Response:
        recorded, failed = await self._start(request)
        if failed is not None:
            return failed
        upload = recorded.files.get("file")
        if upload is None or not recorded.form.get("model"):
            return self.error_response(400, _error(400, "'file' and 'model' are required"))
        response_format = recorded.form.get("response_format", "json")
        if response_format == "verbose_json" and self.behaviour.reject_verbose_json:
            message = (
                f"response_format 'verbose_json' is not compatible with model "
                f"'{recorded.form['model']}'. Use 'json' or 'text' instead."
            )
            return self.error_response(400, _error(400, message, "response_format", "unsupported_value"))
        try:
            duration = float(probe_audio(upload.data, upload.filename).duration)
        except AudioDecodeError:
            return self.error_response(400, _error(400, "Invalid file format.", "file"))
        text = self.behaviour.reply
        if response_format == "text":
            return web.Response(text=text + "\n", content_type="text/plain")
        if response_format != "verbose_json":
            return self._json({"text": text, "usage": {"type": "duration", "seconds": math.ceil(duration)}})
        words = text.split()
        half = max(1, len(words) // 2)
        parts = [" ".join(words[:half]), " ".join(words[half:])] if len(words) > 1 else [text]
        step = duration / len(parts)
        segments = [
            {
                "id": index,
                "seek": 0,
                "start": round(index * step, 2),
                "end": round((index + 1) * step, 2),
                "text": " " + part,
                "tokens": [],
                "temperature": 0.0,
                "avg_logprob": -0.2,
                "compression_ratio": 1.1,
                "no_speech_prob": 0.01,
            }
            for index, part in enumerate(parts)
        ]
        language = recorded.form.get("language") or "english"
        answer = {
            "task": "transcribe",
            "language": language,
            "duration": duration,
            "text": text,
            "segments": segments,
        }
        return self._json(answer)

    async def speech(self, request: web.Request) -> web.Response:
        recorded, failed = await self._start(request)
        if failed is not None:
            return failed
        body = recorded.json
        if not isinstance(body, dict) or not all(body.get(k) for k in ("model", "input", "voice")):
            return self.error_response(400, _error(400, "'model', 'input' and 'voice' are required"))
        if len(body["input"]) > 4096:
            return self.error_response(400, _error(400, "input is longer than 4096 characters", "input"))
        speed = body.get("speed", 1.0)
        if not isinstance(speed, int | float) or not 0.25 <= speed <= 4.0:
            return self.error_response(400, _error(400, "speed must be between 0.25 and 4.0", "speed"))
        fmt = body.get("response_format", "mp3")
        if fmt not in SPEECH_TYPES:
            return self.error_response(
                400, _error(400, f"invalid response_format {fmt!r}", "response_format")
            )
        if fmt == "aac":
            audio = AAC_STUB
        else:
            wav = wav_audio(max(0.5, len(body["input"]) / 15), seed=zlib.crc32(body["input"].encode()))
            audio = encode_audio(wav, fmt)[0]
        content_type = self.behaviour.content_type or SPEECH_TYPES[fmt]
        return web.Response(body=audio, headers={**self.behaviour.headers, "Content-Type": content_type})
