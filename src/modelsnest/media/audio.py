"""Measure uploaded audio on the server, from the bytes.

The container is recognised by its magic numbers, never by the file name or the declared
content type (those are only used to word the error). The duration comes from the audio data
itself (see ``formats``), so what a client is billed for is what a decoder would play.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Callable

from modelsnest.media.errors import AudioDecodeError, check_upload_size
from modelsnest.media.formats.common import MAX_AUDIO_SECONDS, AudioInfo, cpu_budget
from modelsnest.media.formats.flac import is_flac, probe_flac
from modelsnest.media.formats.mp3 import looks_like_mp3, probe_mp3
from modelsnest.media.formats.mp4 import is_mp4, probe_mp4
from modelsnest.media.formats.ogg import is_ogg, probe_ogg
from modelsnest.media.formats.wav import is_wav, probe_wav
from modelsnest.media.formats.webm import is_webm, probe_webm

__all__ = [
    "MAX_AUDIO_SECONDS",
    "SUPPORTED_AUDIO_FORMATS",
    "AudioInfo",
    "check_upload_size",
    "detect_format",
    "measure_audio",
    "probe_audio",
]

SUPPORTED_AUDIO_FORMATS = ("wav", "mp3", "m4a", "ogg", "flac", "webm")

_Probe = Callable[[bytes], AudioInfo]
# Order matters: the unambiguous magic numbers first, MP3 (a frame sync) last.
_SNIFFERS: tuple[tuple[str, Callable[[bytes], bool], _Probe], ...] = (
    ("wav", is_wav, probe_wav),
    ("flac", is_flac, probe_flac),
    ("ogg", is_ogg, probe_ogg),
    ("webm", is_webm, probe_webm),
    ("m4a", is_mp4, probe_mp4),
    ("mp3", looks_like_mp3, probe_mp3),
)


def detect_format(data: bytes) -> str | None:
    """The container named by the file's magic numbers, or None."""
    return next((name for name, sniff, _ in _SNIFFERS if _safe_sniff(sniff, data)), None)


def _safe_sniff(sniff: Callable[[bytes], bool], data: bytes) -> bool:
    try:
        return sniff(data)
    except (AudioDecodeError, LookupError, ValueError):
        return False


def probe_audio(data: bytes, filename: str | None = None, content_type: str | None = None) -> AudioInfo:
    """Identify and measure an uploaded audio file; raise ``AudioDecodeError`` if we cannot."""
    with cpu_budget():
        return _probe(data, filename, content_type)


def _probe(data: bytes, filename: str | None, content_type: str | None) -> AudioInfo:
    label = (filename or content_type or "file")[:100]
    if not data:
        raise AudioDecodeError(f"The uploaded {label!s} is empty.")
    entry = next((e for e in _SNIFFERS if _safe_sniff(e[1], data)), None)
    if entry is None:
        raise AudioDecodeError(
            f"The uploaded {label!s} is not a recognised audio file "
            f"(supported: {', '.join(SUPPORTED_AUDIO_FORMATS)})."
        )
    name, _, probe = entry
    try:
        info = probe(data)
    except (struct.error, LookupError, ValueError, ArithmeticError, RecursionError) as exc:
        raise AudioDecodeError(f"The uploaded {name} file could not be decoded: it is malformed.") from exc
    return _sane(info)


async def measure_audio(
    data: bytes, filename: str | None = None, content_type: str | None = None
) -> AudioInfo:
    """``probe_audio`` in a worker thread: parsing is CPU-bound (milliseconds for ordinary
    uploads, up to a few seconds for a crafted 25 MB file of tiny frames), so keep it off the
    event loop."""
    return await asyncio.to_thread(probe_audio, data, filename, content_type)


def _sane(info: AudioInfo) -> AudioInfo:
    if info.duration <= 0:
        raise AudioDecodeError(f"The uploaded {info.format} file contains no audio (zero duration).")
    if info.duration > MAX_AUDIO_SECONDS:
        raise AudioDecodeError(
            f"The uploaded {info.format} file claims {float(info.duration):.0f} seconds of audio; "
            f"the limit is {MAX_AUDIO_SECONDS // 3600} hours."
        )
    if info.sample_rate is not None and not 1 <= info.sample_rate <= 768_000:
        raise AudioDecodeError(f"The uploaded {info.format} file has an implausible sample rate.")
    if info.channels is not None and not 1 <= info.channels <= 255:
        raise AudioDecodeError(f"The uploaded {info.format} file has an implausible channel count.")
    return info
