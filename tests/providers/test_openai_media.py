"""The OpenAI-compatible adapter's media methods against the fake OpenAI upstream, over real HTTP."""

from __future__ import annotations

import base64
import io
import wave
from collections.abc import AsyncIterator

import numpy as np
import pytest
from PIL import Image

from modelsnest.media import wav_audio
from modelsnest.providers.errors import (
    ProviderAuthError,
    ProviderBadRequest,
    ProviderDownloadError,
    ProviderRateLimited,
    ProviderServerError,
    ProviderUnsupported,
)
from modelsnest.providers.media_base import count_input_tokens
from modelsnest.providers.media_types import ImageRequest, SpeechRequest, TranscriptionRequest, VideoRequest
from modelsnest.providers.openai_compat import OpenAICompatProvider
from modelsnest.providers.types import ProviderConfig
from tests.fakes.openai_media_upstream import fake_embedding, fake_input_tokens
from tests.fakes.openai_upstream import FakeOpenAIUpstream


def config(fake: FakeOpenAIUpstream, **extra: object) -> ProviderConfig:
    return ProviderConfig(
        name="fake-openai",
        kind="openai",
        base_url=fake.base_url,
        api_key="sk-test",
        first_byte_timeout=2,
        total_timeout=10,
        extra=dict(extra),
    )


@pytest.fixture
async def provider(openai_upstream: FakeOpenAIUpstream) -> AsyncIterator[OpenAICompatProvider]:
    adapter = OpenAICompatProvider(config(openai_upstream))
    yield adapter
    await adapter.close()


def audio_request(seconds: float = 7.0, **fields: str) -> TranscriptionRequest:
    return TranscriptionRequest(
        audio=wav_audio(seconds), filename="clip.wav", content_type="audio/wav", **fields
    )


# -- embeddings ----------------------------------------------------------------------------------


async def test_embeddings_pass_the_body_through(
    provider: OpenAICompatProvider, openai_upstream: FakeOpenAIUpstream
) -> None:
    request = {"model": "public/embed", "input": ["one", "two words"], "dimensions": 4, "user": "u1"}
    result = await provider.embeddings(request, "text-embedding-3-small")
    sent = openai_upstream.last
    assert sent.path == "/v1/embeddings" and sent.headers["Authorization"] == "Bearer sk-test"
    assert sent.json == {**request, "model": "text-embedding-3-small"}
    assert result.upstream_model == "text-embedding-3-small"
    assert [item["index"] for item in result.body["data"]] == [0, 1]
    assert result.body["data"][1]["embedding"] == pytest.approx(fake_embedding("two words", 4).tolist())
    assert result.usage.prompt_tokens == fake_input_tokens(request["input"]) and result.usage.reported


async def test_embeddings_base64_stay_as_the_upstream_sent_them(
    provider: OpenAICompatProvider, openai_upstream: FakeOpenAIUpstream
) -> None:
    result = await provider.embeddings({"input": "hello", "encoding_format": "base64"}, "m")
    encoded = result.body["data"][0]["embedding"]
    assert isinstance(encoded, str)
    vector = np.frombuffer(base64.b64decode(encoded), dtype="<f4")
    assert vector.tolist() == fake_embedding("hello", openai_upstream.behaviour.embedding_dimensions).tolist()


async def test_embeddings_without_usage_are_counted_locally(
    provider: OpenAICompatProvider, openai_upstream: FakeOpenAIUpstream
) -> None:
    openai_upstream.set(omit_usage=True)
    inputs = ["a longer sentence to count", [1, 2, 3]]
    result = await provider.embeddings({"input": inputs}, "m")
    assert not result.usage.reported
    assert result.usage.prompt_tokens == count_input_tokens(inputs) and result.usage.completion_tokens == 0


# -- images --------------------------------------------------------------------------------------


