"""WebM/Matroska: duration of the audio track from its blocks.

The Segment ``Info/Duration`` float (× ``TimecodeScale``) is optional metadata: browsers'
MediaRecorder omits it, and a client can write any value. Every block, though, carries its
own timestamp (Cluster timestamp + the block's relative one), so the audio lasts from its
first block to the end of its last: the last block's ``BlockDuration``, else the track's
``DefaultDuration``, else (Opus) its TOC byte, else the usual gap between blocks.

For Opus (what browsers record) we also add up every packet's own duration from its TOC
byte, and bill the larger of the two, so rewritten timestamps cannot hide audio a decoder
would still play. Other codecs (Vorbis) are measured by timestamps only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from statistics import median

from modelsnest.media.formats.common import SCAN_LIMIT_SECONDS, AudioInfo, undecodable
from modelsnest.media.formats.ebml import (
    EBMLError,
    Element,
    children,
    read_element,
    read_float,
    read_uint,
    read_vint,
)
from modelsnest.media.formats.ogg import opus_packet_samples

EBML_MAGIC = b"\x1a\x45\xdf\xa3"
_EBML, _DOCTYPE, _SEGMENT = 0x1A45DFA3, 0x4282, 0x18538067
_INFO, _TIMECODE_SCALE = 0x1549A966, 0x2AD7B1
_TRACKS, _TRACK_ENTRY, _TRACK_NUMBER, _TRACK_TYPE, _CODEC_ID = 0x1654AE6B, 0xAE, 0xD7, 0x83, 0x86
_AUDIO, _SAMPLING_FREQUENCY, _CHANNELS, _DEFAULT_DURATION = 0xE1, 0xB5, 0x9F, 0x23E383
_CODEC_DELAY, _DISCARD_PADDING = 0x56AA, 0x75A2
_CLUSTER, _TIMECODE, _SIMPLE_BLOCK, _BLOCK_GROUP, _BLOCK, _BLOCK_DURATION = (
    0x1F43B675,
    0xE7,
    0xA3,
    0xA0,
    0xA1,
    0x9B,
)
_LEVEL1 = {_CLUSTER, _INFO, _TRACKS, 0x1C53BB6B, 0x1254C367, 0x1043A770, 0x1941A469, 0x114D9B74, _EBML}
# Times are kept as integers in thirds of a nanosecond, which also holds Opus sample counts
# (1 sample at 48 kHz = 62 500 units) exactly; Fractions per block would be far too slow.
_UNITS_PER_NS = 3
_UNITS_PER_SECOND = 3 * 1_000_000_000
_UNITS_PER_OPUS_SAMPLE = 62_500


def is_webm(data: bytes) -> bool:
    return data.startswith(EBML_MAGIC)


@dataclass
class _AudioTrack:
    number: int
    codec: str
    sample_rate: int | None
    channels: int | None
    default_duration_ns: int | None
    codec_delay_ns: int


@dataclass
class _Blocks:
    starts: list[int] = field(default_factory=list)
    ends: list[int | None] = field(default_factory=list)
    opus_samples: int = 0
    discarded: int = 0


@dataclass
class _Reader:
    data: bytes
    scale: int = 1_000_000  # ns per timestamp tick
    track: _AudioTrack | None = None
    blocks: _Blocks = field(default_factory=_Blocks)

    def segment(self, segment: Element) -> None:
        end = len(self.data) if segment.size is None else min(segment.end, len(self.data))
        pos = segment.start
        while pos < end:
            try:
                element = read_element(self.data, pos)
            except EBMLError:
                break  # trailing garbage or a cut-off header: keep what we have
            if element.id == _CLUSTER:
                pos = self.cluster(element, end)
                continue
            if element.size is None:
                raise undecodable("webm", "unsupported unknown-size element")
            if element.end > end:
                break  # truncated upload
            if element.id == _INFO:
                self.info(element)
            elif element.id == _TRACKS:
                self.tracks(element)
            pos = element.end

    def info(self, info: Element) -> None:
        for child in children(self.data, info):
            if child.id == _TIMECODE_SCALE:
                self.scale = read_uint(self.data, child)
        if self.scale <= 0:
            raise undecodable("webm", "invalid timestamp scale")

    def tracks(self, tracks: Element) -> None:
        for entry in children(self.data, tracks):
            if entry.id != _TRACK_ENTRY or self.track is not None:
                continue
            fields = {child.id: child for child in children(self.data, entry)}
            if _TRACK_TYPE not in fields or read_uint(self.data, fields[_TRACK_TYPE]) != 2:
                continue
            audio = {c.id: c for c in children(self.data, fields[_AUDIO])} if _AUDIO in fields else {}
            rate = read_float(self.data, audio[_SAMPLING_FREQUENCY]) if _SAMPLING_FREQUENCY in audio else None
            self.track = _AudioTrack(
                number=read_uint(self.data, fields[_TRACK_NUMBER]),
                codec=self.data[fields[_CODEC_ID].start : fields[_CODEC_ID].end].decode("ascii", "replace")
                if _CODEC_ID in fields
                else "",
                sample_rate=round(rate) if rate else None,
                channels=read_uint(self.data, audio[_CHANNELS]) if _CHANNELS in audio else 1,
                default_duration_ns=self._opt_uint(fields, _DEFAULT_DURATION),
                codec_delay_ns=self._opt_uint(fields, _CODEC_DELAY) or 0,
            )

    def _opt_uint(self, fields: dict[int, Element], element_id: int) -> int | None:
        return read_uint(self.data, fields[element_id]) if element_id in fields else None

    def cluster(self, cluster: Element, parent_end: int) -> int:
        """Read one cluster's blocks; returns where the next sibling starts."""
        end = parent_end if cluster.size is None else min(cluster.end, parent_end)
        pos, base = cluster.start, 0
        while pos < end:
            try:
                child = read_element(self.data, pos)
            except EBMLError:
                return end
            if cluster.size is None and child.id in _LEVEL1:
                return pos  # an unknown-size cluster ends where the next top-level element begins
            if child.size is None or child.end > end:
                return end  # truncated: the blocks read so far still count
            if child.id == _TIMECODE:
                base = read_uint(self.data, child)
                opus_seconds = self.blocks.opus_samples // 48000
                if (
                    base * self.scale > SCAN_LIMIT_SECONDS * 1_000_000_000
                    or opus_seconds > SCAN_LIMIT_SECONDS
                ):
                    self.blocks.starts.append(base * self.scale * _UNITS_PER_NS)
                    self.blocks.ends.append(None)
                    return len(self.data)  # already past the limit: stop reading
            elif child.id == _SIMPLE_BLOCK:
                self.block(child, base, None)
            elif child.id == _BLOCK_GROUP:
                group = {c.id: c for c in children(self.data, child)}
                if _BLOCK in group:
                    self.block_group(group, base)
            pos = child.end
        return end

    def block_group(self, group: dict[int, Element], base: int) -> None:
        duration = read_uint(self.data, group[_BLOCK_DURATION]) if _BLOCK_DURATION in group else None
        discard = 0
        if _DISCARD_PADDING in group:  # Opus end trimming, in ns; at most the block itself
            element = group[_DISCARD_PADDING]
            discard = max(0, int.from_bytes(self.data[element.start : element.end], "big", signed=True))
        self.block(group[_BLOCK], base, duration, discard)

    def block(self, block: Element, base: int, duration_ticks: int | None, discard_ns: int = 0) -> None:
        if self.track is None:
            raise undecodable("webm", "blocks before the track list")
        number, length, _ = read_vint(self.data, block.start)
        if number != self.track.number:
            return
        header = block.start + length
        relative = int.from_bytes(self.data[header : header + 2], "big", signed=True)
        flags = self.data[header + 2]
        start = (base + relative) * self.scale * _UNITS_PER_NS
        self.blocks.starts.append(start)
        opus_samples = 0
        if self.track.codec == "A_OPUS":
            opus_samples = self._opus_block_samples(flags, header + 3)
            self.blocks.opus_samples += opus_samples
        end = self._block_end(start, duration_ticks, flags, header + 3, opus_samples)
        if end is not None and discard_ns:
            self.blocks.discarded += min(end - start, discard_ns * _UNITS_PER_NS)
            end = max(start, end - discard_ns * _UNITS_PER_NS)
        self.blocks.ends.append(end)

    def _block_end(self, start: int, ticks: int | None, flags: int, payload: int, opus: int) -> int | None:
        track = self.track
        assert track is not None  # block() checked
        frames = self.data[payload] + 1 if flags & 0x06 else 1
        if ticks is not None:
            return start + ticks * self.scale * _UNITS_PER_NS
        if track.default_duration_ns:
            return start + frames * track.default_duration_ns * _UNITS_PER_NS
        return start + opus * _UNITS_PER_OPUS_SAMPLE if opus else None

    def _opus_block_samples(self, flags: int, payload: int) -> int:
        """Samples in a block's Opus packet(s); laced packets are taken to be alike."""
        lacing = flags & 0x06
        if not lacing:
            return opus_packet_samples(self.data[payload : payload + 2])
        frames, pos = self.data[payload] + 1, payload + 1
        if lacing == 0x02:  # Xiph lacing: each of the first n-1 sizes as a run of 255s
            for _ in range(frames - 1):
                while self.data[pos] == 255:
                    pos += 1
                pos += 1
        elif lacing == 0x06:  # EBML lacing: a size, then n-2 signed differences
            for _ in range(frames - 1):
                pos += read_vint(self.data, pos)[1]
        return frames * opus_packet_samples(self.data[pos : pos + 2])

    def duration(self) -> Fraction:
        starts, ends = self.blocks.starts, self.blocks.ends
        if self.track is None:
            raise undecodable("webm", "no audio track")
        if not starts:
            raise undecodable("webm", "no audio blocks")
        gaps = [b - a for a, b in zip(starts, starts[1:], strict=False) if b > a]
        typical = int(median(gaps)) if gaps else 0
        end = max(s + typical if e is None else e for s, e in zip(starts, ends, strict=True))
        span = end - min(starts)
        if self.track.codec == "A_OPUS":
            span = max(span, self.blocks.opus_samples * _UNITS_PER_OPUS_SAMPLE - self.blocks.discarded)
        return Fraction(span - self.track.codec_delay_ns * _UNITS_PER_NS, _UNITS_PER_SECOND)


def probe_webm(data: bytes) -> AudioInfo:
    try:
        header = read_element(data, 0)
        doctype = next((c for c in children(data, header) if c.id == _DOCTYPE), None)
        kind = data[doctype.start : doctype.end].rstrip(b"\0") if doctype else b"matroska"
        if kind not in (b"webm", b"matroska"):
            raise undecodable("webm", f"unsupported EBML document type {kind!r}")
        segment = read_element(data, header.end)
        if segment.id != _SEGMENT:
            raise undecodable("webm", "no Segment element")
        reader = _Reader(data)
        reader.segment(segment)
    except EBMLError as exc:
        raise undecodable("webm", str(exc)) from exc
    duration = reader.duration()
    track = reader.track
    assert track is not None  # duration() raises without one
    return AudioInfo("webm", duration, track.sample_rate, track.channels)
