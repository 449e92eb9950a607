from __future__ import annotations

import os
from pathlib import Path

from tests.cli.conftest import Invoke


def _lines(stdout: str) -> dict[str, str]:
    """check name → its whole line."""
    out = {}
    for line in stdout.splitlines():
        status, rest = line[:4].strip(), line[6:]
        name = rest[:13].strip()
        out[name] = f"{status} {rest[13:].strip()}"
    return out


def test_doctor_all_ok_on_the_embedded_default(cli: Invoke) -> None:
    result = cli("doctor")
    assert result.exit_code == 0, result.stdout + result.stderr
    checks = _lines(result.stdout)
    assert list(checks) == [
        "database",
        "migrations",
        "redis",
        "secret key",
        "simulator",
        "provider keys",
        "providers",
        "smtp",
        "payments",
    ]
    assert checks["providers"] == "-- none yet: run `modelsnest seed`"
    assert checks["database"].startswith("ok reachable")
    assert checks["migrations"].startswith("ok at head")
    assert checks["redis"] == "ok not configured (in-process caches and rate limits)"
    assert checks["secret key"] == "ok set by MODELSNEST_SECRET_KEY"
    assert checks["simulator"].startswith("ok enabled")
    assert checks["smtp"].startswith("-- not configured")
    assert checks["payments"].startswith("-- not configured")


def test_doctor_reports_redis_and_provider_keys(cli: Invoke, redis_url: str) -> None:
    result = cli("doctor", env={"MODELSNEST_REDIS_URL": redis_url, "OPENAI_API_KEY": "sk-live-very-secret"})
    assert result.exit_code == 0, result.stdout
    checks = _lines(result.stdout)
    assert checks["redis"].startswith("ok reachable")
    assert "OPENAI_API_KEY set" in checks["provider keys"]
    assert "sk-live-very-secret" not in result.stdout


def test_doctor_fails_on_each_broken_part(cli: Invoke, tmp_path: Path) -> None:
    result = cli(
        "doctor",
        env={
            "MODELSNEST_DATABASE_URL": "postgresql://ops:hunter2@127.0.0.1:1/x",
            "MODELSNEST_REDIS_URL": "redis://:redispw@127.0.0.1:1/0",
            "MODELSNEST_SECRET_KEY": "short",
            "MODELSNEST_SIMULATOR": "false",
        },
    )
    assert result.exit_code == 1
    checks = _lines(result.stdout)
    for name in ("database", "migrations", "redis", "secret key", "provider keys"):
        assert checks[name].startswith("FAIL"), checks[name]
    assert checks["simulator"] == "ok disabled"
    assert "hunter2" not in result.stdout and "redispw" not in result.stdout
    assert result.stderr.strip() == "5 check(s) failed"


def test_doctor_on_an_unmigrated_database_and_generated_secret(cli: Invoke, tmp_path: Path) -> None:
    var = tmp_path / "var2"
    var.mkdir()
    (var / "secret_key").write_text("x" * 64)
    os.chmod(var / "secret_key", 0o644)
    result = cli(
        "doctor",
        env={
            "MODELSNEST_DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}",
            "MODELSNEST_SECRET_KEY": "",
            "MODELSNEST_VAR_DIR": str(var),
        },
    )
    assert result.exit_code == 1
    checks = _lines(result.stdout)
    assert checks["database"].startswith("ok")
    assert checks["migrations"].startswith("FAIL at nothing") and "modelsnest migrate" in checks["migrations"]
    assert checks["secret key"].startswith("FAIL") and "chmod 600" in checks["secret key"]
    os.chmod(var / "secret_key", 0o600)
    fixed = _lines(cli("doctor", env={"MODELSNEST_SECRET_KEY": "", "MODELSNEST_VAR_DIR": str(var)}).stdout)
    assert fixed["secret key"].startswith("ok generated")
    assert "x" * 64 not in str(fixed)


def test_doctor_wants_an_explicit_secret_in_production(cli: Invoke) -> None:
    result = cli("doctor", env={"MODELSNEST_SECRET_KEY": "", "MODELSNEST_ENVIRONMENT": "production"})
    assert result.exit_code == 1
    assert _lines(result.stdout)["secret key"].startswith("FAIL set MODELSNEST_SECRET_KEY in production")
