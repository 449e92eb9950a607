"""RIFF/WAVE: duration from the bytes of audio present, never from a size field alone.

A WAV header carries three numbers a client can set freely: the RIFF size, the ``data`` chunk
size and the byte rate. We compute the frame size from channels × sample width (not the byte
rate field) and take the declared ``data`` size only when it is consistent with the file: it
fits, and whatever follows it parses as a clean chain of chunks up to the end of the file.
Otherwise (a header that says "short" in front of a long recording, a streaming writer's
0 or 0xFFFFFFFF, a truncated upload) the audio is measured from the bytes actually there.
"""

from __future__ import annotations

import struct
from fractions import Fraction

from modelsnest.media.formats.common import AudioInfo, tick, undecodable

_PCM, _ADPCM_MS, _FLOAT, _ALAW, _MULAW, _ADPCM_IMA, _EXTENSIBLE = 1, 2, 3, 6, 7, 0x11, 0xFFFE
_LINEAR = {_PCM, _FLOAT, _ALAW, _MULAW}
_ADPCM = {_ADPCM_MS, _ADPCM_IMA}


def is_wav(data: bytes) -> bool:
    return len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WAVE"


def _padded(size: int) -> int:
    return size + (size & 1)


def _is_chunk_id(raw: bytes) -> bool:
    return len(raw) == 4 and all(0x20 <= b < 0x7F for b in raw)


def _tail_is_chunks(data: bytes, pos: int) -> tuple[bool, int]:
    """Whether ``data[pos:]`` is a chain of well-formed chunks; also the bytes of any further
    ``data`` chunks in it (a few writers split audio over several)."""
    extra = 0
    end = len(data)
    while pos < end:
        tick()
        if end - pos < 8:
            return all(b == 0 for b in data[pos:]), extra  # trailing zero padding is harmless
        cid, size = data[pos : pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        if not _is_chunk_id(cid) or pos + 8 + size > end:
            return False, 0
        if cid == b"data":
            extra += size
        pos += 8 + _padded(size)
    return True, extra


class _Fmt:
    def __init__(self, body: bytes) -> None:
        if len(body) < 16:
            raise undecodable("wav", "the fmt chunk is too short")
        fields: tuple[int, ...] = struct.unpack_from("<HHIIHH", body)
        tag, self.channels, self.rate, _byte_rate, self.block_align, self.bits = fields
        self.samples_per_block = 0
        if tag == _EXTENSIBLE:
            if len(body) < 40:
                raise undecodable("wav", "the extensible fmt chunk is too short")
            tag = int(struct.unpack_from("<H", body, 24)[0])  # first two bytes of the sub-format GUID
        if tag in _ADPCM:
            if len(body) < 20:
                raise undecodable("wav", "the ADPCM fmt chunk lacks samples per block")
            self.samples_per_block = int(struct.unpack_from("<H", body, 18)[0])  # after cbSize
        elif tag not in _LINEAR:
            raise undecodable("wav", f"unsupported WAV encoding 0x{tag:04x}")
        self.tag = tag
        self._validate()

    def _validate(self) -> None:
        if not 1 <= self.channels <= 64 or not 1 <= self.rate <= 768_000:
            raise undecodable("wav", "implausible channel count or sample rate")
        if self.tag in _ADPCM:
            if self.block_align == 0 or self.samples_per_block == 0:
                raise undecodable("wav", "invalid ADPCM block layout")
            return
        if not 1 <= self.bits <= 64:
            raise undecodable("wav", "invalid bits per sample")
        # The frame size follows from the format; a lying block_align or byte rate is ignored.
        self.block_align = self.channels * ((self.bits + 7) // 8)

    def frames(self, audio_bytes: int, fact: int | None) -> int:
        if self.tag not in _ADPCM:
            return audio_bytes // self.block_align
        blocks = -(-audio_bytes // self.block_align)
        frames = blocks * self.samples_per_block
        # The last block is padded; the fact chunk's count may trim that padding, and no more.
        if fact is not None and frames - self.samples_per_block < fact <= frames:
            return fact
        return frames


def probe_wav(data: bytes) -> AudioInfo:
    pos, end = 12, len(data)
    fmt: _Fmt | None = None
    fact: int | None = None
    while pos + 8 <= end:
        tick()
        cid, size = data[pos : pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        body_start = pos + 8
        if cid == b"fmt ":
            fmt = _Fmt(data[body_start : body_start + size])
        elif cid == b"fact" and size >= 4:
            fact = struct.unpack_from("<I", data, body_start)[0]
        elif cid == b"data":
            if fmt is None:
                raise undecodable("wav", "the data chunk comes before the fmt chunk")
            audio_bytes = _audio_bytes(data, body_start, size)
            duration = Fraction(fmt.frames(audio_bytes, fact), fmt.rate)
            return AudioInfo("wav", duration, fmt.rate, fmt.channels)
        elif not _is_chunk_id(cid):
            break
        pos = body_start + _padded(size)
    raise undecodable("wav", "no audio data chunk")


def _audio_bytes(data: bytes, start: int, declared: int) -> int:
    present = len(data) - start
    if declared == 0 or declared > present:
        return present
    consistent, extra = _tail_is_chunks(data, start + _padded(declared))
    return declared + extra if consistent else present
