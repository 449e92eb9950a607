"""Provider kinds: everything the platform knows about a kind of upstream, declared once.

A ``ProviderKind`` is the single declaration the registry, the CLI, the seed, validation of
operator input, ``doctor``, the settings (which environment variable carries its key) and the
admin panel's "add provider" form read. The built-in kinds are declared below and registered
the same way a plugin's kind is (``registry.register_kind``).

Factories of the built-ins are lazy (``lazy_factory("module:Class")``, like an entry point):
declaring or listing kinds loads no adapter, HTTP client or media code, so the settings and
the CLI stay quick to import. The adapters read their defaults (base URL, capabilities) from
these declarations.

==============  ===========================  ===================================================
kind            adapter                      capabilities
==============  ===========================  ===================================================
``novita``      ``NovitaProvider``           chat, stream, embeddings, images, transcription,
                                             speech, video (async task API)
``openai``      ``OpenAICompatProvider``     the same without video (any OpenAI-compatible base
                                             URL: DeepSeek, Groq, Together, OpenRouter, vLLM…)
``anthropic``   ``AnthropicProvider``        chat, stream
``elevenlabs``  ``ElevenLabsProvider``       speech
``simulator``   ``SimulatorProvider``        all seven, offline
==============  ===========================  ===================================================
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final
from urllib.parse import urlsplit

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
from modelsnest.providers.protocol import Provider
from modelsnest.providers.types import ProviderConfig

__all__ = [
    "ANTHROPIC",
    "BUILTIN_KINDS",
    "ELEVENLABS",
    "NOVITA",
    "OPENAI",
    "SIMULATOR",
    "ProviderFactory",
    "ProviderKind",
    "builtin_kind",
    "lazy_factory",
]

ProviderFactory = Callable[[ProviderConfig], Provider]

# Stored in ``providers.kind`` (a 32-character column) and typed by operators.
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_ENV_VAR = re.compile(r"^[A-Z][A-Z0-9_]*$")


@dataclass(frozen=True, slots=True)
class ProviderKind:
    """One kind of upstream and what the platform needs to know about it.

    ``env_var`` names the environment variable whose value is this kind's API key: when set,
    ``modelsnest seed`` creates a provider of this kind (named after it, at
    ``default_base_url``) and routes every catalog model with an upstream id for the kind to
    it. ``requires_base_url`` is False only for kinds that call no upstream (the simulator);
    ``requires_api_key`` tells forms and ``doctor`` whether a provider without a key can
    answer at all (a self-hosted vLLM can, OpenAI cannot).
    """

    name: str
    label: str
    factory: ProviderFactory = field(repr=False, compare=False)
    capabilities: frozenset[str]
    default_base_url: str | None = None
    env_var: str | None = None
    requires_api_key: bool = True
    requires_base_url: bool = True
    description: str = ""

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(
                f"provider kind name {self.name!r}: use 1-32 lowercase letters, digits, '-' or '_'"
            )
        if not self.label.strip():
            raise ValueError(f"provider kind {self.name!r} needs a label")
        capabilities = frozenset(self.capabilities)
        unknown = capabilities - ALL_CAPABILITIES
        if not capabilities or unknown:
            raise ValueError(
                f"provider kind {self.name!r}: capabilities must be a non-empty subset of "
                f"{sorted(ALL_CAPABILITIES)} (unknown: {sorted(unknown)})"
            )
        object.__setattr__(self, "capabilities", capabilities)
        if self.default_base_url is not None:
            parts = urlsplit(self.default_base_url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"provider kind {self.name!r}: default_base_url must be an http(s) URL")
            object.__setattr__(self, "default_base_url", self.default_base_url.rstrip("/"))
        if self.env_var is not None:
            if not _ENV_VAR.match(self.env_var) or self.env_var.startswith("MODELSNEST_"):
                raise ValueError(
                    f"provider kind {self.name!r}: env_var {self.env_var!r} must be an upper-case "
                    "variable name outside the MODELSNEST_ prefix"
                )
            if self.requires_base_url and self.default_base_url is None:
                raise ValueError(
                    f"provider kind {self.name!r} is enabled from {self.env_var} and so needs a "
                    "default_base_url to create its provider with"
                )

    def build(self, config: ProviderConfig) -> Provider:
        return self.factory(config)

    def as_dict(self) -> dict[str, Any]:
        """The kind as plain data (for the admin panel's "add provider" form, or JSON)."""
        return {
            "name": self.name,
            "label": self.label,
            "description": self.description,
            "capabilities": sorted(self.capabilities),
            "default_base_url": self.default_base_url,
            "env_var": self.env_var,
            "requires_api_key": self.requires_api_key,
            "requires_base_url": self.requires_base_url,
        }


def lazy_factory(target: str) -> ProviderFactory:
    """A factory for ``"package.module:Callable"`` that imports the module on first use."""
    module_name, _, attribute = target.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"lazy factory target {target!r} must look like 'package.module:Callable'")
    resolved: list[ProviderFactory] = []

    def build(config: ProviderConfig) -> Provider:
        if not resolved:
            resolved.append(getattr(importlib.import_module(module_name), attribute))
        return resolved[0](config)

    build.__qualname__ = build.__name__ = f"lazy({target})"
    return build


