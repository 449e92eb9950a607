from __future__ import annotations

import pytest

from modelsnest.providers.anthropic import AnthropicProvider
from modelsnest.providers.elevenlabs import ElevenLabsProvider
from modelsnest.providers.errors import ProviderUnsupported
from modelsnest.providers.media_base import ALL_CAPABILITIES
from modelsnest.providers.media_types import (
    ImageRequest,
    SpeechRequest,
    TranscriptionRequest,
    VideoRequest,
)
from modelsnest.providers.novita import NovitaProvider
from modelsnest.providers.openai_compat import OpenAICompatProvider
from modelsnest.providers.protocol import Provider
from modelsnest.providers.registry import ProviderRegistry, build_provider, default_registry, register
from modelsnest.providers.simulator import SimulatorProvider
from modelsnest.providers.types import ProviderConfig

CAPABILITIES = {
    "openai": {"chat", "stream", "embeddings", "images", "transcription", "speech"},
    "novita": {"chat", "stream", "embeddings", "images", "transcription", "speech", "video"},
    "anthropic": {"chat", "stream"},
    "elevenlabs": {"speech"},
    "simulator": set(ALL_CAPABILITIES),
}


@pytest.mark.parametrize(
    ("kind", "cls"),
    [
        ("openai", OpenAICompatProvider),
        ("novita", NovitaProvider),
        ("anthropic", AnthropicProvider),
        ("simulator", SimulatorProvider),
        ("elevenlabs", ElevenLabsProvider),
    ],
)
async def test_builtin_kinds(kind: str, cls: type) -> None:
    provider = build_provider(ProviderConfig(name=kind, kind=kind))
    assert isinstance(provider, cls)
    assert provider.capabilities == CAPABILITIES[kind]
    assert provider.capabilities <= ALL_CAPABILITIES
    await provider.close()


async def test_anthropic_serves_no_media() -> None:
    provider = build_provider(ProviderConfig(name="a", kind="anthropic", api_key="k"))
    calls = [
        provider.embeddings({"input": "x"}, "m"),
        provider.generate_images(ImageRequest(prompt="x", n=1, width=8, height=8), "m"),
        provider.transcribe(
            TranscriptionRequest(audio=b"x", filename="a.wav", content_type="audio/wav"), "m"
        ),
        provider.speech(SpeechRequest(text="x", voice="alloy", response_format="mp3"), "m"),
        provider.submit_video(VideoRequest(prompt="x", duration_seconds=5), "m"),
        provider.poll_video("task", "m"),
    ]
    for call in calls:
        with pytest.raises(ProviderUnsupported, match="does not serve") as info:
            await call
        assert info.value.retryable
    await provider.close()


def test_unknown_kind() -> None:
    with pytest.raises(ProviderUnsupported, match="unknown provider kind"):
        build_provider(ProviderConfig(name="x", kind="nope"))


def test_register_and_replace() -> None:
    def factory(config: ProviderConfig) -> Provider:
        return SimulatorProvider(config)

    registry = ProviderRegistry()
    registry.register("fake", factory)
    assert registry.kinds() == ["fake"]
    with pytest.raises(ValueError, match="already registered"):
        registry.register("fake", factory)
    registry.register("fake", factory, replace=True)
    assert isinstance(registry.build(ProviderConfig(name="f", kind="fake")), SimulatorProvider)
    registry.unregister("fake")
    assert registry.kinds() == []

    register("test-only-kind", factory)
    try:
        assert isinstance(build_provider(ProviderConfig(name="t", kind="test-only-kind")), SimulatorProvider)
    finally:
        default_registry.unregister("test-only-kind")
    assert set(default_registry.kinds()) == {"openai", "novita", "anthropic", "simulator", "elevenlabs"}
