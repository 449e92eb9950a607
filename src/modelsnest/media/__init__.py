"""Media: measuring uploaded audio and generating simulator media; no database.

Serving our own files is ``modelsnest.media.storage`` (``MediaStore``), which needs the
database: it is deliberately not imported here, so provider adapters can use measurement and
generation without loading SQLAlchemy (``tests/test_import_rules.py`` holds that line).
"""

from modelsnest.media.audio import (
    MAX_AUDIO_SECONDS,
    SUPPORTED_AUDIO_FORMATS,
    detect_format,
    measure_audio,
    probe_audio,
)
from modelsnest.media.errors import AudioDecodeError, UnsupportedAudioFormat, check_upload_size
from modelsnest.media.formats.common import AudioInfo
from modelsnest.media.generate import (
    PRODUCIBLE_TTS_FORMATS,
    TTS_FORMATS,
    animated_gif,
    encode_audio,
    png_image,
    speech_duration_for_text,
    wav_audio,
)

__all__ = [
    "MAX_AUDIO_SECONDS",
    "PRODUCIBLE_TTS_FORMATS",
    "SUPPORTED_AUDIO_FORMATS",
    "TTS_FORMATS",
    "AudioDecodeError",
    "AudioInfo",
    "UnsupportedAudioFormat",
    "animated_gif",
    "check_upload_size",
    "detect_format",
    "encode_audio",
    "measure_audio",
    "png_image",
    "probe_audio",
    "speech_duration_for_text",
    "wav_audio",
]
