"""ElevenLabs text-to-speech: ``POST {base}/v1/text-to-speech/{voice_id}?output_format=…``
with the ``xi-api-key`` header and ``{"text", "model_id": upstream_model, "voice_settings"?}``
(the answer is the audio itself). Base URL ``https://api.elevenlabs.io`` (a trailing ``/v1``
is tolerated). Everything else (chat, embeddings, images, transcription, video) raises
``ProviderUnsupported``.

Formats (our ``response_format`` → ElevenLabs ``output_format``):

========  ==================  =====================================================
ours      requested           returned
========  ==================  =====================================================
mp3       ``mp3_44100_128``   as is (``audio/mpeg``)
opus      ``opus_48000_64``   as is, Ogg Opus (``audio/ogg``)
pcm       ``pcm_24000``       as is: 16-bit LE mono 24 kHz, like OpenAI's pcm
wav       ``pcm_24000``       wrapped in a WAV header here (``audio/wav``)
flac      ``pcm_24000``       encoded to FLAC here (``audio/flac``)
aac       —                   ``ProviderUnsupported`` (no AAC encoder; the router tries
                              the model's next route)
========  ==================  =====================================================

Voices: an ElevenLabs voice id (20 letters and digits) is used as given; OpenAI's voice names
map to premade ElevenLabs voices (``OPENAI_VOICES``), as do those voices' own names
(``VOICE_NAMES``: rachel, george, sarah, …), case-insensitively; ``extra["voices"]`` (name →
voice id) adds or overrides names; anything else is a ``ProviderBadRequest``.

``speed`` goes to ``voice_settings.speed``, clamped to ElevenLabs' 0.7–1.2. ``extra`` fields
of the request (``voice_settings``, ``language_code``, ``seed``, ``previous_text``, …) are
sent in the body.
"""

from __future__ import annotations

import asyncio
import io
import re
import wave
from typing import Any, ClassVar

import orjson

from modelsnest.media.generate import encode_audio
from modelsnest.providers.errors import ProviderBadRequest, ProviderProtocolError
from modelsnest.providers.http import UpstreamHTTP
from modelsnest.providers.kinds import ELEVENLABS
from modelsnest.providers.media_base import (
    AUDIO_CONTENT_TYPES,
    NoChat,
    UnsupportedMedia,
    byte_limit,
    unsupported,
)
from modelsnest.providers.media_types import SpeechRequest, SpeechResult
from modelsnest.providers.types import ProviderConfig

__all__ = [
    "OPENAI_VOICES",
    "OUTPUT_FORMATS",
    "VOICE_NAMES",
    "ElevenLabsProvider",
    "pcm_to_wav",
]

PCM_RATE = 24000
OUTPUT_FORMATS = {
    "mp3": "mp3_44100_128",
    "opus": "opus_48000_64",
    "pcm": f"pcm_{PCM_RATE}",
    "wav": f"pcm_{PCM_RATE}",
    "flac": f"pcm_{PCM_RATE}",
}
# OpenAI voice name → premade ElevenLabs voice (by character: gender, accent, tone).
OPENAI_VOICES = {
    "alloy": "21m00Tcm4TlvDq8ikWAM",  # Rachel: calm, neutral American female
    "ash": "AZnzlk1XvdvUeBnXmlld",  # Domi: strong American female
    "ballad": "JBFqnCBsd6RMkjVDRZzb",  # George: warm British male
    "coral": "9BWtsMINqrJLrRacOk9x",  # Aria: expressive American female
    "echo": "IKne3meq5aSn9XLyUdCD",  # Charlie: casual Australian male
    "fable": "XB0fDUnXU5powFXDhCwa",  # Charlotte: British-Swedish female, storytelling
    "nova": "EXAVITQu4vr4xnSDxMaL",  # Sarah: soft, bright American female
    "onyx": "pNInz6obpgDQGcFmaJgB",  # Adam: deep American male
    "sage": "CwhRBWXzGAHq8TQ4Fs17",  # Roger: confident American male
    "shimmer": "XrExE9yKIg1WjnnlVkGX",  # Matilda: warm American female
    "verse": "CYw3kZ02Hs0563khs1Fj",  # Dave: conversational British male
}
# The same premade voices by their ElevenLabs names.
VOICE_NAMES = {
    "rachel": OPENAI_VOICES["alloy"],
    "domi": OPENAI_VOICES["ash"],
    "george": OPENAI_VOICES["ballad"],
    "aria": OPENAI_VOICES["coral"],
    "charlie": OPENAI_VOICES["echo"],
    "charlotte": OPENAI_VOICES["fable"],
    "sarah": OPENAI_VOICES["nova"],
    "adam": OPENAI_VOICES["onyx"],
    "roger": OPENAI_VOICES["sage"],
    "matilda": OPENAI_VOICES["shimmer"],
    "dave": OPENAI_VOICES["verse"],
}
_VOICE_ID = re.compile(r"^[A-Za-z0-9]{20}$")
_SPEED_RANGE = (0.7, 1.2)


