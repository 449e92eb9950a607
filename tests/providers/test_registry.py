from __future__ import annotations

import pytest

from modelsnest.providers.anthropic import AnthropicProvider
from modelsnest.providers.errors import ProviderUnsupported
from modelsnest.providers.openai_compat import OpenAICompatProvider
from modelsnest.providers.registry import ProviderRegistry, build_provider, default_registry, register
from modelsnest.providers.simulator import SimulatorProvider
from modelsnest.providers.types import ChatProvider, ProviderConfig


@pytest.mark.parametrize(
    ("kind", "cls"),
    [
        ("openai", OpenAICompatProvider),
        ("novita", OpenAICompatProvider),
        ("anthropic", AnthropicProvider),
        ("simulator", SimulatorProvider),
    ],
)
def test_builtin_kinds(kind: str, cls: type) -> None:
    provider = build_provider(ProviderConfig(name=kind, kind=kind))
    assert isinstance(provider, cls)
    assert "chat" in provider.capabilities  # type: ignore[attr-defined]


async def test_elevenlabs_has_no_chat() -> None:
    provider = build_provider(ProviderConfig(name="el", kind="elevenlabs", api_key="k"))
    assert "chat" not in provider.capabilities  # type: ignore[attr-defined]
    with pytest.raises(ProviderUnsupported):
        await provider.chat({"messages": [{"role": "user", "content": "hi"}]}, "m")
    with pytest.raises(ProviderUnsupported):
        await anext(aiter(provider.chat_stream({}, "m")))
    await provider.close()


def test_unknown_kind() -> None:
    with pytest.raises(ProviderUnsupported, match="unknown provider kind"):
        build_provider(ProviderConfig(name="x", kind="nope"))


def test_register_and_replace() -> None:
    def factory(config: ProviderConfig) -> ChatProvider:
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
