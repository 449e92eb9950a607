"""A provider kind registered through the public registry API is accepted everywhere a kind is
read — CLI, seed from the environment, operator validation, doctor — with no other edit (no
migration, no settings field, no list to extend), and refused again once unregistered."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from modelsnest.catalog import providers as catalog
from modelsnest.crypto import SecretBox
from modelsnest.errors import InvalidRequest
from modelsnest.providers.kinds import ProviderKind
from modelsnest.providers.openai_compat import OpenAICompatProvider
from modelsnest.providers.registry import default_registry, register
from modelsnest.runtime import Runtime
from modelsnest.settings import Settings
from tests.cli.conftest import TEST_SECRET_KEY, Invoke, assert_one_line_error

# The packaged catalog already records these models' ids on Mistral's own API.
MISTRAL_MODELS = {
    "mistral-large": "mistral-large-latest",
    "mistral-nemo": "open-mistral-nemo",
    "pixtral-large": "pixtral-large-latest",
    "mistral-embed": "mistral-embed",
}


@pytest.fixture
def mistral() -> Iterator[ProviderKind]:
    kind = register(
        "mistral",
        OpenAICompatProvider,
        label="Mistral AI",
        default_base_url="https://api.mistral.ai/v1",
        env_var="MISTRAL_API_KEY",
    )
    try:
        yield kind
    finally:
        default_registry.unregister("mistral")


def test_the_cli_lists_and_accepts_a_registered_kind(cli: Invoke, mistral: ProviderKind) -> None:
    kinds = cli("providers", "kinds")
    assert kinds.exit_code == 0, kinds.stderr
    [row] = [line for line in kinds.stdout.splitlines() if line.startswith("mistral ")]
    assert "Mistral AI" in row and "https://api.mistral.ai/v1" in row and "MISTRAL_API_KEY" in row

    added = cli("providers", "add", "mistral-eu", "--kind", "mistral", "--api-key", "sk-mistral-secret")
    assert added.exit_code == 0, added.stderr
    assert "kind mistral, https://api.mistral.ai/v1, API key stored encrypted" in added.stdout


def test_seed_creates_and_routes_a_registered_kind_from_its_variable(
    cli: Invoke, mistral: ProviderKind
) -> None:
    seeded = cli("seed", env={"MISTRAL_API_KEY": "sk-mistral-secret"})
    assert seeded.exit_code == 0, seeded.stderr
    listed = cli("providers", "list")
    [row] = [line for line in listed.stdout.splitlines() if line.startswith("mistral ")]
    assert "https://api.mistral.ai/v1" in row and " yes " in row
    assert "sk-mistral-secret" not in listed.stdout + seeded.stdout
    for slug, upstream in MISTRAL_MODELS.items():
        first = cli("routes", "list", slug).stdout.splitlines()[1].split()
        assert first[:4] == [slug, "mistral", upstream, "10"]

    doctor = cli("doctor", env={"MISTRAL_API_KEY": "sk-mistral-secret"})
    assert "MISTRAL_API_KEY set" in doctor.stdout and "sk-mistral-secret" not in doctor.stdout


def test_settings_read_a_registered_kinds_variable(
    mistral: ProviderKind, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MISTRAL_API_KEY", " sk-mistral ")
    assert Settings(_env_file=None).provider_keys == {"mistral": "sk-mistral"}  # type: ignore[call-arg]
    default_registry.unregister("mistral")
    assert Settings(_env_file=None).provider_keys == {}  # type: ignore[call-arg]


async def test_validation_follows_the_registry(runtime: Runtime) -> None:
    box = SecretBox(TEST_SECRET_KEY)
    with pytest.raises(InvalidRequest, match="Unknown provider kind 'vllm'"):
        await catalog.add_provider(runtime.sessions, box, name="local", kind="vllm")
    register("vllm", OpenAICompatProvider, label="vLLM", requires_api_key=False)
    try:
        # A kind with no default base URL needs one from the operator.
        with pytest.raises(InvalidRequest, match="needs a base URL") as info:
            await catalog.add_provider(runtime.sessions, box, name="local", kind="vllm")
        assert info.value.param == "base_url"
        view = await catalog.add_provider(
            runtime.sessions, box, name="local", kind="vllm", base_url="http://10.0.0.5:8000/v1"
        )
        assert (view.kind, view.base_url, view.has_api_key) == ("vllm", "http://10.0.0.5:8000/v1", False)
        assert [kind.name for kind in catalog.provider_kinds()][-1] == "vllm"
    finally:
        default_registry.unregister("vllm")
    with pytest.raises(InvalidRequest, match="Unknown provider kind 'vllm'"):
        await catalog.add_provider(runtime.sessions, box, name="local2", kind="vllm")


def test_an_unregistered_kind_is_refused_by_the_cli(cli: Invoke) -> None:
    assert_one_line_error(cli("providers", "add", "m", "--kind", "mistral"), "unknown provider kind")


def test_doctor_flags_providers_whose_kind_is_no_longer_installed(cli: Invoke) -> None:
    register("mistral", OpenAICompatProvider, default_base_url="https://api.mistral.ai/v1")
    try:
        assert cli("providers", "add", "mistral-eu", "--kind", "mistral").exit_code == 0
        assert cli("providers", "add", "local", "--kind", "openai").exit_code == 0
    finally:
        default_registry.unregister("mistral")
    doctor = cli("doctor")
    assert doctor.exit_code == 1
    [line] = [line for line in doctor.stdout.splitlines() if line[6:].startswith("providers ")]
    assert line.startswith("FAIL")
    assert "no API key: local" in line and "unknown kind (plugin not installed?): mistral-eu" in line
