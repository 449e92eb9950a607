"""A server worker freezes what start-up loaded and collects cycles less often."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from modelsnest.app import create_app
from modelsnest.gc_tuning import THRESHOLDS, tune_collector
from tests.conftest import make_settings


@pytest.fixture
def restored_collector() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_the_collector_still_runs_on_its_own_after_tuning(restored_collector: None) -> None:
    tune_collector()
    passes: list[int] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "stop":
            passes.append(info["generation"])

    gc.callbacks.append(count)
    try:
        alive = [[] for _ in range(THRESHOLDS[0] * 2)]  # young objects past the threshold
    finally:
        gc.callbacks.remove(count)
    assert gc.isenabled()
    assert passes, "no automatic collection ran after tuning"
    del alive


def test_the_application_tunes_the_collector_once_started(
    sqlite_url: str, tmp_path: Path, restored_collector: None
) -> None:
    gc.unfreeze()
    app = create_app(make_settings(sqlite_url, tmp_path, gc_tuning=True))
    with TestClient(app):
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == THRESHOLDS


def test_tests_leave_the_collector_alone(sqlite_url: str, tmp_path: Path) -> None:
    thresholds = gc.get_threshold()
    app = create_app(make_settings(sqlite_url, tmp_path))
    with TestClient(app):
        assert gc.get_threshold() == thresholds
