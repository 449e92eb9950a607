"""ElevenLabs text-to-speech against the fake ElevenLabs upstream, over real HTTP."""

from __future__ import annotations

import io
import wave
from collections.abc import AsyncIterator

import numpy as np
import pytest
import soundfile

from modelsnest.providers.elevenlabs import OPENAI_VOICES, ElevenLabsProvider, pcm_to_wav
from modelsnest.providers.errors import (
    ProviderAuthError,
    ProviderBadRequest,
    ProviderRateLimited,
    ProviderUnsupported,
)
from modelsnest.providers.media_types import ImageRequest, SpeechRequest, TranscriptionRequest, VideoRequest
from modelsnest.providers.types import ProviderConfig
from tests.fakes.elevenlabs_upstream import FakeElevenLabsUpstream

GEORGE = "JBFqnCBsd6RMkjVDRZzb"


@pytest.fixture
async def provider(elevenlabs_upstream: FakeElevenLabsUpstream) -> AsyncIterator[ElevenLabsProvider]:
    config = ProviderConfig(
        name="elevenlabs", kind="elevenlabs", base_url=elevenlabs_upstream.base_url + "/v1", api_key="xi-key"
    )
    adapter = ElevenLabsProvider(config)
    yield adapter
    await adapter.close()


def speech(fmt: str = "mp3", voice: str = GEORGE, **fields: object) -> SpeechRequest:
    return SpeechRequest(text="Hello from the test suite.", voice=voice, response_format=fmt, **fields)  # type: ignore[arg-type]


async def test_mp3_request_on_the_wire(
    provider: ElevenLabsProvider, elevenlabs_upstream: FakeElevenLabsUpstream
) -> None:
    result = await provider.speech(speech(extra={"language_code": "en"}), "eleven_multilingual_v2")
    sent = elevenlabs_upstream.last
    assert sent.path == f"/v1/text-to-speech/{GEORGE}"
    assert sent.query == {"output_format": "mp3_44100_128"}
    assert sent.headers["xi-api-key"] == "xi-key" and "Authorization" not in sent.headers
    assert sent.json == {
        "language_code": "en",
        "text": "Hello from the test suite.",
        "model_id": "eleven_multilingual_v2",
    }
    assert result.content_type == "audio/mpeg" and result.upstream_model == "eleven_multilingual_v2"
    samples, rate = soundfile.read(io.BytesIO(result.audio))
    assert rate == 44100 and len(samples) > 0


@pytest.mark.parametrize(("fmt", "output_format"), [("opus", "opus_48000_64"), ("pcm", "pcm_24000")])
async def test_native_formats(
    provider: ElevenLabsProvider, elevenlabs_upstream: FakeElevenLabsUpstream, fmt: str, output_format: str
) -> None:
    result = await provider.speech(speech(fmt), "eleven_flash_v2_5")
    assert elevenlabs_upstream.last.query == {"output_format": output_format}
    if fmt == "opus":
        assert result.audio.startswith(b"OggS") and result.content_type == "audio/ogg"
    else:
        assert result.content_type == "audio/pcm" and len(result.audio) % 2 == 0


async def test_wav_and_flac_are_converted_from_pcm(
    provider: ElevenLabsProvider, elevenlabs_upstream: FakeElevenLabsUpstream
) -> None:
    wav = await provider.speech(speech("wav"), "eleven_v3")
    assert (
        elevenlabs_upstream.last.query == {"output_format": "pcm_24000"} and wav.content_type == "audio/wav"
    )
    with wave.open(io.BytesIO(wav.audio)) as reader:
        assert (reader.getframerate(), reader.getnchannels(), reader.getsampwidth()) == (24000, 1, 2)
        frames = reader.getnframes()
    flac = await provider.speech(speech("flac"), "eleven_v3")
    samples, rate = soundfile.read(io.BytesIO(flac.audio))
    assert flac.content_type == "audio/flac" and rate == 24000 and len(samples) == frames


