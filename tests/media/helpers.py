"""Audio fixtures made in the tests (numpy tones encoded by stdlib wave / soundfile) and the
byte surgery that turns honest files into ones whose headers lie."""

from __future__ import annotations

import io
import struct
import wave
from pathlib import Path

import numpy as np
import soundfile

from modelsnest.media.formats import mp3 as mp3_format
from modelsnest.media.formats.common import id3v2_end
from modelsnest.media.formats.ebml import children, read_element, read_vint
from modelsnest.media.formats.mp4 import _boxes, _child, _children
from modelsnest.media.formats.webm import _SEGMENT

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def tone(seconds: float, rate: int, channels: int = 1, freq: float = 440.0) -> np.ndarray:
    count = round(seconds * rate)
    t = np.arange(count) / rate
    # A gliding tone with a little noise, so VBR encoders really vary the bitrate.
    signal = np.sin(2 * np.pi * freq * t * (1 + 0.5 * t / max(seconds, 1e-9)))
    signal += 0.2 * np.random.default_rng(1).standard_normal(count) * (t % 1.0 > 0.5)
    mono = np.asarray(signal * 9000, dtype=np.int16)
    return np.repeat(mono[:, None], channels, axis=1) if channels > 1 else mono


def pcm_wav(seconds: float, rate: int, channels: int = 1, width: int = 2) -> bytes:
    frames = round(seconds * rate)
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(width)
        writer.setframerate(rate)
        writer.writeframes(bytes((i * 7) % 251 for i in range(frames * channels * width)))
    return out.getvalue()


def encode(samples: np.ndarray, rate: int, fmt: str, subtype: str, **options: str) -> bytes:
    out = io.BytesIO()
    soundfile.write(out, samples, rate, format=fmt, subtype=subtype, **options)  # type: ignore[arg-type]
    return out.getvalue()


# --- WAV -----------------------------------------------------------------------------------


def wav_chunk(data: bytes, chunk_id: bytes) -> int:
    """Offset of a chunk's 8-byte header."""
    pos = 12
    while data[pos : pos + 4] != chunk_id:
        pos += 8 + struct.unpack_from("<I", data, pos + 4)[0]
    return pos


def set_u32(data: bytes, offset: int, value: int, fmt: str = "<I") -> bytes:
    patched = bytearray(data)
    struct.pack_into(fmt, patched, offset, value)
    return bytes(patched)


# --- MP3 -----------------------------------------------------------------------------------


def first_frame(data: bytes) -> int:
    return id3v2_end(data)


def strip_xing(data: bytes) -> bytes:
    """Drop the Xing/Info header frame: a VBR file with no header, as many encoders write."""
    pos = first_frame(data)
    frame = mp3_format.parse_header(data, pos)
    assert frame is not None
    assert b"Xing" in data[pos : pos + 64] or b"Info" in data[pos : pos + 64]
    return data[:pos] + data[pos + frame.length :]


def xing_frame_count_offset(data: bytes) -> int:
    pos = first_frame(data)
    at = max(data.find(b"Xing", pos, pos + 64), data.find(b"Info", pos, pos + 64))
    assert at > 0 and int.from_bytes(data[at + 4 : at + 8], "big") & 1
    return at + 8


def id3v2_tag(payload_size: int) -> bytes:
    size = bytes((payload_size >> shift) & 0x7F for shift in (21, 14, 7, 0))
    return b"ID3\x04\x00\x00" + size + b"\x00" * payload_size


# --- Ogg -----------------------------------------------------------------------------------


def rewrite_granules(data: bytes, granule: int) -> bytes:
    """Set every audio page's granule position (the CRC is left stale: we never check it)."""
    patched = bytearray(data)
    pos = 0
    index = 0
    while pos < len(data):
        nsegs = data[pos + 26]
        body = sum(data[pos + 27 : pos + 27 + nsegs])
        if index >= 2 and struct.unpack_from("<q", data, pos + 6)[0] >= 0:
            struct.pack_into("<q", patched, pos + 6, granule)
        pos += 27 + nsegs + body
        index += 1
    return bytes(patched)


# --- FLAC ----------------------------------------------------------------------------------


