"""What the adapters share for the non-chat modalities: the capability names (declared in
``capabilities``), the "unsupported" defaults, content sniffing and local counting (no I/O).

Adapters inherit ``UnsupportedMedia`` (every media method raises ``ProviderUnsupported``) and
override what they serve; ``NoChat`` does the same for the chat methods. ``ProviderUnsupported``
is retryable, so the router moves on to the model's next route.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

from modelsnest.media.generate import CONTENT_TYPES as AUDIO_CONTENT_TYPES
from modelsnest.providers.capabilities import (
    ALL_CAPABILITIES,
    CHAT,
    EMBEDDINGS,
    IMAGES,
    RERANK,
    SPEECH,
    STREAM,
    TRANSCRIPTION,
    VIDEO,
)
from modelsnest.providers.errors import ProviderBadRequest, ProviderUnsupported
from modelsnest.providers.media_types import (
    EmbeddingsResult,
    ImageRequest,
    ImageResult,
    RerankResult,
    SpeechRequest,
    SpeechResult,
    TranscriptionRequest,
    TranscriptionResult,
    VideoRequest,
    VideoStatus,
    VideoTask,
)
from modelsnest.providers.tokens import count_tokens
from modelsnest.providers.types import ChatChunk, ChatResult, ProviderConfig

__all__ = [
    "ALL_CAPABILITIES",
    "AUDIO_CONTENT_TYPES",
    "CHAT",
    "EMBEDDINGS",
    "IMAGES",
    "SPEECH",
    "STREAM",
    "TRANSCRIPTION",
    "VIDEO",
    "NoChat",
    "UnsupportedMedia",
    "byte_limit",
    "count_input_tokens",
    "sniff_image_type",
    "sniff_video_type",
    "speech_content_type",
    "unsupported",
]


# Size caps of what an adapter accepts from an upstream (``ProviderConfig.extra`` overrides).
DEFAULT_LIMITS = {
    "max_image_bytes": 50 * 1024 * 1024,
    "max_video_bytes": 512 * 1024 * 1024,
    "max_audio_bytes": 100 * 1024 * 1024,
}


def unsupported(config: ProviderConfig, capability: str) -> ProviderUnsupported:
    return ProviderUnsupported(f"{config.name} ({config.kind}) does not serve {capability}")


def byte_limit(config: ProviderConfig, key: str) -> int:
    """The size cap ``key`` (``max_image_bytes``/``max_video_bytes``/``max_audio_bytes``)."""
    return int(config.extra.get(key, DEFAULT_LIMITS[key]))


class UnsupportedMedia:
    """Every media method raises ``ProviderUnsupported``; adapters override what they serve."""

    config: ProviderConfig

    async def embeddings(self, request: dict[str, Any], upstream_model: str) -> EmbeddingsResult:
        raise unsupported(self.config, EMBEDDINGS)

    async def generate_images(self, request: ImageRequest, upstream_model: str) -> ImageResult:
        raise unsupported(self.config, "image generation")

    async def transcribe(self, request: TranscriptionRequest, upstream_model: str) -> TranscriptionResult:
        raise unsupported(self.config, TRANSCRIPTION)

    async def speech(self, request: SpeechRequest, upstream_model: str) -> SpeechResult:
        raise unsupported(self.config, "text-to-speech")

    async def submit_video(self, request: VideoRequest, upstream_model: str) -> VideoTask:
        raise unsupported(self.config, "video generation")

    async def poll_video(self, task_id: str, upstream_model: str) -> VideoStatus:
        raise unsupported(self.config, "video generation")

    async def rerank(self, request: dict[str, Any], upstream_model: str) -> RerankResult:
        raise unsupported(self.config, RERANK)


class NoChat:
    """Chat methods that raise ``ProviderUnsupported`` (the stream fails on first use)."""

    config: ProviderConfig

    async def chat(self, request: dict[str, Any], upstream_model: str) -> ChatResult:
        raise unsupported(self.config, "chat completions")

    async def chat_stream(self, request: dict[str, Any], upstream_model: str) -> AsyncIterator[ChatChunk]:
        nothing: tuple[ChatChunk, ...] = ()
        for chunk in nothing:  # an async generator, like the others, that fails on first use
            yield chunk
        raise unsupported(self.config, "chat completions")


def count_input_tokens(value: Any) -> int:
    """The local count of an embeddings ``input``: strings by ``tokens.count_tokens``, token
    arrays by their length (used when an upstream reports no usage)."""
    if isinstance(value, str):
        return count_tokens(value)
    if not isinstance(value, list):
        return 0
    if all(isinstance(item, int) for item in value):
        return len(value)
    total = 0
    for item in value:
        if isinstance(item, str):
            total += count_tokens(item)
        elif isinstance(item, list):
            total += len(item)
    return total


def sniff_image_type(data: bytes) -> str | None:
    """The MIME type named by an image's magic numbers, or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def sniff_video_type(data: bytes) -> str | None:
    """The MIME type named by a video file's magic numbers, or None."""
    if data[4:8] == b"ftyp":
        return "video/quicktime" if data[8:10] == b"qt" else "video/mp4"
    if data.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    return None


def speech_content_type(fmt: str, declared: str | None) -> str:
    """Our content type for a TTS ``response_format`` (the same for every upstream), else the
    upstream's own when it names an audio type."""
    known = AUDIO_CONTENT_TYPES.get(fmt)
    if known:
        return known
    if declared and declared.startswith("audio/"):
        return declared
    return "application/octet-stream"


def require_text(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise ProviderBadRequest(f"{name} must be a non-empty string", status=400)
    return value


def as_mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
