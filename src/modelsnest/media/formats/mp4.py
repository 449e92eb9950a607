"""MP4/M4A (ISO BMFF): duration of the audio track from its sample tables.

The ``mvhd``/``mdhd`` duration fields are single numbers a client can edit; the decoder
instead plays the samples listed in ``stts`` (sample count × delta), plus, in a fragmented
file, each fragment's ``trun``. We sum those and cross-check ``stts`` against ``stsz``.
For AAC (``mp4a``) every sample is a 1024-sample frame whatever ``stts`` says, so the
sample count also gives a floor (less two frames for priming and padding) that rewritten
deltas cannot go under.

An edit list may trim the encoder's priming samples at the start; we honour that trim up to
``MAX_PRIMING_SAMPLES`` (AAC uses 1024–2112), so an edited header cannot hide real audio.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

from modelsnest.media.formats.common import AudioInfo, tick, undecodable

MAX_PRIMING_SAMPLES = 4096
AAC_FRAME_SAMPLES = 1024


def is_mp4(data: bytes) -> bool:
    return len(data) >= 12 and data[4:8] == b"ftyp"


@dataclass(frozen=True, slots=True)
class Box:
    kind: bytes
    start: int  # body start
    end: int

    def u32(self, data: bytes, offset: int) -> int:
        if self.start + offset + 4 > self.end:
            raise undecodable("m4a", f"truncated {self.kind.decode('latin-1')} box")
        return int(struct.unpack_from(">I", data, self.start + offset)[0])


def _boxes(data: bytes, start: int, end: int) -> Iterator[Box]:
    pos = start
    while pos + 8 <= end:
        tick()
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            if pos + 16 > end:
                break
            size, header = struct.unpack_from(">Q", data, pos + 8)[0], 16
        elif size == 0:
            size = end - pos
        if size < header:
            raise undecodable("m4a", "malformed box size")
        yield Box(kind, pos + header, min(pos + size, end))
        pos += size


def _children(data: bytes, box: Box, kind: bytes) -> list[Box]:
    return [child for child in _boxes(data, box.start, box.end) if child.kind == kind]


def _child(data: bytes, box: Box, *path: bytes) -> Box | None:
    for kind in path:
        found = _children(data, box, kind)
        if not found:
            return None
        box = found[0]
    return box


@dataclass
class _Track:
    track_id: int
    timescale: int
    sample_rate: int
    channels: int
    codec: bytes
    ticks: int
    samples: int


def _audio_track(data: bytes, trak: Box) -> _Track | None:
    hdlr, mdhd = _child(data, trak, b"mdia", b"hdlr"), _child(data, trak, b"mdia", b"mdhd")
    tkhd, stbl = _child(data, trak, b"tkhd"), _child(data, trak, b"mdia", b"minf", b"stbl")
    if hdlr is None or data[hdlr.start + 8 : hdlr.start + 12] != b"soun":
        return None
    if mdhd is None or tkhd is None or stbl is None:
        raise undecodable("m4a", "incomplete audio track")
    timescale = mdhd.u32(data, 20 if data[mdhd.start] == 1 else 12)
    track_id = tkhd.u32(data, 20 if data[tkhd.start] == 1 else 12)
    channels, rate, codec = 0, 0, b""
    stsd = _child(data, stbl, b"stsd")
    if stsd is not None and stsd.start + 8 + 36 <= stsd.end:
        entry = stsd.start + 8
        codec = data[entry + 4 : entry + 8]
        channels = int.from_bytes(data[entry + 24 : entry + 26], "big")
        rate = int.from_bytes(data[entry + 32 : entry + 36], "big") >> 16
    if stsd is not None:
        channels = _esds_channels(data, stsd) or channels
    rate = rate or timescale
    ticks, samples = _sample_table(data, stbl)
    ticks -= _priming_ticks(data, trak, timescale, rate)
    return _Track(track_id, timescale, rate, channels, codec, ticks, samples)


def _priming_ticks(data: bytes, trak: Box, timescale: int, rate: int) -> int:
    """The start trim of the first non-empty edit, capped at MAX_PRIMING_SAMPLES."""
    elst = _child(data, trak, b"edts", b"elst")
    if elst is None or rate <= 0:
        return 0
    wide = data[elst.start] == 1
    entry_size, time_at, time_size = (20, 8, 8) if wide else (12, 4, 4)
    count = min(elst.u32(data, 4), (elst.end - elst.start - 8) // entry_size)
    for index in range(count):
        at = elst.start + 8 + index * entry_size + time_at
        media_time = int.from_bytes(data[at : at + time_size], "big", signed=True)
        if media_time >= 0:  # -1 marks an empty edit (a delay), not a trim
            return min(media_time, MAX_PRIMING_SAMPLES * timescale // rate)
    return 0


def _descriptor(data: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """(tag, payload start, payload end) of an MPEG-4 descriptor at ``pos``."""
    tag, size, pos = data[pos], 0, pos + 1
    for _ in range(4):
        byte = data[pos]
        size, pos = (size << 7) | (byte & 0x7F), pos + 1
        if not byte & 0x80:
            break
    return tag, pos, min(pos + size, end)


def _esds_channels(data: bytes, stsd: Box) -> int:
    """The channel configuration in an AAC AudioSpecificConfig, or 0 when there is none
    (the sample entry's own channel count is a fixed 2 in ISO files)."""
    entry = next(_boxes(data, stsd.start + 8, stsd.end), None)
    esds = (
        next((b for b in _boxes(data, entry.start + 28, entry.end) if b.kind == b"esds"), None)
        if entry
        else None
    )
    if esds is None:
        return 0
    tag, start, end = _descriptor(data, esds.start + 4, esds.end)
    if tag != 0x03:
        return 0
    flags, pos = data[start + 2], start + 3
    pos += 2 if flags & 0x80 else 0  # dependsOn_ES_ID
    pos += 1 + data[pos] if flags & 0x40 else 0  # URL
    pos += 2 if flags & 0x20 else 0  # OCR_ES_ID
    tag, start, end = _descriptor(data, pos, end)
    if tag != 0x04:
        return 0
    tag, start, end = _descriptor(data, start + 13, end)
    if tag != 0x05 or end - start < 2 or data[start] >> 3 == 31:  # 31: escaped object type
        return 0
    frequency_index = ((data[start] & 7) << 1) | (data[start + 1] >> 7)
    if frequency_index == 15:  # an explicit 24-bit rate comes before the channel configuration
        return (data[start + 4] >> 3) & 0x0F if end - start >= 5 else 0
    return (data[start + 1] >> 3) & 0x0F


def _sample_table(data: bytes, stbl: Box) -> tuple[int, int]:
    """(total ticks, sample count) of the time-to-sample table."""
    stts = _child(data, stbl, b"stts")
    if stts is None:
        return 0, 0
    count = stts.u32(data, 4)
    if stts.start + 8 + 8 * count > stts.end:
        raise undecodable("m4a", "truncated time-to-sample table")
    ticks = samples = 0
    for n, delta in struct.iter_unpack(">II", data[stts.start + 8 : stts.start + 8 + 8 * count]):
        ticks += n * delta
        samples += n
    stsz = _child(data, stbl, b"stsz")
    if stsz is not None and stsz.u32(data, 8) not in (0, samples):
        raise undecodable("m4a", "the sample tables disagree on the number of samples")
    return ticks, samples


def _trex_default(data: bytes, moov: Box, track_id: int) -> int:
    mvex = _child(data, moov, b"mvex")
    for trex in _children(data, mvex, b"trex") if mvex else []:
        if trex.u32(data, 4) == track_id:
            return trex.u32(data, 12)
    return 0


def _fragment(data: bytes, traf: Box, default: int) -> tuple[int, int]:
    """(total ticks, sample count) of one track fragment's runs."""
    tfhd = _child(data, traf, b"tfhd")
    if tfhd is None:
        return 0, 0
    flags = tfhd.u32(data, 0) & 0xFFFFFF
    offset = 8 + (8 if flags & 0x01 else 0) + (4 if flags & 0x02 else 0)
    if flags & 0x08:
        default = tfhd.u32(data, offset)
    ticks = samples = 0
    for trun in _children(data, traf, b"trun"):
        tflags, count = trun.u32(data, 0) & 0xFFFFFF, trun.u32(data, 4)
        samples += count
        pos = 8 + (4 if tflags & 0x01 else 0) + (4 if tflags & 0x04 else 0)
        if not tflags & 0x100:
            ticks += count * default
            continue
        stride = 4 * bin(tflags & 0xF00).count("1")
        first = trun.start + pos
        if first + stride * count > trun.end:
            raise undecodable("m4a", "truncated fragment run")
        # The duration is the first field of every per-sample record.
        record = struct.Struct(f">I{stride - 4}x")
        ticks += sum(value for (value,) in record.iter_unpack(data[first : first + stride * count]))
    return ticks, samples


def probe_mp4(data: bytes) -> AudioInfo:
    top = list(_boxes(data, 0, len(data)))
    moov = next((box for box in top if box.kind == b"moov"), None)
    if moov is None:
        raise undecodable("m4a", "no movie header (moov) box")
    track = next(
        (t for trak in _children(data, moov, b"trak") if (t := _audio_track(data, trak)) is not None), None
    )
    if track is None:
        raise undecodable("m4a", "no audio track")
    if track.timescale == 0:
        raise undecodable("m4a", "zero timescale")
    default = _trex_default(data, moov, track.track_id)
    for moof in (box for box in top if box.kind == b"moof"):
        for traf in _children(data, moof, b"traf"):
            tfhd = _child(data, traf, b"tfhd")
            if tfhd is not None and tfhd.u32(data, 4) == track.track_id:
                ticks, samples = _fragment(data, traf, default)
                track.ticks += ticks
                track.samples += samples
    duration = Fraction(track.ticks, track.timescale)
    if track.codec == b"mp4a" and track.sample_rate > 0:
        floor = Fraction(max(track.samples - 2, 0) * AAC_FRAME_SAMPLES, track.sample_rate)
        duration = max(duration, floor)
    return AudioInfo("m4a", duration, track.sample_rate, track.channels or None)
