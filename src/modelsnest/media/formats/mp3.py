"""MPEG audio (MP3, and layers I/II): duration from the frames actually in the file.

mutagen and most players take the frame count of a Xing/VBRI header (a client-written number)
or, without one, extrapolate from the first frame's bitrate, which is wrong for VBR. We walk
the frame chain instead: every frame header gives its own length, so counting is cheap
(~40 frames per second of audio) and exact. An encoder's Xing/Info/VBRI frame is skipped and
its LAME gapless delay/padding (at most ~0.2 s) is subtracted.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from modelsnest.media.formats.common import SCAN_LIMIT_SECONDS, AudioInfo, id3v2_end, tick, undecodable

_BITRATES = {  # kbit/s for bitrate index 1..14, by (MPEG-1?, layer)
    (True, 1): (32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 3): (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 1): (32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    (False, 3): (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}
_TRAILING_TAGS = (b"TAG", b"APETAGEX", b"LYRICSBEGIN")
_MAX_RESYNC = 64 * 1024  # how far we look for the next frame past junk in the stream


@dataclass(frozen=True, slots=True)
class Frame:
    version: int  # 3 = MPEG-1, 2 = MPEG-2, 0 = MPEG-2.5
    layer: int
    sample_rate: int
    channels: int
    length: int
    samples: int

    def same_stream(self, other: Frame) -> bool:
        return (self.version, self.layer, self.sample_rate) == (other.version, other.layer, other.sample_rate)


def parse_header(data: bytes, pos: int) -> Frame | None:
    """The frame header at ``pos``, or None when those 4 bytes are not a valid one."""
    if pos + 4 > len(data) or data[pos] != 0xFF or data[pos + 1] & 0xE0 != 0xE0:
        return None
    b1, b2, b3 = data[pos + 1], data[pos + 2], data[pos + 3]
    version, layer_bits = (b1 >> 3) & 3, (b1 >> 1) & 3
    bitrate_index, rate_index = b2 >> 4, (b2 >> 2) & 3
    if version == 1 or layer_bits == 0 or bitrate_index in (0, 15) or rate_index == 3:
        return None  # reserved values, or free-format bitrate (unsupported, vanishingly rare)
    layer = 4 - layer_bits
    mpeg1 = version == 3
    bitrate = _BITRATES[(mpeg1, layer)][bitrate_index - 1] * 1000
    rate = _RATES[version][rate_index]
    padding = (b2 >> 1) & 1
    if layer == 1:
        length, samples = (12 * bitrate // rate + padding) * 4, 384
    elif layer == 2 or mpeg1:
        length, samples = 144 * bitrate // rate + padding, 1152
    else:
        length, samples = 72 * bitrate // rate + padding, 576
    channels = 1 if b3 >> 6 == 3 else 2
    return Frame(version, layer, rate, channels, length, samples)


def starts_stream(data: bytes, pos: int) -> bool:
    """A frame at ``pos`` followed by another of the same stream (or the end of the file)."""
    first = parse_header(data, pos)
    if first is None:
        return False
    after = pos + first.length
    if after >= len(data) or data[after : after + 3] in (b"TAG", b"APE", b"LYR"):
        return after <= len(data)
    second = parse_header(data, after)
    return second is not None and second.same_stream(first)


def looks_like_mp3(data: bytes) -> bool:
    start = id3v2_end(data)
    return starts_stream(data, _skip_zeros(data, start))


def _skip_zeros(data: bytes, pos: int) -> int:
    return len(data) - len(data[pos:].lstrip(b"\0"))


def _resync(data: bytes, pos: int, stream: Frame) -> int | None:
    limit = min(len(data), pos + _MAX_RESYNC)
    while True:
        tick()
        pos = data.find(b"\xff", pos, limit)
        if pos < 0:
            return None
        frame = parse_header(data, pos)
        if frame is not None and frame.same_stream(stream) and starts_stream(data, pos):
            return pos
        pos += 1


def _gapless_trim(data: bytes, pos: int, frame: Frame) -> int | None:
    """Encoder delay + padding in samples if the frame at ``pos`` is a Xing/Info/VBRI header
    frame (which holds no audio), else None."""
    side_info = (
        (32 if frame.channels == 2 else 17) if frame.version == 3 else (17 if frame.channels == 2 else 9)
    )
    tag_at = pos + 4 + side_info
    tag = data[tag_at : tag_at + 4]
    if data[pos + 36 : pos + 40] == b"VBRI":
        return 0
    if tag not in (b"Xing", b"Info"):
        return None
    flags = int.from_bytes(data[tag_at + 4 : tag_at + 8], "big")
    lame_at = tag_at + 8 + (4 if flags & 1 else 0) + (4 if flags & 2 else 0)
    lame_at += (100 if flags & 4 else 0) + (4 if flags & 8 else 0)
    if data[lame_at : lame_at + 4] not in (b"LAME", b"Lavc", b"Lavf", b"L3.9"):
        return 0
    raw = data[lame_at + 21 : lame_at + 24]
    if len(raw) < 3:
        return 0
    delay, padding = (raw[0] << 4) | (raw[1] >> 4), ((raw[1] & 0x0F) << 8) | raw[2]
    return delay + padding


def probe_mp3(data: bytes) -> AudioInfo:
    pos = _skip_zeros(data, id3v2_end(data))
    first = parse_header(data, pos)
    if first is None or not starts_stream(data, pos):
        raise undecodable("mp3", "no MPEG audio frames found")
    trim = _gapless_trim(data, pos, first)
    if trim is not None:
        pos += first.length
    samples, frames, end = 0, 0, len(data)
    limit = SCAN_LIMIT_SECONDS * first.sample_rate
    while pos < end and samples <= limit:
        tick()
        frame = parse_header(data, pos)
        if frame is None or not frame.same_stream(first):
            if any(data.startswith(t, pos) for t in _TRAILING_TAGS):
                break
            nxt = _resync(data, pos + 1, first)
            if nxt is None:
                break
            pos = nxt
            continue
        if pos + frame.length > end:
            break  # a truncated last frame decodes to (almost) nothing
        samples += frame.samples
        frames += 1
        pos += frame.length
    if frames == 0:
        raise undecodable("mp3", "no complete MPEG audio frames")
    samples = max(samples - (trim or 0), 0)
    return AudioInfo("mp3", Fraction(samples, first.sample_rate), first.sample_rate, first.channels)
