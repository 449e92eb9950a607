"""The installed ``modelsnest`` command, run for real in a child process."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.cli.conftest import TEST_SECRET_KEY


def _command() -> list[str]:
    script = Path(sys.executable).with_name("modelsnest")
    assert script.exists(), f"console script missing: {script} (is the package installed?)"
    return [str(script)]


def _env(database_url: str, tmp_path: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("MODELSNEST_") or k.startswith("MODELSNEST_TEST_")
    }
    env.update(
        MODELSNEST_DATABASE_URL=database_url,
        MODELSNEST_VAR_DIR=str(tmp_path / "var"),
        MODELSNEST_SECRET_KEY=TEST_SECRET_KEY,
        MODELSNEST_ENVIRONMENT="test",
        MODELSNEST_LOG_FORMAT="text",
        MODELSNEST_LOG_LEVEL="WARNING",
    )
    return env


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _command() + args,
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_help(sqlite_url: str, tmp_path: Path) -> None:
    result = _run(["--help"], _env(sqlite_url, tmp_path), tmp_path)
    assert result.returncode == 0, result.stderr
    for command in (
        "serve",
        "migrate",
        "seed",
        "users",
        "keys",
        "credits",
        "providers",
        "routes",
        "doctor",
        "demo",
    ):
        assert command in result.stdout


def test_keys_create_prints_the_token_last(database_url: str, tmp_path: Path) -> None:
    env = _env(database_url, tmp_path)
    assert _run(["users", "create", "ann@example.com"], env, tmp_path).returncode == 0
    result = _run(["keys", "create", "ann@example.com", "--name", "ci"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"ptr_[A-Za-z0-9_-]{43}", result.stdout.splitlines()[-1])
    failed = _run(["keys", "create", "ghost@example.com"], env, tmp_path)
    assert failed.returncode == 1 and failed.stdout == ""
    assert failed.stderr.count("\n") == 1 and failed.stderr.startswith("error: no user")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_serve_answers_health_checks(sqlite_url: str, tmp_path: Path) -> None:
    port = _free_port()
    process = subprocess.Popen(
        [*_command(), "serve", "--port", str(port)],
        env=_env(sqlite_url, tmp_path),
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.communicate()[1]
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "server did not become ready"
            time.sleep(0.1)
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).json() == {"status": "ok"}
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    # Uvicorn shuts down gracefully, then re-raises the signal it caught.
    assert process.returncode in (0, -signal.SIGTERM), stderr
    assert "Traceback" not in stderr
    assert f"serving on http://127.0.0.1:{port}" in stderr
