from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from modelsnest.providers.anthropic import AnthropicProvider
from modelsnest.providers.elevenlabs import ElevenLabsProvider
from modelsnest.providers.errors import ProviderUnsupported
from modelsnest.providers.kinds import BUILTIN_KINDS, NOVITA, OPENAI, SIMULATOR, ProviderKind
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
from modelsnest.providers.registry import (
    ENTRY_POINT_GROUP,
    ProviderRegistry,
    build_provider,
    default_registry,
    register,
)
from modelsnest.providers.simulator import SimulatorProvider
from modelsnest.providers.types import ProviderConfig

CAPABILITIES = {
    "openai": {"chat", "stream", "embeddings", "images", "transcription", "speech", "rerank"},
    "novita": {"chat", "stream", "embeddings", "images", "transcription", "speech", "video", "rerank"},
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


# --- kinds: one declaration per kind ---------------------------------------------------------

BUILTIN_ENV_VARS = {
    "novita": "NOVITA_API_KEY",
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "elevenlabs": "ELEVENLABS_API_KEY",
}


def test_builtin_kinds_declare_what_their_adapters_do() -> None:
    assert [kind.name for kind in default_registry][:5] == list(BUILTIN_KINDS)
    assert default_registry.env_vars() == BUILTIN_ENV_VARS  # the variable names operators use
    for kind in BUILTIN_KINDS.values():
        assert kind.capabilities == CAPABILITIES[kind.name]
        assert kind.label and kind.description
        assert default_registry.get(kind.name) is kind
    assert NOVITA.default_base_url == "https://api.novita.ai/v3/openai"
    assert OPENAI.default_base_url == "https://api.openai.com/v1"
    assert (SIMULATOR.requires_api_key, SIMULATOR.requires_base_url, SIMULATOR.env_var) == (
        False,
        False,
        None,
    )


async def test_build_gives_the_adapter_its_kinds_default_base_url() -> None:
    adapter = build_provider(ProviderConfig(name="a", kind="anthropic", api_key="k"))
    assert str(adapter._messages_url) == "https://api.anthropic.com/v1/messages"  # type: ignore[attr-defined]
    await adapter.close()
    registry = ProviderRegistry()
    registry.register("mistral", OpenAICompatProvider, default_base_url="https://api.mistral.ai/v1/")
    adapter = registry.build(ProviderConfig(name="m", kind="mistral"))
    assert str(adapter._chat_url) == "https://api.mistral.ai/v1/chat/completions"  # type: ignore[attr-defined]
    await adapter.close()
    explicit = registry.build(ProviderConfig(name="m", kind="mistral", base_url="http://127.0.0.1:9/v1"))
    assert str(explicit._chat_url) == "http://127.0.0.1:9/v1/chat/completions"  # type: ignore[attr-defined]
    await explicit.close()


def test_register_declares_a_kind_from_its_adapter() -> None:
    registry = ProviderRegistry()
    kind = registry.register(
        "groq",
        OpenAICompatProvider,
        label="Groq",
        env_var="GROQ_API_KEY",
        default_base_url="https://api.groq.com/openai/v1",
    )
    assert kind.capabilities == OpenAICompatProvider.capabilities  # taken from the adapter class
    assert "groq" in registry and len(registry) == 1 and list(registry) == [kind]
    assert kind.as_dict() == {
        "name": "groq",
        "label": "Groq",
        "description": "",
        "capabilities": ["chat", "embeddings", "images", "rerank", "speech", "stream", "transcription"],
        "default_base_url": "https://api.groq.com/openai/v1",
        "env_var": "GROQ_API_KEY",
        "requires_api_key": True,
        "requires_base_url": True,
    }
    with pytest.raises(ValueError, match="cannot both use GROQ_API_KEY"):
        registry.register(
            "groq2", OpenAICompatProvider, env_var="GROQ_API_KEY", default_base_url="https://x.example"
        )


def _declare(**overrides: object) -> ProviderKind:
    fields: dict[str, object] = {
        "name": "vllm",
        "label": "vLLM",
        "factory": OpenAICompatProvider,
        "capabilities": frozenset({"chat", "stream"}),
    }
    fields.update(overrides)
    return ProviderKind(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": "Bad Name"}, "lowercase"),
        ({"name": "x" * 33}, "1-32"),
        ({"label": " "}, "label"),
        ({"capabilities": frozenset()}, "non-empty"),
        ({"capabilities": frozenset({"chat", "telepathy"})}, "telepathy"),
        ({"default_base_url": "ftp://example.com"}, "http"),
        ({"env_var": "vllm_key", "default_base_url": "https://x.example"}, "upper-case"),
        ({"env_var": "MODELSNEST_VLLM_KEY", "default_base_url": "https://x.example"}, "MODELSNEST_"),
        ({"env_var": "VLLM_API_KEY"}, "default_base_url"),
    ],
)
def test_kind_declarations_are_checked(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _declare(**overrides)


def test_a_keyless_self_hosted_kind_needs_no_default_url() -> None:
    kind = _declare(requires_api_key=False)
    assert kind.default_base_url is None and kind.requires_base_url


def test_listing_kinds_loads_no_adapter() -> None:
    """The settings and the CLI read the registry: declaring kinds must stay cheap."""
    code = (
        "import sys, json\n"
        "from modelsnest.providers.registry import default_registry\n"
        "[kind.as_dict() for kind in default_registry]\n"
        "print(json.dumps(sorted(m for m in sys.modules if m == 'aiohttp' or "
        "m.startswith(('modelsnest.providers.openai', 'modelsnest.providers.novita', "
        "'modelsnest.providers.anthropic', 'modelsnest.providers.simulat', 'modelsnest.media')))))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(result.stdout) == []


# --- plugins: the ``modelsnest.providers`` entry-point group ---------------------------------

PLUGIN = """
from modelsnest.providers.kinds import ProviderKind, lazy_factory

KIND = ProviderKind(
    name="acme",
    label="Acme AI",
    factory=lazy_factory("modelsnest.providers.openai_compat:OpenAICompatProvider"),
    capabilities=frozenset({"chat", "stream"}),
    default_base_url="https://api.acme.example/v1",
    env_var="ACME_API_KEY",
)
NOT_A_KIND = 42
"""


def test_installed_plugins_register_their_kinds(tmp_path: Path) -> None:
    (tmp_path / "acme_kinds.py").write_text(PLUGIN)
    dist = tmp_path / "acme_kinds-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-kinds\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\nacme = acme_kinds:KIND\nbroken = acme_kinds:NOT_A_KIND\n"
        "missing = no_such_module:KIND\n"
    )
    code = (
        "import asyncio\n"
        "from modelsnest.providers.registry import default_registry, build_provider\n"
        "from modelsnest.providers.types import ProviderConfig\n"
        "kind = default_registry.get('acme')\n"
        "adapter = build_provider(ProviderConfig(name='acme', kind='acme'))\n"
        "print(kind.label, default_registry.env_vars()['acme'], adapter._chat_url)\n"
        "print(sorted(default_registry.kinds()))\n"
        "asyncio.run(adapter.close())\n"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    first, second = result.stdout.splitlines()
    assert first == "Acme AI ACME_API_KEY https://api.acme.example/v1/chat/completions"
    assert second == str(sorted(["acme", *BUILTIN_KINDS]))
    # A broken plugin is reported and skipped; it takes nothing else down.
    assert "provider plugin broken (acme_kinds:NOT_A_KIND) not loaded" in result.stderr
    assert "provider plugin missing (no_such_module:KIND) not loaded" in result.stderr
