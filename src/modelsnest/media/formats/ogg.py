"""Ogg (Vorbis, Opus): duration from the pages' granule positions.

We walk every page (27-byte header + lacing table), follow the first logical stream, and take
its highest granule position rather than just the last page's. For Opus we also add up each
packet's own duration from its TOC byte, so a stream whose granules were rewritten to
understate it is measured by the packets it really holds.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction

from modelsnest.media.formats.common import SCAN_LIMIT_SECONDS, AudioInfo, tick, undecodable

_PAGE = struct.Struct("<4sBBqIIIB")
_OPUS_RATE = 48000
_OPUS_MAX_PACKET = 5760  # 120 ms at 48 kHz: how far end trimming may legitimately cut


def is_ogg(data: bytes) -> bool:
    return data.startswith(b"OggS")


@dataclass
class _Page:
    serial: int
    granule: int
    continued: bool
    packet_starts: list[bytes] = field(default_factory=list)  # first bytes of packets begun here


def _pages(data: bytes) -> Iterator[_Page]:
    pos = 0
    while pos + _PAGE.size <= len(data):
        tick()
        magic, version, flags, granule, serial, _seq, _crc, nsegs = _PAGE.unpack_from(data, pos)
        if magic != b"OggS" or version != 0:
            raise undecodable("ogg", f"bad page at byte {pos}")
        lacing = data[pos + _PAGE.size : pos + _PAGE.size + nsegs]
        body = pos + _PAGE.size + nsegs
        if len(lacing) < nsegs or body + sum(lacing) > len(data):
            return  # a truncated last page: what came before still counts
        page = _Page(serial, granule, bool(flags & 1))
        offset, at_packet_start = body, not page.continued
        for lace in lacing:
            if at_packet_start:
                page.packet_starts.append(data[offset : offset + 2])
            offset += lace
            at_packet_start = lace < 255
        yield page
        pos = body + sum(lacing)


def opus_packet_samples(start: bytes) -> int:
    if not start:
        return 0
    toc = start[0]
    config, code = toc >> 3, toc & 3
    if config < 12:
        frame = (480, 960, 1920, 2880)[config % 4]
    elif config < 16:
        frame = (480, 960)[config % 2]
    else:
        frame = (120, 240, 480, 960)[config % 4]
    if code == 0:
        count = 1
    elif code in (1, 2):
        count = 2
    else:
        count = start[1] & 0x3F if len(start) > 1 else 0
    return frame * count


@dataclass(frozen=True, slots=True)
class _Codec:
    name: str
    rate: int
    channels: int
    pre_skip: int = 0


def _codec(full: bytes) -> _Codec:
    if full.startswith(b"OpusHead") and len(full) >= 19:
        channels, pre_skip = full[9], struct.unpack_from("<H", full, 10)[0]
        return _Codec("opus", _OPUS_RATE, channels, pre_skip)
    if full.startswith(b"\x01vorbis") and len(full) >= 16:
        return _Codec("vorbis", struct.unpack_from("<I", full, 12)[0], full[11])
    raise undecodable("ogg", "unsupported codec in the Ogg stream (Vorbis and Opus are supported)")


def probe_ogg(data: bytes) -> AudioInfo:
    # The identification header is the first packet of the first page (its own page by spec).
    first_body = _PAGE.size + (data[_PAGE.size - 1] if len(data) >= _PAGE.size else 0)
    codec = _codec(data[first_body : first_body + 64])
    if codec.rate <= 0 or codec.channels <= 0:
        raise undecodable("ogg", "invalid sample rate or channel count")
    serial: int | None = None
    max_granule, opus_samples, packets = 0, 0, 0
    for page in _pages(data):
        serial = page.serial if serial is None else serial
        if page.serial != serial:
            continue
        max_granule = max(max_granule, page.granule)  # -1 (no packet ends here) never wins
        for start in page.packet_starts:
            packets += 1
            if codec.name == "opus" and packets > 2:  # skip OpusHead and OpusTags
                opus_samples += opus_packet_samples(start)
        if max(max_granule, opus_samples) > SCAN_LIMIT_SECONDS * codec.rate:
            break
    samples = max_granule - codec.pre_skip
    if codec.name == "opus":
        from_packets = opus_samples - codec.pre_skip
        if not from_packets - _OPUS_MAX_PACKET <= samples <= from_packets:
            samples = from_packets
    if serial is None or samples <= 0:
        raise undecodable("ogg", "no audio in the Ogg stream")
    return AudioInfo("ogg", Fraction(samples, codec.rate), codec.rate, codec.channels)
