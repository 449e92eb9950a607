"""What every parser shares: the result type and small byte helpers."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction

from modelsnest.media.errors import AudioDecodeError

MAX_AUDIO_SECONDS = 4 * 3600
# Parsers stop reading once they have proven this much audio: the file is refused anyway,
# and a 25 MB file of tiny frames must not cost seconds of CPU to refuse.
SCAN_LIMIT_SECONDS = MAX_AUDIO_SECONDS + 1
# CPU seconds one probe may spend. An honest 25 MB file takes well under one; a file crafted
# from millions of tiny elements is refused instead of holding a worker (and the GIL).
CPU_BUDGET_SECONDS = 5.0
_TICKS_PER_CHECK = 1024
_budget = threading.local()


@dataclass(frozen=True, slots=True)
class AudioInfo:
    """Server-measured facts about an uploaded audio file."""

    format: str  # wav | mp3 | m4a | ogg | flac | webm
    duration: Fraction  # exact seconds
    sample_rate: int | None
    channels: int | None

    @property
    def seconds(self) -> float:
        return float(self.duration)


@contextmanager
def cpu_budget(seconds: float | None = None) -> Iterator[None]:
    """Bound the CPU time of the parsers' loops (which call ``tick``) in this thread."""
    limit = CPU_BUDGET_SECONDS if seconds is None else seconds
    _budget.deadline, _budget.ticks = time.thread_time() + limit, 0
    try:
        yield
    finally:
        _budget.deadline = None


def tick() -> None:
    """Called once per loop iteration in every parser; cheap except every 1024th call."""
    ticks = getattr(_budget, "ticks", 0) + 1
    _budget.ticks = ticks
    if ticks % _TICKS_PER_CHECK == 0:
        deadline = getattr(_budget, "deadline", None)
        if deadline is not None and time.thread_time() > deadline:
            raise AudioDecodeError("The uploaded file is too complex to analyse.")


def undecodable(fmt: str, detail: str) -> AudioDecodeError:
    return AudioDecodeError(f"The uploaded {fmt} file could not be decoded: {detail}.")


def id3v2_end(data: bytes, offset: int = 0) -> int:
    """Offset just past any ID3v2 tags starting at ``offset`` (``offset`` itself if none)."""
    pos = offset
    while data[pos : pos + 3] == b"ID3" and len(data) >= pos + 10:
        tick()
        flags = data[pos + 5]
        size_bytes = data[pos + 6 : pos + 10]
        if any(b & 0x80 for b in size_bytes):
            raise undecodable("mp3", "malformed ID3 tag")
        size = (size_bytes[0] << 21) | (size_bytes[1] << 14) | (size_bytes[2] << 7) | size_bytes[3]
        pos += 10 + size + (10 if flags & 0x10 else 0)  # 0x10: a footer follows
    return pos
