"""Provider keys come from each registered kind's own variable, in the environment or .env."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from pydantic import ValidationError

from modelsnest.settings import DEFAULT_SITE_URL, Settings, listen_url


def test_provider_keys_are_read_from_the_kinds_own_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(
        "ANTHROPIC_API_KEY=sk-ant-from-file\nOPENAI_API_KEY=sk-file\nELEVENLABS_API_KEY=\n"
    )
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-environment")  # the environment wins
    monkeypatch.setenv("NOVITA_API_KEY", "   ")  # blank is unset
    settings = Settings()
    assert settings.provider_keys == {"openai": "sk-from-environment", "anthropic": "sk-ant-from-file"}
    assert "sk-" not in repr(settings)
    assert Settings(_env_file=None).provider_keys == {"openai": "sk-from-environment"}  # type: ignore[call-arg]


def test_keys_for_kinds_nobody_registered_are_refused() -> None:
    with pytest.raises(ValidationError, match="no provider kind is registered as azure"):
        Settings(_env_file=None, provider_keys={"azure": "k"})  # type: ignore[call-arg]


def test_links_in_mails_have_an_absolute_base_whatever_is_configured(tmp_path: Path) -> None:
    def settings(**values: object) -> Settings:
        return Settings(_env_file=None, var_dir=tmp_path, **values)  # type: ignore[arg-type,call-arg]

    assert settings(public_url="https://modelsnest.example/").site_url == "https://modelsnest.example"
    assert settings(listen_url="http://10.0.0.5:9000").site_url == "http://10.0.0.5:9000"
    assert (
        settings(public_url="https://modelsnest.example", listen_url="http://10.0.0.5:9000").site_url
        == "https://modelsnest.example"
    )
    assert settings().site_url == DEFAULT_SITE_URL == "http://127.0.0.1:8000"


def test_the_listen_address_is_one_a_link_can_reach() -> None:
    assert listen_url("127.0.0.1", 8000) == "http://127.0.0.1:8000"
    assert listen_url("::1", 8000) == "http://[::1]:8000"
    assert listen_url("0.0.0.0", 8080) == f"http://{socket.getfqdn()}:8080"
    assert "0.0.0.0" not in listen_url("0.0.0.0", 8080)