_OPENAI_COMPAT_CAPABILITIES = frozenset({CHAT, STREAM, EMBEDDINGS, IMAGES, TRANSCRIPTION, SPEECH, RERANK})

NOVITA: Final = ProviderKind(
    name="novita",
    label="Novita AI",
    factory=lazy_factory("modelsnest.providers.novita:NovitaProvider"),
    capabilities=_OPENAI_COMPAT_CAPABILITIES | {VIDEO},
    default_base_url="https://api.novita.ai/v3/openai",
    env_var="NOVITA_API_KEY",
    description="Novita's OpenAI-compatible API for chat, embeddings, images and audio, "
    "and its asynchronous task API for video.",
)
OPENAI: Final = ProviderKind(
    name="openai",
    label="OpenAI (or any OpenAI-compatible API)",
    factory=lazy_factory("modelsnest.providers.openai_compat:OpenAICompatProvider"),
    capabilities=_OPENAI_COMPAT_CAPABILITIES,
    default_base_url="https://api.openai.com/v1",
    env_var="OPENAI_API_KEY",
    description="OpenAI, or any API that speaks its wire format at another base URL: DeepSeek, "
    "Groq, Together, OpenRouter, Mistral, vLLM, Ollama, llama.cpp…",
)
ANTHROPIC: Final = ProviderKind(
    name="anthropic",
    label="Anthropic",
    factory=lazy_factory("modelsnest.providers.anthropic:AnthropicProvider"),
    capabilities=frozenset({CHAT, STREAM}),
    default_base_url="https://api.anthropic.com",
    env_var="ANTHROPIC_API_KEY",
    description="Claude models through the Anthropic Messages API.",
)
ELEVENLABS: Final = ProviderKind(
    name="elevenlabs",
    label="ElevenLabs",
    factory=lazy_factory("modelsnest.providers.elevenlabs:ElevenLabsProvider"),
    capabilities=frozenset({SPEECH}),
    default_base_url="https://api.elevenlabs.io",
    env_var="ELEVENLABS_API_KEY",
    description="ElevenLabs text-to-speech.",
)
SIMULATOR: Final = ProviderKind(
    name="simulator",
    label="Built-in simulator",
    factory=lazy_factory("modelsnest.providers.simulator:SimulatorProvider"),
    capabilities=ALL_CAPABILITIES,
    requires_api_key=False,
    requires_base_url=False,
    description="Offline, deterministic answers for every modality; calls no upstream.",
)

# In the order forms and listings show them.
BUILTIN_KINDS: Final[Mapping[str, ProviderKind]] = MappingProxyType(
    {kind.name: kind for kind in (NOVITA, OPENAI, ANTHROPIC, ELEVENLABS, SIMULATOR)}
)


def builtin_kind(name: str) -> ProviderKind | None:
    """The built-in declaration of ``name`` (adapters use it for their own defaults)."""
    return BUILTIN_KINDS.get(name)
