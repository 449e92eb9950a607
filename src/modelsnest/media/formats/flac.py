"""FLAC: duration from the chain of frame headers, not STREAMINFO's total-samples field.

Frame headers carry their own position (frame or sample number), block size and a CRC-8, so
we find every header by its sync code, keep only CRC-valid ones that continue the chain
exactly where the previous one ended, and the last one tells where the audio ends. A
random sync-plus-valid-CRC inside compressed data would also need the exact next position
to be accepted, so false matches do not survive.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from fractions import Fraction

from modelsnest.media.formats.common import SCAN_LIMIT_SECONDS, AudioInfo, id3v2_end, tick, undecodable

_SYNC = re.compile(rb"\xff[\xf8\xf9]")
_RATE_CODES = {1: 88200, 2: 176400, 3: 192000, 4: 8000, 5: 16000, 6: 22050, 7: 24000}
_RATE_CODES.update({8: 32000, 9: 44100, 10: 48000, 11: 96000})
_BITS_CODES = {1: 8, 2: 12, 4: 16, 5: 20, 6: 24, 7: 32}


def _crc8_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
        table.append(crc)
    return tuple(table)


_CRC8 = _crc8_table()


def _crc8(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc = _CRC8[crc ^ byte]
    return crc


@dataclass(frozen=True, slots=True)
class StreamInfo:
    min_block: int
    max_block: int
    sample_rate: int
    channels: int
    bits: int


@dataclass(frozen=True, slots=True)
class FrameHeader:
    variable: bool  # variable blocking: ``number`` is a sample number, else a frame number
    number: int
    block_size: int


def is_flac(data: bytes) -> bool:
    start = id3v2_end(data) if data.startswith(b"ID3") else 0
    return data[start : start + 4] == b"fLaC"


def _metadata(data: bytes) -> tuple[StreamInfo, int]:
    pos = id3v2_end(data) + 4
    info: StreamInfo | None = None
    while True:
        tick()
        if pos + 4 > len(data):
            raise undecodable("flac", "truncated metadata")
        header = data[pos]
        length = int.from_bytes(data[pos + 1 : pos + 4], "big")
        if header & 0x7F == 0 and length >= 18:
            min_block, max_block = struct.unpack_from(">HH", data, pos + 4)
            packed = int.from_bytes(data[pos + 14 : pos + 22], "big")
            rate, channels, bits = packed >> 44, ((packed >> 41) & 7) + 1, ((packed >> 36) & 31) + 1
            info = StreamInfo(min_block, max_block, rate, channels, bits)
        pos += 4 + length
        if header & 0x80:
            break
    if info is None or info.sample_rate == 0:
        raise undecodable("flac", "missing or invalid STREAMINFO")
    return info, pos


def _utf8_number(data: bytes, pos: int) -> tuple[int, int] | None:
    first = data[pos]
    if first < 0x80:
        return first, pos + 1
    extra = next((n for n in range(1, 7) if first & (0x80 >> (n + 1)) == 0), None)
    if extra is None or first & 0x40 == 0:
        return None
    value = first & (0x3F >> extra)
    for byte in data[pos + 1 : pos + 1 + extra]:
        if byte & 0xC0 != 0x80:
            return None
        value = (value << 6) | (byte & 0x3F)
    return value, pos + 1 + extra


def parse_frame_header(data: bytes, pos: int, info: StreamInfo) -> FrameHeader | None:
    if pos + 6 > len(data):
        return None
    b2, b3 = data[pos + 2], data[pos + 3]
    size_code, rate_code, channel_code, bits_code = b2 >> 4, b2 & 15, b3 >> 4, (b3 >> 1) & 7
    if size_code == 0 or rate_code == 15 or channel_code > 10 or bits_code == 3 or b3 & 1:
        return None
    if rate_code in _RATE_CODES and _RATE_CODES[rate_code] != info.sample_rate:
        return None
    channels = channel_code + 1 if channel_code < 8 else 2
    if channels != info.channels or (bits_code and _BITS_CODES[bits_code] != info.bits):
        return None
    parsed = _utf8_number(data, pos + 4)
    if parsed is None:
        return None
    number, cur = parsed
    if size_code == 1:
        block = 192
    elif size_code <= 5:
        block = 576 << (size_code - 2)
    elif size_code <= 7:
        width = 1 if size_code == 6 else 2
        block = int.from_bytes(data[cur : cur + width], "big") + 1
        cur += width
    else:
        block = 256 << (size_code - 8)
    cur += {12: 1, 13: 2, 14: 2}.get(rate_code, 0)
    if cur >= len(data) or _crc8(data[pos:cur]) != data[cur]:
        return None
    return FrameHeader(bool(data[pos + 1] & 1), number, block)


def probe_flac(data: bytes) -> AudioInfo:
    info, audio_start = _metadata(data)
    end_sample = 0
    expected_number = 0
    fixed_block = 0
    found = False
    for match in _SYNC.finditer(data, audio_start):
        tick()
        frame = parse_frame_header(data, match.start(), info)
        if frame is None or frame.number != expected_number:
            continue
        if frame.variable:
            end_sample = frame.number + frame.block_size
            expected_number = end_sample
        else:
            fixed_block = fixed_block or frame.block_size  # every frame but the last has this size
            end_sample = frame.number * fixed_block + frame.block_size
            expected_number = frame.number + 1
        found = True
        if end_sample > SCAN_LIMIT_SECONDS * info.sample_rate:
            break
    if not found:
        raise undecodable("flac", "no audio frames")
    return AudioInfo("flac", Fraction(end_sample, info.sample_rate), info.sample_rate, info.channels)
