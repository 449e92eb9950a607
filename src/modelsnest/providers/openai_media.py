"""OpenAI's media endpoints, for any OpenAI-compatible upstream (mixed into
``OpenAICompatProvider``):

* ``embeddings``       ``POST /embeddings``: the client's body as it came, ``model`` replaced;
  the answer is returned untouched (``encoding_format: "base64"`` included). Usage is the
  upstream's ``usage.prompt_tokens``; when absent, the local count of ``input``
  (``Usage.reported = False``).
* ``generate_images``  ``POST /images/generations`` with ``prompt``, ``n``, ``size: "WxH"``,
  ``quality``, ``style`` and the request's extra fields, asking ``response_format: "b64_json"``
  (not sent to ``gpt-image*`` models, which always answer base64 and reject the field; an
  upstream that rejects it with a 400 naming ``response_format`` is asked again without it).
  URL answers are downloaded here (no credentials sent, ``max_image_bytes`` cap).
* ``transcribe``       multipart ``POST /audio/transcriptions`` (``file``, ``model``,
  ``language``, ``prompt``, ``temperature``, extra fields) with ``response_format:
  "verbose_json"`` for timed segments; an upstream that rejects ``verbose_json`` (a 400 naming
  it or ``response_format``; ``gpt-4o*-transcribe`` are known to) is asked for ``json``
  (text only, no segments).
* ``speech``           ``POST /audio/speech`` (``model``, ``input``, ``voice``,
  ``response_format``, ``speed``, extra fields such as ``instructions``) → the raw bytes
  (``max_audio_bytes`` cap) and our content type for the format.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Mapping
from typing import Any

import aiohttp
import orjson
from yarl import URL

from modelsnest.providers.errors import ProviderBadRequest, ProviderProtocolError, ProviderServerError
from modelsnest.providers.http import UpstreamHTTP, error_class_for_status, upstream_error_message
from modelsnest.providers.media_base import (
    as_mapping,
    byte_limit,
    count_input_tokens,
    sniff_image_type,
    speech_content_type,
)
from modelsnest.providers.media_types import (
    EmbeddingsResult,
    GeneratedImage,
    ImageRequest,
    ImageResult,
    RerankResult,
    SpeechRequest,
    SpeechResult,
    TranscriptionRequest,
    TranscriptionResult,
    TranscriptionSegment,
)
from modelsnest.providers.rerank import read_rerank_answer
from modelsnest.providers.types import ProviderConfig, Usage

__all__ = ["OpenAIMedia", "raise_error_body"]

_IMAGE_FIELDS = frozenset({"model", "prompt", "n", "size", "quality", "style", "response_format"})
_TRANSCRIPTION_FIELDS = frozenset({"model", "file", "response_format", "language", "prompt", "temperature"})
_SPEECH_FIELDS = frozenset({"model", "input", "voice", "response_format", "speed"})


def raise_error_body(answer: Mapping[str, Any], provider: str) -> None:
    """Raise the ``ProviderError`` for an ``{"error": …}`` body that came with a 2xx status."""
    error = answer["error"]
    status = error.get("code") if isinstance(error, Mapping) else None
    raw = orjson.dumps(answer)
    message = upstream_error_message(raw, 500)
    cls = error_class_for_status(status) if isinstance(status, int) and status >= 400 else ProviderServerError
    raise cls(message, status=status if isinstance(status, int) else None, body=raw.decode())


def _answer_object(answer: Any, key: str, provider: str) -> dict[str, Any]:
    """``answer`` when it is an object holding a list under ``key``, else the matching error."""
    if isinstance(answer, dict) and isinstance(answer.get(key), list):
        return answer
    if isinstance(answer, dict) and "error" in answer:
        raise_error_body(answer, provider)
    raise ProviderProtocolError(f"{provider}: answer has no {key!r} list")


def _rejects(error: ProviderBadRequest, *words: str) -> bool:
    text = f"{error.message} {error.body or ''}"
    return any(word in text for word in words)


class OpenAIMedia:
    """The media half of ``OpenAICompatProvider`` (see the module docstring)."""

    config: ProviderConfig
    _http: UpstreamHTTP
    _base_url: str

    def _media_url(self, path: str) -> URL:
        return self._http.url(self._base_url, path)

    async def embeddings(self, request: dict[str, Any], upstream_model: str) -> EmbeddingsResult:
        body = dict(request)
        body["model"] = upstream_model
        answer = await self._http.post_json(self._media_url("/embeddings"), orjson.dumps(body))
        answer = _answer_object(answer, "data", self.config.name)
        prompt = as_mapping(answer.get("usage")).get("prompt_tokens")
        if isinstance(prompt, int) and not isinstance(prompt, bool):
            usage = Usage(prompt_tokens=prompt)
        else:
            usage = Usage(prompt_tokens=count_input_tokens(request.get("input")), reported=False)
        return EmbeddingsResult(body=answer, usage=usage, upstream_model=upstream_model)

    async def rerank(self, request: dict[str, Any], upstream_model: str) -> RerankResult:
        """Jina/Cohere-compatible ``POST {base_url}/rerank`` (vLLM, Jina, Cohere's v2 …)."""
        body = {**request, "model": upstream_model}
        answer = await self._http.post_json(self._media_url("/rerank"), orjson.dumps(body))
        if isinstance(answer, dict) and "error" in answer and "results" not in answer:
            raise_error_body(answer, self.config.name)
        return read_rerank_answer(answer, request, upstream_model, self.config.name)

    async def generate_images(self, request: ImageRequest, upstream_model: str) -> ImageResult:
        body: dict[str, Any] = {k: v for k, v in request.extra.items() if k not in _IMAGE_FIELDS}
        body.update(
            model=upstream_model, prompt=request.prompt, n=request.n, size=f"{request.width}x{request.height}"
        )
        if request.quality:
            body["quality"] = request.quality
        if request.style:
            body["style"] = request.style
        if not upstream_model.startswith("gpt-image"):
            body["response_format"] = "b64_json"
        url = self._media_url("/images/generations")
        try:
            answer = await self._http.post_json(url, orjson.dumps(body))
        except ProviderBadRequest as exc:
            if "response_format" not in body or not _rejects(exc, "response_format"):
                raise
            del body["response_format"]
            answer = await self._http.post_json(url, orjson.dumps(body))
        answer = _answer_object(answer, "data", self.config.name)
        declared = answer.get("output_format")
        fallback = f"image/{declared}" if isinstance(declared, str) and declared else "image/png"
        images = await self._images(answer["data"], fallback)
        if not images:
            raise ProviderProtocolError(f"{self.config.name}: the upstream returned no image")
        quality = answer.get("quality")
        return ImageResult(
            images=images,
            upstream_model=upstream_model,
            quality=quality if isinstance(quality, str) else None,
        )

    async def _images(self, items: list[Any], fallback: str) -> list[GeneratedImage]:
        """Decode or download every image concurrently; the first failure cancels the rest."""
        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(self._image(item, fallback)) for item in items]
        except ExceptionGroup as failed:
            first = failed.exceptions[0]
            raise first from first.__cause__
        return [task.result() for task in tasks]

    async def _image(self, item: Any, fallback: str) -> GeneratedImage:
        item = as_mapping(item)
        revised = item.get("revised_prompt")
        revised = revised if isinstance(revised, str) else None
        encoded, url = item.get("b64_json"), item.get("url")
        declared: str | None = None
        if isinstance(encoded, str) and encoded:
            try:
                data = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise ProviderProtocolError(f"{self.config.name}: image is not valid base64") from exc
        elif isinstance(url, str) and url:
            data, declared = await self._http.download(url, limit=byte_limit(self.config, "max_image_bytes"))
        else:
            raise ProviderProtocolError(f"{self.config.name}: image has neither b64_json nor url")
        if not data:
            raise ProviderProtocolError(f"{self.config.name}: the upstream returned an empty image")
        if declared is not None and not declared.startswith("image/"):
            declared = None
        content_type = sniff_image_type(data) or declared or fallback
        return GeneratedImage(data=data, content_type=content_type, revised_prompt=revised)

    def _transcription_form(
        self, request: TranscriptionRequest, upstream_model: str, response_format: str
    ) -> aiohttp.MultipartWriter:
        fields: dict[str, str] = {"model": upstream_model, "response_format": response_format}
        for key, value in (
            ("language", request.language),
            ("prompt", request.prompt),
            ("temperature", request.temperature),
        ):
            if value is not None and value != "":
                fields[key] = value
        fields.update({k: v for k, v in request.extra.items() if k not in _TRANSCRIPTION_FIELDS})
        form = aiohttp.MultipartWriter("form-data")
        part = form.append(
            request.audio, {"Content-Type": request.content_type or "application/octet-stream"}
        )
        part.set_content_disposition("form-data", name="file", filename=request.filename or "audio")
        for key, value in fields.items():
            form.append(value, {"Content-Type": "text/plain; charset=utf-8"}).set_content_disposition(
                "form-data", name=key
            )
        return form

    async def transcribe(self, request: TranscriptionRequest, upstream_model: str) -> TranscriptionResult:
        url = self._media_url("/audio/transcriptions")
        verbose = not (upstream_model.startswith("gpt-4o") and "transcribe" in upstream_model)
        answer: Any = None
        if verbose:
            try:
                form = self._transcription_form(request, upstream_model, "verbose_json")
                answer = await self._http.post_form(url, form)
            except ProviderBadRequest as exc:
                if not _rejects(exc, "verbose_json", "response_format"):
                    raise
        if answer is None:
            answer = await self._http.post_form(
                url, self._transcription_form(request, upstream_model, "json")
            )
        if not isinstance(answer, dict) or not isinstance(answer.get("text"), str):
            if isinstance(answer, dict) and "error" in answer:
                raise_error_body(answer, self.config.name)
            raise ProviderProtocolError(f"{self.config.name}: transcription has no text")
        segments = []
        for raw in answer.get("segments") or ():
            segment = as_mapping(raw)
            start, end, text = segment.get("start"), segment.get("end"), segment.get("text")
            if isinstance(start, int | float) and isinstance(end, int | float) and isinstance(text, str):
                segments.append(TranscriptionSegment(round(start * 1000), round(end * 1000), text))
        language = answer.get("language")
        duration = answer.get("duration")
        return TranscriptionResult(
            text=answer["text"],
            language=language if isinstance(language, str) else request.language,
            segments=segments,
            upstream_model=upstream_model,
            duration_seconds=float(duration) if isinstance(duration, int | float) else None,
        )

    async def speech(self, request: SpeechRequest, upstream_model: str) -> SpeechResult:
        body: dict[str, Any] = {k: v for k, v in request.extra.items() if k not in _SPEECH_FIELDS}
        body.update(
            model=upstream_model,
            input=request.text,
            voice=request.voice,
            response_format=request.response_format,
        )
        if request.speed is not None:
            body["speed"] = request.speed
        audio, declared = await self._http.post_for_bytes(
            self._media_url("/audio/speech"),
            orjson.dumps(body),
            limit=byte_limit(self.config, "max_audio_bytes"),
        )
        if not audio:
            raise ProviderProtocolError(f"{self.config.name}: the upstream returned no audio")
        if declared == "application/json":
            try:
                answer = orjson.loads(audio)
            except orjson.JSONDecodeError:
                answer = None
            if isinstance(answer, dict) and "error" in answer:
                raise_error_body(answer, self.config.name)
            raise ProviderProtocolError(f"{self.config.name}: expected audio, got JSON")
        return SpeechResult(
            audio=audio,
            content_type=speech_content_type(request.response_format, declared),
            upstream_model=upstream_model,
        )