def decode_png(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    assert image.format == "PNG"
    return image


async def test_images_ask_for_base64(
    provider: OpenAICompatProvider, openai_upstream: FakeOpenAIUpstream
) -> None:
    request = ImageRequest(
        prompt="a red fox", n=2, width=32, height=16, quality="hd", style="vivid", extra={"user": "u"}
    )
    result = await provider.generate_images(request, "dall-e-2")
    assert openai_upstream.last.json == {
        "user": "u",
        "model": "dall-e-2",
        "prompt": "a red fox",
        "n": 2,
        "size": "32x16",
        "quality": "hd",
        "style": "vivid",
        "response_format": "b64_json",
    }
    assert len(result.images) == 2 and openai_upstream.downloads == []
    assert all(image.content_type == "image/png" for image in result.images)
    assert decode_png(result.images[0].data).size == (32, 16)


async def test_image_urls_are_downloaded(
    provider: OpenAICompatProvider, openai_upstream: FakeOpenAIUpstream
) -> None:
    openai_upstream.set(image_response="url")
    result = await provider.generate_images(ImageRequest(prompt="a fox", n=2, width=8, height=8), "dall-e-3")
    assert len(openai_upstream.downloads) == 2 and openai_upstream.calls == 1
    for image in result.images:
        assert image.revised_prompt == "a fox (revised)" and decode_png(image.data).size == (8, 8)


async def test_gpt_image_models_are_not_sent_response_format(
    provider: OpenAICompatProvider, openai_upstream: FakeOpenAIUpstream
) -> None:
    openai_upstream.set(reject_response_format=True)
    result = await provider.generate_images(ImageRequest(prompt="x", n=1, width=4, height=4), "gpt-image-1")
    assert "response_format" not in openai_upstream.last.json and openai_upstream.calls == 1
    decode_png(result.images[0].data)


async def test_a_rejected_response_format_is_retried_without_it(
    provider: OpenAICompatProvider, openai_upstream: FakeOpenAIUpstream
) -> None:
    openai_upstream.set(reject_response_format=True)
    result = await provider.generate_images(ImageRequest(prompt="x", n=1, width=4, height=4), "some-model")
    assert [("response_format" in body) for body in openai_upstream.bodies] == [True, False]
    decode_png(result.images[0].data)


async def test_failed_image_download(
    provider: OpenAICompatProvider, openai_upstream: FakeOpenAIUpstream
) -> None:
    openai_upstream.set(image_response="url", download_status=403)
    with pytest.raises(ProviderDownloadError, match="HTTP 403") as info:
        await provider.generate_images(ImageRequest(prompt="x", n=1, width=4, height=4), "dall-e-2")
    assert info.value.retryable


async def test_image_download_size_cap(openai_upstream: FakeOpenAIUpstream) -> None:
    openai_upstream.set(image_response="url")
    adapter = OpenAICompatProvider(config(openai_upstream, max_image_bytes=10))
    try:
        with pytest.raises(ProviderDownloadError, match="limit"):
            await adapter.generate_images(ImageRequest(prompt="x", n=1, width=4, height=4), "dall-e-2")
    finally:
        await adapter.close()


# -- transcription -------------------------------------------------------------------------------


async def test_transcription_is_multipart_verbose_json(
    provider: OpenAICompatProvider, openai_upstream: FakeOpenAIUpstream
) -> None:
    request = audio_request(language="en", prompt="Names: Ada", temperature="0.2", extra={"user": "u"})
    result = await provider.transcribe(request, "whisper-1")
    sent = openai_upstream.last
    assert sent.path == "/v1/audio/transcriptions" and sent.headers["Content-Type"].startswith(
        "multipart/form-data"
    )
    assert sent.form == {
        "model": "whisper-1",
        "response_format": "verbose_json",
        "language": "en",
        "prompt": "Names: Ada",
        "temperature": "0.2",
        "user": "u",
    }
    upload = sent.files["file"]
    assert (upload.filename, upload.content_type, upload.data) == ("clip.wav", "audio/wav", request.audio)
    assert result.text == openai_upstream.behaviour.reply and result.language == "en"
    assert result.duration_seconds == pytest.approx(7.0)
    assert [(s.start_ms, s.end_ms) for s in result.segments] == [(0, 3500), (3500, 7000)]
    assert "".join(s.text for s in result.segments).strip() == result.text


async def test_transcription_falls_back_to_json(
    provider: OpenAICompatProvider, openai_upstream: FakeOpenAIUpstream
) -> None:
    openai_upstream.set(reject_verbose_json=True)
    result = await provider.transcribe(audio_request(), "whisper-1")
    assert [r.form["response_format"] for r in openai_upstream.requests] == ["verbose_json", "json"]
    assert result.text == openai_upstream.behaviour.reply and result.segments == []


async def test_gpt_4o_transcribe_asks_json_at_once(
    provider: OpenAICompatProvider, openai_upstream: FakeOpenAIUpstream
) -> None:
    await provider.transcribe(audio_request(), "gpt-4o-mini-transcribe")
    assert [r.form["response_format"] for r in openai_upstream.requests] == ["json"]


async def test_transcription_of_a_bad_file_is_a_bad_request(provider: OpenAICompatProvider) -> None:
    bad = TranscriptionRequest(audio=b"not audio", filename="x.wav", content_type="audio/wav")
    with pytest.raises(ProviderBadRequest, match="Invalid file format"):
        await provider.transcribe(bad, "whisper-1")


# -- speech --------------------------------------------------------------------------------------


async def test_speech_returns_the_audio(
    provider: OpenAICompatProvider, openai_upstream: FakeOpenAIUpstream
) -> None:
    request = SpeechRequest(
        text="Hello there", voice="alloy", response_format="wav", speed=1.5, extra={"instructions": "calm"}
    )
    result = await provider.speech(request, "tts-1")
    assert openai_upstream.last.json == {
        "instructions": "calm",
        "model": "tts-1",
        "input": "Hello there",
        "voice": "alloy",
        "response_format": "wav",
        "speed": 1.5,
    }
    assert result.content_type == "audio/wav" and result.upstream_model == "tts-1"
    with wave.open(io.BytesIO(result.audio)) as reader:
        assert reader.getnframes() > 0


async def test_speech_content_type_is_ours_for_the_format(
    provider: OpenAICompatProvider, openai_upstream: FakeOpenAIUpstream
) -> None:
    openai_upstream.set(content_type="application/octet-stream")
    result = await provider.speech(SpeechRequest(text="Hi", voice="echo", response_format="mp3"), "tts-1")
    assert result.content_type == "audio/mpeg" and len(result.audio) > 100


# -- unsupported, errors, timeouts ---------------------------------------------------------------


async def test_video_is_unsupported(
    provider: OpenAICompatProvider, openai_upstream: FakeOpenAIUpstream
) -> None:
    assert "video" not in provider.capabilities
    with pytest.raises(ProviderUnsupported) as info:
        await provider.submit_video(VideoRequest(prompt="x", duration_seconds=5), "sora-2")
    assert info.value.retryable
    with pytest.raises(ProviderUnsupported):
        await provider.poll_video("task", "sora-2")
    assert openai_upstream.calls == 0


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, ProviderAuthError),
        (429, ProviderRateLimited),
        (500, ProviderServerError),
        (400, ProviderBadRequest),
    ],
)
async def test_media_errors_are_translated(
    provider: OpenAICompatProvider, openai_upstream: FakeOpenAIUpstream, status: int, error: type[Exception]
) -> None:
    openai_upstream.set(status=status, headers={"Retry-After": "3"})
    with pytest.raises(error, match=f"fake upstream error {status}"):
        await provider.embeddings({"input": "x"}, "m")
    with pytest.raises(error):
        await provider.speech(SpeechRequest(text="x", voice="alloy", response_format="mp3"), "tts-1")
    with pytest.raises(error):
        await provider.transcribe(audio_request(1), "whisper-1")


async def test_a_wrong_key_is_an_auth_error(
    openai_upstream: FakeOpenAIUpstream, provider: OpenAICompatProvider
) -> None:
    openai_upstream.set(expected_api_key="sk-other")
    with pytest.raises(ProviderAuthError, match="Incorrect API key"):
        await provider.generate_images(ImageRequest(prompt="x", n=1, width=4, height=4), "dall-e-2")
