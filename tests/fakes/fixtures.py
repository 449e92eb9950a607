"""pytest fixtures for the fake upstreams. Import the ones you need into a ``conftest.py``::

    from tests.fakes.fixtures import anthropic_upstream, openai_upstream  # noqa: F401

(a thread-served fixture needs its private session fixture imported too, e.g.
``_openai_upstream_server``.)

* ``openai_upstream`` / ``anthropic_upstream`` / ``elevenlabs_upstream`` / ``novita_upstream``:
  a fake served from a background thread (one server per test session, reset before every
  test: default behaviour, no records, no hosted files, no tasks). Works from sync and async
  tests, and for a gateway running as a subprocess (use ``.base_url``).
* ``<kind>_upstream_in_loop``: a fresh fake served by the test's own event loop (async tests
  only).
* ``fake_upstream_process``: a factory starting ``python -m tests.fakes.<kind>_upstream``
  (kind: openai, anthropic, elevenlabs, novita) as a subprocess; returns
  ``(base_url, FakeControl)``; processes are stopped at teardown.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from tests.fakes.anthropic_upstream import FakeAnthropicUpstream
from tests.fakes.elevenlabs_upstream import FakeElevenLabsUpstream
from tests.fakes.novita_upstream import FakeNovitaUpstream
from tests.fakes.openai_upstream import FakeOpenAIUpstream
from tests.fakes.server import FakeControl

__all__ = [
    "_anthropic_upstream_server",
    "_elevenlabs_upstream_server",
    "_novita_upstream_server",
    "_openai_upstream_server",
    "anthropic_upstream",
    "anthropic_upstream_in_loop",
    "elevenlabs_upstream",
    "elevenlabs_upstream_in_loop",
    "fake_upstream_process",
    "novita_upstream",
    "novita_upstream_in_loop",
    "openai_upstream",
    "openai_upstream_in_loop",
]

_ROOT = Path(__file__).resolve().parents[2]
_PREFIX = {"openai": "/v1", "anthropic": "", "elevenlabs": "", "novita": "/v3/openai"}


@pytest.fixture(scope="session")
def _openai_upstream_server() -> Iterator[FakeOpenAIUpstream]:
    with FakeOpenAIUpstream() as fake:
        yield fake


@pytest.fixture(scope="session")
def _anthropic_upstream_server() -> Iterator[FakeAnthropicUpstream]:
    with FakeAnthropicUpstream() as fake:
        yield fake


@pytest.fixture(scope="session")
def _elevenlabs_upstream_server() -> Iterator[FakeElevenLabsUpstream]:
    with FakeElevenLabsUpstream() as fake:
        yield fake


@pytest.fixture(scope="session")
def _novita_upstream_server() -> Iterator[FakeNovitaUpstream]:
    with FakeNovitaUpstream() as fake:
        yield fake


@pytest.fixture
def openai_upstream(_openai_upstream_server: FakeOpenAIUpstream) -> FakeOpenAIUpstream:
    _openai_upstream_server.reset()
    return _openai_upstream_server


@pytest.fixture
def anthropic_upstream(_anthropic_upstream_server: FakeAnthropicUpstream) -> FakeAnthropicUpstream:
    _anthropic_upstream_server.reset()
    return _anthropic_upstream_server


@pytest.fixture
def elevenlabs_upstream(_elevenlabs_upstream_server: FakeElevenLabsUpstream) -> FakeElevenLabsUpstream:
    _elevenlabs_upstream_server.reset()
    return _elevenlabs_upstream_server


@pytest.fixture
def novita_upstream(_novita_upstream_server: FakeNovitaUpstream) -> FakeNovitaUpstream:
    _novita_upstream_server.reset()
    return _novita_upstream_server


@pytest.fixture
async def openai_upstream_in_loop() -> AsyncIterator[FakeOpenAIUpstream]:
    async with FakeOpenAIUpstream() as fake:
        yield fake


@pytest.fixture
async def anthropic_upstream_in_loop() -> AsyncIterator[FakeAnthropicUpstream]:
    async with FakeAnthropicUpstream() as fake:
        yield fake


@pytest.fixture
async def elevenlabs_upstream_in_loop() -> AsyncIterator[FakeElevenLabsUpstream]:
    async with FakeElevenLabsUpstream() as fake:
        yield fake


@pytest.fixture
async def novita_upstream_in_loop() -> AsyncIterator[FakeNovitaUpstream]:
    async with FakeNovitaUpstream() as fake:
        yield fake


@pytest.fixture
def fake_upstream_process() -> Iterator[Callable[[str], tuple[str, FakeControl]]]:
    processes: list[subprocess.Popen[str]] = []

    def start(kind: str) -> tuple[str, FakeControl]:
        env = {**os.environ, "PYTHONPATH": str(_ROOT)}
        process = subprocess.Popen(
            [sys.executable, "-m", f"tests.fakes.{kind}_upstream", "--port", "0"],
            cwd=_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        processes.append(process)
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        if not line.startswith("listening on "):
            raise RuntimeError(f"fake {kind} upstream did not start: {line!r}")
        base_url = line.removeprefix("listening on ")
        root = base_url.removesuffix(_PREFIX[kind]) if _PREFIX[kind] else base_url
        return base_url, FakeControl(root)

    yield start
    for process in processes:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
