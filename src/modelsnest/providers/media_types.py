"""The contract for every non-chat modality (embeddings, images, speech-to-text,
text-to-speech, asynchronous video). Adapters implement the methods they can serve and
raise ``ProviderUnsupported`` (retryable: the router moves on) for the rest.

Adapters return bytes, never upstream URLs: an image or video the upstream hosts is
downloaded by the adapter, so everything we hand to clients is stored and served by us.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from modelsnest.providers.types import ProviderConfig, Usage


@dataclass
class EmbeddingsResult:
    """OpenAI's embeddings ``list`` body (``encoding_format`` as the client asked) + usage."""

    body: dict[str, Any]
    usage: Usage
    upstream_model: str


@dataclass
class RerankResult:
    """Cohere/Jina's rerank answer: ``results`` (index, relevance_score, document?) best
    first, and the usage (``prompt_tokens``: the tokens read; ``search_units``: searches)."""

    body: dict[str, Any]
    usage: Usage
    upstream_model: str
    search_units: int = 1


@dataclass
class ImageRequest:
    prompt: str
    n: int
    width: int
    height: int
    quality: str | None = None
    style: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # other fields, passed through


@dataclass
class GeneratedImage:
    data: bytes
    content_type: str
    revised_prompt: str | None = None


@dataclass
class ImageResult:
    images: list[GeneratedImage]
    upstream_model: str
    # The quality the upstream says it generated (gpt-image models answer ``quality``), when
    # the request left it to the upstream; None when it does not say.
    quality: str | None = None


@dataclass
class TranscriptionRequest:
    audio: bytes
    filename: str
    content_type: str
    language: str | None = None
    prompt: str | None = None
    temperature: str | None = None  # kept as the client's text; forwarded, never computed with
    extra: dict[str, str] = field(default_factory=dict)


@dataclass
class TranscriptionSegment:
    start_ms: int
    end_ms: int
    text: str


@dataclass
class TranscriptionResult:
    text: str
    language: str | None
    segments: list[TranscriptionSegment]
    upstream_model: str
    # What the upstream said the audio lasts (informational: billing uses our own measurement).
    duration_seconds: float | None = None


@dataclass
class SpeechRequest:
    text: str
    voice: str
    response_format: str  # mp3 | opus | aac | flac | wav | pcm
    speed: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class SpeechResult:
    audio: bytes
    content_type: str
    upstream_model: str


@dataclass
class VideoRequest:
    prompt: str
    duration_seconds: int
    width: int | None = None
    height: int | None = None
    image_url: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class VideoTask:
    task_id: str


VideoState = Literal["queued", "running", "succeeded", "failed"]


@dataclass
class VideoStatus:
    state: VideoState
    progress: int = 0  # 0..100
    video: bytes | None = None  # the finished file, downloaded by the adapter
    content_type: str | None = None
    error: str | None = None


class MediaProvider(Protocol):
    config: ProviderConfig

    async def embeddings(self, request: dict[str, Any], upstream_model: str) -> EmbeddingsResult: ...

    async def generate_images(self, request: ImageRequest, upstream_model: str) -> ImageResult: ...

    async def transcribe(self, request: TranscriptionRequest, upstream_model: str) -> TranscriptionResult: ...

    async def speech(self, request: SpeechRequest, upstream_model: str) -> SpeechResult: ...

    async def submit_video(self, request: VideoRequest, upstream_model: str) -> VideoTask: ...

    async def poll_video(self, task_id: str, upstream_model: str) -> VideoStatus: ...

    async def rerank(self, request: dict[str, Any], upstream_model: str) -> RerankResult: ...
