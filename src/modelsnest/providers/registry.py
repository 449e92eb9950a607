"""Provider kinds → adapter factories. Built-ins register through the same ``register`` call a
later adapter (or a test's fake provider) uses; there is no ``if kind == …`` chain anywhere.

    build_provider(ProviderConfig(name="novita", kind="novita", api_key=...))  # → OpenAICompatProvider

Every adapter satisfies ``protocol.Provider`` (chat + media methods, ``close``,
``capabilities``); what it cannot serve raises ``ProviderUnsupported``.

=============  ===========================  ==================================================
kind           adapter                      capabilities
=============  ===========================  ==================================================
``openai``     ``OpenAICompatProvider``     chat, stream, embeddings, images, transcription,
                                            speech (any OpenAI-compatible base URL: DeepSeek,
                                            Groq, Together, OpenRouter, Mistral, vLLM, Ollama…)
``novita``     ``NovitaProvider``           the same + video (async task API)
``anthropic``  ``AnthropicProvider``        chat, stream
``elevenlabs`` ``ElevenLabsProvider``       speech
``simulator``  ``SimulatorProvider``        all seven, offline
=============  ===========================  ==================================================
"""

from __future__ import annotations

from collections.abc import Callable

from modelsnest.providers.anthropic import AnthropicProvider
from modelsnest.providers.elevenlabs import ElevenLabsProvider
from modelsnest.providers.errors import ProviderUnsupported
from modelsnest.providers.novita import NovitaProvider
from modelsnest.providers.openai_compat import OpenAICompatProvider
from modelsnest.providers.protocol import Provider
from modelsnest.providers.simulator import SimulatorProvider
from modelsnest.providers.types import ProviderConfig

__all__ = [
    "Provider",
    "ProviderFactory",
    "ProviderRegistry",
    "build_provider",
    "default_registry",
    "register",
]

ProviderFactory = Callable[[ProviderConfig], Provider]


class ProviderRegistry:
    """A mapping of provider kind → factory."""

    def __init__(self) -> None:
        self._factories: dict[str, ProviderFactory] = {}

    def register(self, kind: str, factory: ProviderFactory, *, replace: bool = False) -> None:
        """Add ``kind``; registering a taken kind needs ``replace=True``."""
        if kind in self._factories and not replace:
            raise ValueError(f"provider kind {kind!r} is already registered")
        self._factories[kind] = factory

    def unregister(self, kind: str) -> None:
        self._factories.pop(kind, None)

    def kinds(self) -> list[str]:
        return sorted(self._factories)

    def build(self, config: ProviderConfig) -> Provider:
        """The adapter for ``config.kind``; an unknown kind raises ``ProviderUnsupported``."""
        factory = self._factories.get(config.kind)
        if factory is None:
            raise ProviderUnsupported(f"unknown provider kind {config.kind!r}")
        return factory(config)


def _builtin_registry() -> ProviderRegistry:
    registry = ProviderRegistry()
    registry.register("openai", OpenAICompatProvider)
    registry.register("novita", NovitaProvider)
    registry.register("anthropic", AnthropicProvider)
    registry.register("simulator", SimulatorProvider)
    registry.register("elevenlabs", ElevenLabsProvider)
    return registry


default_registry = _builtin_registry()


def register(kind: str, factory: ProviderFactory, *, replace: bool = False) -> None:
    """Register ``kind`` in the default registry (see ``ProviderRegistry.register``)."""
    default_registry.register(kind, factory, replace=replace)


def build_provider(config: ProviderConfig) -> Provider:
    """Build the adapter for ``config`` from the default registry."""
    return default_registry.build(config)