async def test_aac_is_unsupported(
    provider: ElevenLabsProvider, elevenlabs_upstream: FakeElevenLabsUpstream
) -> None:
    with pytest.raises(ProviderUnsupported, match="aac"):
        await provider.speech(speech("aac"), "eleven_v3")
    assert elevenlabs_upstream.calls == 0


async def test_openai_voice_names_map_to_voice_ids(
    provider: ElevenLabsProvider, elevenlabs_upstream: FakeElevenLabsUpstream
) -> None:
    await provider.speech(speech(voice="Nova"), "eleven_v3")
    assert elevenlabs_upstream.last.path == f"/v1/text-to-speech/{OPENAI_VOICES['nova']}"
    assert set(OPENAI_VOICES) >= {"alloy", "echo", "fable", "onyx", "nova", "shimmer"}
    await provider.speech(speech(voice="George"), "eleven_v3")
    assert elevenlabs_upstream.last.path == f"/v1/text-to-speech/{GEORGE}"
    with pytest.raises(ProviderBadRequest, match="unknown voice"):
        await provider.speech(speech(voice="not a voice"), "eleven_v3")


async def test_configured_voice_names(elevenlabs_upstream: FakeElevenLabsUpstream) -> None:
    config = ProviderConfig(
        name="el",
        kind="elevenlabs",
        base_url=elevenlabs_upstream.base_url,
        extra={"voices": {"narrator": GEORGE}},
    )
    adapter = ElevenLabsProvider(config)
    try:
        await adapter.speech(speech(voice="narrator"), "eleven_v3")
    finally:
        await adapter.close()
    assert elevenlabs_upstream.last.path == f"/v1/text-to-speech/{GEORGE}"


async def test_speed_goes_to_voice_settings(
    provider: ElevenLabsProvider, elevenlabs_upstream: FakeElevenLabsUpstream
) -> None:
    await provider.speech(speech(speed=4.0, extra={"voice_settings": {"stability": 0.4}}), "eleven_v3")
    assert elevenlabs_upstream.last.json["voice_settings"] == {"stability": 0.4, "speed": 1.2}
    await provider.speech(speech(speed=1.0), "eleven_v3")
    assert "voice_settings" not in elevenlabs_upstream.last.json


async def test_errors_carry_the_detail_message(
    provider: ElevenLabsProvider, elevenlabs_upstream: FakeElevenLabsUpstream
) -> None:
    elevenlabs_upstream.set(expected_api_key="other")
    with pytest.raises(ProviderAuthError, match="Invalid API key"):
        await provider.speech(speech(), "eleven_v3")
    elevenlabs_upstream.set(expected_api_key=None, status=429, headers={"Retry-After": "2"})
    with pytest.raises(ProviderRateLimited) as info:
        await provider.speech(speech(), "eleven_v3")
    assert info.value.retry_after == 2.0


async def test_everything_else_is_unsupported(provider: ElevenLabsProvider) -> None:
    assert provider.capabilities == frozenset({"speech"})
    with pytest.raises(ProviderUnsupported):
        await provider.chat({"messages": [{"role": "user", "content": "hi"}]}, "m")
    with pytest.raises(ProviderUnsupported):
        await anext(aiter(provider.chat_stream({}, "m")))
    with pytest.raises(ProviderUnsupported):
        await provider.embeddings({"input": "x"}, "m")
    with pytest.raises(ProviderUnsupported):
        await provider.generate_images(ImageRequest(prompt="x", n=1, width=8, height=8), "m")
    with pytest.raises(ProviderUnsupported):
        await provider.transcribe(
            TranscriptionRequest(audio=b"x", filename="a", content_type="audio/wav"), "scribe_v1"
        )
    with pytest.raises(ProviderUnsupported):
        await provider.submit_video(VideoRequest(prompt="x", duration_seconds=1), "m")


def test_pcm_to_wav_roundtrip() -> None:
    pcm = np.arange(-100, 100, dtype="<i2").tobytes() + b"\x01"  # an odd trailing byte is dropped
    with wave.open(io.BytesIO(pcm_to_wav(pcm))) as reader:
        assert reader.readframes(reader.getnframes()) == pcm[:-1]