def set_flac_total_samples(data: bytes, total: int) -> bytes:
    """Overwrite STREAMINFO's 36-bit total-samples field."""
    patched = bytearray(data)
    at = 4 + 4 + 13  # "fLaC", block header, then 13 bytes into STREAMINFO
    packed = int.from_bytes(patched[at : at + 5], "big")
    packed = (packed & ~((1 << 36) - 1)) | total
    patched[at : at + 5] = packed.to_bytes(5, "big")
    return bytes(patched)


# --- MP4 -----------------------------------------------------------------------------------


def set_mdhd_duration(data: bytes, duration: int) -> bytes:
    moov = next(box for box in _boxes(data, 0, len(data)) if box.kind == b"moov")
    patched = bytearray(data)
    for trak in _children(data, moov, b"trak"):
        mdhd = _child(data, trak, b"mdia", b"mdhd")
        assert mdhd is not None and data[mdhd.start] == 0
        struct.pack_into(">I", patched, mdhd.start + 16, duration)
    mvhd = _child(data, moov, b"mvhd")
    assert mvhd is not None
    struct.pack_into(">I", patched, mvhd.start + 16, duration)
    return bytes(patched)


def set_stts_deltas(data: bytes, delta: int) -> bytes:
    """Rewrite every time-to-sample delta of every track (the samples stay)."""
    moov = next(box for box in _boxes(data, 0, len(data)) if box.kind == b"moov")
    patched = bytearray(data)
    for trak in _children(data, moov, b"trak"):
        stts = _child(data, trak, b"mdia", b"minf", b"stbl", b"stts")
        assert stts is not None
        for index in range(struct.unpack_from(">I", data, stts.start + 4)[0]):
            struct.pack_into(">I", patched, stts.start + 8 + 8 * index + 4, delta)
    return bytes(patched)


# --- WebM ----------------------------------------------------------------------------------


def webm_segment_children(data: bytes) -> list[tuple[int, int, int]]:
    """(id, header start, payload start) of the Segment's children, for files of known sizes."""
    header = read_element(data, 0)
    segment = read_element(data, header.end)
    assert segment.id == _SEGMENT
    found, pos = [], segment.start
    while pos < len(data):
        element = read_element(data, pos)
        found.append((element.id, element.header_start, element.start))
        assert element.size is not None
        pos = element.end
    return found


def make_sizes_unknown(data: bytes, element_ids: set[int]) -> bytes:
    """Rewrite the size of the Segment and of the given children to EBML's "unknown" (all
    value bits set, same length), as a live recorder writes them."""
    header = read_element(data, 0)
    patched = bytearray(data)

    def unknown(header_start: int, payload_start: int, id_length: int) -> None:
        length = payload_start - header_start - id_length
        # The length marker bit followed by all-ones value bits: 0xFF, 0x7FFF, …, 0x01FF…FF.
        patched[header_start + id_length : payload_start] = ((1 << (7 * length + 1)) - 1).to_bytes(
            length, "big"
        )

    segment = read_element(data, header.end)
    unknown(segment.header_start, segment.start, 4)
    for element_id, start, payload in webm_segment_children(data):
        if element_id in element_ids:
            unknown(start, payload, (element_id.bit_length() + 7) // 8)
    return bytes(patched)


def zero_webm_timestamps(data: bytes) -> bytes:
    """Set every Cluster timestamp and every block's relative timestamp to 0."""
    patched = bytearray(data)
    for element_id, start, _payload in webm_segment_children(data):
        if element_id != 0x1F43B675:
            continue
        for child in children(data, read_element(data, start)):
            blocks = [child] if child.id == 0xA3 else []
            if child.id == 0xA0:
                blocks = [c for c in children(data, child) if c.id == 0xA1]
            if child.id == 0xE7:
                patched[child.start : child.end] = bytes(child.end - child.start)
            for block in blocks:
                at = block.start + read_vint(data, block.start)[1]
                patched[at : at + 2] = b"\0\0"
    return bytes(patched)


def set_webm_duration(data: bytes, seconds: float) -> bytes:
    """Overwrite Info/Duration (8-byte float) with ``seconds`` (TimecodeScale 1 ms)."""
    at = data.find(b"\x44\x89\x88")
    assert at > 0, "fixture has no 8-byte Duration"
    return data[: at + 3] + struct.pack(">d", seconds * 1000) + data[at + 11 :]
