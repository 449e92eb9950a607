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


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_tuning_freezes_the_heap_and_raises_the_thresholds(restored_collector: None) -> None:
    before = gc.get_freeze_count()
    tune_collector()
    assert gc.get_freeze_count() > before
    assert gc.get_threshold() == THRESHOLDS


def test_cycles_made_after_tuning_are_still_collected(restored_collector: None) -> None:
    tune_collector()
    cycle = _Cycle()
    alive = len([o for o in gc.get_objects() if isinstance(o, _Cycle)])
    del cycle
    gc.collect()
    assert len([o for o in gc.get_objects() if isinstance(o, _Cycle)]) == alive - 1


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