def pcm_to_wav(pcm: bytes, sample_rate: int = PCM_RATE) -> bytes:
    """16-bit little-endian mono samples → a WAV file."""
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(sample_rate)
        writer.writeframes(pcm[: len(pcm) // 2 * 2])
    return out.getvalue()


def _convert(pcm: bytes, fmt: str) -> bytes:
    wav = pcm_to_wav(pcm)
    return wav if fmt == "wav" else encode_audio(wav, fmt)[0]


class ElevenLabsProvider(NoChat, UnsupportedMedia):
    """Text-to-speech served by ElevenLabs (see the module docstring)."""

    capabilities: ClassVar[frozenset[str]] = ELEVENLABS.capabilities

    def __init__(self, config: ProviderConfig) -> None:
        self.config = config
        headers = {"xi-api-key": config.api_key} if config.api_key else {}
        self._http = UpstreamHTTP(config, headers)
        base = (config.base_url or ELEVENLABS.default_base_url or "").rstrip("/").removesuffix("/v1")
        self._base_url = base
        voices = config.extra.get("voices")
        configured = {str(k).lower(): str(v) for k, v in (voices if isinstance(voices, dict) else {}).items()}
        self._voices = {**VOICE_NAMES, **OPENAI_VOICES, **configured}

    def voice_id(self, voice: str) -> str:
        """The ElevenLabs voice id for ``voice`` (an id, or a mapped name)."""
        mapped = self._voices.get(voice.lower())
        if mapped:
            return mapped
        if _VOICE_ID.match(voice):
            return voice
        raise ProviderBadRequest(
            f"unknown voice {voice!r}: use an ElevenLabs voice id or one of {', '.join(sorted(self._voices))}",
            status=400,
        )

    async def speech(self, request: SpeechRequest, upstream_model: str) -> SpeechResult:
        fmt = request.response_format
        output_format = OUTPUT_FORMATS.get(fmt)
        if output_format is None:
            raise unsupported(self.config, f"the {fmt!r} speech format")
        voice = self.voice_id(request.voice)
        body: dict[str, Any] = {k: v for k, v in request.extra.items() if k not in ("text", "model_id")}
        body["text"] = request.text
        body["model_id"] = upstream_model
        if request.speed is not None and request.speed != 1:
            settings = dict(body.get("voice_settings") or {})
            settings["speed"] = min(max(request.speed, _SPEED_RANGE[0]), _SPEED_RANGE[1])
            body["voice_settings"] = settings
        url = self._http.url(self._base_url, f"/v1/text-to-speech/{voice}").with_query(
            output_format=output_format
        )
        audio, _ = await self._http.post_for_bytes(
            url, orjson.dumps(body), limit=byte_limit(self.config, "max_audio_bytes"), accept="audio/*"
        )
        if not audio:
            raise ProviderProtocolError(f"{self.config.name}: the upstream returned no audio")
        if fmt in ("wav", "flac"):
            audio = await asyncio.to_thread(_convert, audio, fmt)
        return SpeechResult(audio=audio, content_type=AUDIO_CONTENT_TYPES[fmt], upstream_model=upstream_model)

    async def close(self) -> None:
        await self._http.close()
