"""The operator docs keep up with the code: every setting is in env.example (with its default)
and in the README's configuration table, and so is every built-in provider kind's key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from modelsnest.providers.kinds import BUILTIN_KINDS
from modelsnest.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
# Settings whose documented default is the effective one rather than the field's raw value.
EFFECTIVE_DEFAULTS = {"database_url": "sqlite:///./var/modelsnest.db", "var_dir": "./var"}
# Filled from each provider kind's own variable (NOVITA_API_KEY …), documented one by one below.
FROM_PROVIDER_KINDS = {"provider_keys"}
SETTINGS = sorted(set(Settings.model_fields) - FROM_PROVIDER_KINDS)
PROVIDER_KEY_VARIABLES = sorted(kind.env_var for kind in BUILTIN_KINDS.values() if kind.env_var)


def _env_name(field: str) -> str:
    alias = Settings.model_fields[field].validation_alias
    choices = getattr(alias, "choices", None)
    return str(choices[0]) if choices else f"MODELSNEST_{field.upper()}"


def _documented_defaults() -> dict[str, str]:
    text = (ROOT / "env.example").read_text()
    return dict(re.findall(r"^# ([A-Z][A-Z0-9_]+)=(.*)$", text, flags=re.MULTILINE))


@pytest.mark.parametrize("field", SETTINGS)
def test_every_setting_is_documented_with_its_default(field: str) -> None:
    name = _env_name(field)
    documented = _documented_defaults()
    assert name in documented, f"{name} is missing from env.example"
    default = Settings.model_fields[field].default
    expected = EFFECTIVE_DEFAULTS.get(field, "" if default is None else str(default))
    assert documented[name] == expected, (
        f"env.example gives {name}={documented[name]!r}, code has {expected!r}"
    )
    assert f"`{name}`" in (ROOT / "README.md").read_text(), f"{name} is missing from the README's table"


@pytest.mark.parametrize("name", PROVIDER_KEY_VARIABLES)
def test_every_provider_key_variable_is_documented(name: str) -> None:
    assert _documented_defaults().get(name) == "", f"{name} is missing from env.example"
    assert f"`{name}`" in (ROOT / "README.md").read_text(), f"{name} is missing from the README's table"


def test_nothing_documented_is_unknown_to_the_code() -> None:
    known = {_env_name(field) for field in SETTINGS} | set(PROVIDER_KEY_VARIABLES)
    documented = {name for name in _documented_defaults() if not name.startswith("MODELSNEST_TEST_")}
    assert documented - known == set()
    in_readme = set(re.findall(r"`(MODELSNEST_[A-Z0-9_]+)`", (ROOT / "README.md").read_text()))
    assert {name for name in in_readme if not name.startswith("MODELSNEST_TEST_")} - known == set()


def test_readme_gives_the_two_commands_the_makefile_and_ci_run() -> None:
    readme = (ROOT / "README.md").read_text()
    makefile = (ROOT / "Makefile").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make run" in readme and "make test" in readme and "## Benchmarks" in readme
    for target in ("run:", "test:", "lint:", "bench:"):
        assert re.search(rf"^{target}", makefile, flags=re.MULTILINE), target
    assert "-p no:cacheprovider" in makefile and "modelsnest demo" in makefile
    assert "make test" in ci and "ruff check" in ci
