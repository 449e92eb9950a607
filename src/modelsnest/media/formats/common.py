"""What every parser shares: the result type and small byte helpers."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from modelsnest.media.errors import AudioDecodeError

MAX_AUDIO_SECONDS = 4 * 3600
# Parsers stop reading once they have proven this much audio: the file is refused anyway,
# and a 25 MB file of tiny frames must not cost seconds of CPU to refuse.
SCAN_LIMIT_SECONDS = MAX_AUDIO_SECONDS + 1


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


def undecodable(fmt: str, detail: str) -> AudioDecodeError:
    return AudioDecodeError(f"The uploaded {fmt} file could not be decoded: {detail}.")


def id3v2_end(data: bytes, offset: int = 0) -> int:
    """Offset just past any ID3v2 tags starting at ``offset`` (``offset`` itself if none)."""
    pos = offset
    while data[pos : pos + 3] == b"ID3" and len(data) >= pos + 10:
        flags = data[pos + 5]
        size_bytes = data[pos + 6 : pos + 10]
        if any(b & 0x80 for b in size_bytes):
            raise undecodable("mp3", "malformed ID3 tag")
        size = (size_bytes[0] << 21) | (size_bytes[1] << 14) | (size_bytes[2] << 7) | size_bytes[3]
        pos += 10 + size + (10 if flags & 0x10 else 0)  # 0x10: a footer follows
    return pos
