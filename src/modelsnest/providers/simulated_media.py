"""The simulator's media answers: offline, deterministic, real bytes (mixed into
``SimulatorProvider``). CPU work (images, audio, GIFs) runs in a worker thread.

* embeddings: one unit vector per input, drawn from a normal distribution seeded with a
  SHA-256 of the input (so the same text always embeds the same); ``dimensions`` or the
  model's size (``EMBEDDING_DIMENSIONS``; ``extra["embedding_dimensions"]``, else 1536). A
  smaller ``dimensions`` is the full vector cut and re-normalised, as OpenAI's text-embedding-3
  models do. ``encoding_format: "base64"`` is base64 of little-endian float32, exactly like
  OpenAI. Usage: the local token count of ``input``.
* images: real PNGs (``media.generate.png_image``) captioned "Simulated image: …", seeded by
  prompt, size and index.
* transcription: the audio is measured (``media.probe_audio``); one segment per 5 seconds,
  "[simulated transcript] segment N …" with words drawn from a hash of the audio.
* speech: ``media.generate.wav_audio`` lasting ``speech_duration_for_text(text) / speed`` (at
  most 600 s), encoded to the asked format (``encode_audio``); aac → ``ProviderBadRequest``.
* video: ``submit_video`` returns a task id that encodes the request and the submission time
  (any replica can answer a poll: nothing is stored); ``poll_video`` reports ``queued`` for the
  first quarter of ``extra["video_seconds_to_finish"]`` (default 2, 0 allowed), then ``running``
  with progress, then ``succeeded`` with a real animated GIF (``media.generate.animated_gif``,
  at most ``extra["video_max_side"]`` = 320 pixels a side, up to 48 frames spanning the
  requested duration), the same GIF for the same request.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import hashlib
import random
import time
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import orjson

from modelsnest.media import AudioDecodeError, UnsupportedAudioFormat, probe_audio
from modelsnest.media.generate import (
    MAX_AUDIO_SECONDS,
    animated_gif,
    encode_audio,
    png_image,
    speech_duration_for_text,
    wav_audio,
)
from modelsnest.providers.errors import ProviderBadRequest
from modelsnest.providers.media_base import count_input_tokens
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
    VideoRequest,
    VideoStatus,
    VideoTask,
)
from modelsnest.providers.rerank import simulated_rerank
from modelsnest.providers.types import ProviderConfig, Usage

if TYPE_CHECKING:  # numpy loads on first use: servers start faster
    import numpy as np

__all__ = ["EMBEDDING_DIMENSIONS", "SimulatedMedia", "embedding_vector"]

DEFAULT_DIMENSIONS = 1536
MAX_DIMENSIONS = 16384
EMBEDDING_DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
    "embed-english-v3.0": 1024,
    "embed-multilingual-v3.0": 1024,
    "mistral-embed": 1024,
    "gemini-embedding-001": 3072,
    "bge-m3": 1024,
    "baai/bge-m3": 1024,
    "voyage-3.5": 1024,
}
SEGMENT_SECONDS = 5
TASK_PREFIX = "simvid_"
DEFAULT_VIDEO_SECONDS = 2.0
DEFAULT_VIDEO_SIDE = 320
MAX_VIDEO_FRAMES = 48
_WORDS = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet")


def _digest(*parts: object) -> bytes:
    return hashlib.sha256(orjson.dumps(parts, option=orjson.OPT_NON_STR_KEYS)).digest()


def _seed(*parts: object) -> int:
    return int.from_bytes(_digest(*parts)[:8], "big")


def embedding_vector(item: Any, dimensions: int) -> np.ndarray:
    """The unit float32 vector of one input (a string or a token array)."""
    import numpy as np

    rng = np.random.default_rng(_seed("embedding", item))
    vector = rng.standard_normal(dimensions)
    return np.asarray(vector / np.linalg.norm(vector), dtype="<f4")


def _inputs(value: Any) -> list[Any]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, int) for v in value):
        return [value]
    if isinstance(value, list) and value:
        return value
    raise ProviderBadRequest("input must be a string, an array of strings or token arrays", status=400)


def _segments(duration_ms: int, digest: bytes) -> list[TranscriptionSegment]:
    rng = random.Random(digest)
    step = SEGMENT_SECONDS * 1000
    segments = []
    for index, start in enumerate(range(0, max(duration_ms, 1), step)):
        words = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(3, 7)))
        text = f"[simulated transcript] segment {index + 1}: {words}."
        segments.append(TranscriptionSegment(start, min(start + step, duration_ms), text))
    return segments


def _speech(text: str, voice: str, fmt: str, speed: float | None) -> tuple[bytes, str]:
    duration = speech_duration_for_text(text)
    if speed is not None and speed > 0:
        duration = duration / Fraction(speed)
    duration = min(max(duration, Fraction(1, 10)), Fraction(MAX_AUDIO_SECONDS))
    wav = wav_audio(duration, seed=_seed("speech", text, voice) % 2**32)
    return encode_audio(wav, fmt)


@functools.lru_cache(maxsize=8)
def _video(width: int, height: int, duration: int, seed: int) -> bytes:
    frames = min(max(duration * 8, 2), MAX_VIDEO_FRAMES)
    frame_ms = max(20, round(duration * 1000 / frames))
    return animated_gif(width, height, frames, seed, frame_ms)


def _encode_task(fields: dict[str, Any]) -> str:
    return TASK_PREFIX + base64.urlsafe_b64encode(orjson.dumps(fields)).decode().rstrip("=")


def _decode_task(task_id: str) -> dict[str, Any]:
    try:
        if not task_id.startswith(TASK_PREFIX):
            raise ValueError(task_id)
        encoded = task_id.removeprefix(TASK_PREFIX)
        fields = orjson.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
        if not isinstance(fields, dict) or not all(isinstance(fields.get(k), int) for k in "wdsth"):
            raise ValueError(task_id)
        return fields
    except (ValueError, binascii.Error, orjson.JSONDecodeError) as exc:
        raise ProviderBadRequest(f"unknown simulated video task {task_id[:80]!r}", status=404) from exc


class SimulatedMedia:
    """The media half of ``SimulatorProvider`` (see the module docstring)."""

    config: ProviderConfig

    def _full_dimensions(self, upstream_model: str) -> int:
        known = EMBEDDING_DIMENSIONS.get(upstream_model.lower())
        if known is not None:
            return known
        configured = int(self.config.extra.get("embedding_dimensions", DEFAULT_DIMENSIONS))
        return min(max(configured, 1), MAX_DIMENSIONS)

    def _dimensions(self, request: dict[str, Any], upstream_model: str) -> int:
        default = self._full_dimensions(upstream_model)
        asked = request.get("dimensions")
        if asked is None:
            return default
        if isinstance(asked, bool) or not isinstance(asked, int) or not 1 <= asked <= default:
            raise ProviderBadRequest(f"dimensions must be an integer from 1 to {default}", status=400)
        return asked

    async def embeddings(self, request: dict[str, Any], upstream_model: str) -> EmbeddingsResult:
        items = _inputs(request.get("input"))
        full = self._full_dimensions(upstream_model)
        dimensions = self._dimensions(request, upstream_model)
        as_base64 = request.get("encoding_format") == "base64"
        import numpy as np

        data = []
        for index, item in enumerate(items):
            vector = embedding_vector(item, full)[:dimensions]
            vector = np.asarray(vector / np.linalg.norm(vector), dtype="<f4")
            encoded: Any = base64.b64encode(vector.tobytes()).decode() if as_base64 else vector.tolist()
            data.append({"object": "embedding", "index": index, "embedding": encoded})
        tokens = count_input_tokens(request.get("input"))
        body = {
            "object": "list",
            "data": data,
            "model": upstream_model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
        return EmbeddingsResult(body=body, usage=Usage(prompt_tokens=tokens), upstream_model=upstream_model)

    async def rerank(self, request: dict[str, Any], upstream_model: str) -> RerankResult:
        return simulated_rerank(request, upstream_model)

    async def generate_images(self, request: ImageRequest, upstream_model: str) -> ImageResult:
        label = f"Simulated image: {request.prompt}"[:120]

        def draw(index: int) -> bytes:
            seed = _seed("image", upstream_model, request.prompt, request.width, request.height, index)
            return png_image(request.width, request.height, seed, label)

        try:
            pngs = await asyncio.to_thread(lambda: [draw(i) for i in range(max(request.n, 1))])
        except ValueError as exc:
            raise ProviderBadRequest(str(exc), status=400) from exc
        images = [GeneratedImage(data=png, content_type="image/png") for png in pngs]
        return ImageResult(images=images, upstream_model=upstream_model)

    async def transcribe(self, request: TranscriptionRequest, upstream_model: str) -> TranscriptionResult:
        try:
            info = await asyncio.to_thread(probe_audio, request.audio, request.filename, request.content_type)
        except AudioDecodeError as exc:
            raise ProviderBadRequest(str(exc), status=400) from exc
        duration_ms = max(1, round(info.duration * 1000))
        segments = _segments(duration_ms, hashlib.sha256(request.audio).digest())
        return TranscriptionResult(
            text=" ".join(segment.text for segment in segments),
            language=request.language or "en",
            segments=segments,
            upstream_model=upstream_model,
            duration_seconds=float(info.duration),
        )

    async def speech(self, request: SpeechRequest, upstream_model: str) -> SpeechResult:
        try:
            audio, content_type = await asyncio.to_thread(
                _speech, request.text, request.voice, request.response_format, request.speed
            )
        except UnsupportedAudioFormat as exc:
            raise ProviderBadRequest(str(exc), status=400) from exc
        return SpeechResult(audio=audio, content_type=content_type, upstream_model=upstream_model)

    def _video_seconds(self) -> float:
        return max(0.0, float(self.config.extra.get("video_seconds_to_finish", DEFAULT_VIDEO_SECONDS)))

    async def submit_video(self, request: VideoRequest, upstream_model: str) -> VideoTask:
        if request.duration_seconds < 1:
            raise ProviderBadRequest("duration_seconds must be at least 1", status=400)
        side = int(self.config.extra.get("video_max_side", DEFAULT_VIDEO_SIDE))
        width, height = request.width or 1280, request.height or 720
        if width < 1 or height < 1:
            raise ProviderBadRequest("width and height must be positive", status=400)
        scale = min(1.0, side / max(width, height))
        fields = {
            "w": max(2, round(width * scale)),
            "h": max(2, round(height * scale)),
            "d": min(request.duration_seconds, 60),
            "s": _seed("video", upstream_model, request.prompt, request.image_url, width, height) % 2**32,
            "t": time.time_ns() // 1_000_000,
        }
        return VideoTask(task_id=_encode_task(fields))

    async def poll_video(self, task_id: str, upstream_model: str) -> VideoStatus:
        fields = _decode_task(task_id)
        finish = self._video_seconds()
        elapsed = max(0.0, time.time() - fields["t"] / 1000)
        if elapsed < finish * 0.25:
            return VideoStatus(state="queued")
        if elapsed < finish:
            return VideoStatus(state="running", progress=min(99, int(elapsed / finish * 100)))
        gif = await asyncio.to_thread(_video, fields["w"], fields["h"], fields["d"], fields["s"])
        return VideoStatus(state="succeeded", progress=100, video=gif, content_type="image/gif")
