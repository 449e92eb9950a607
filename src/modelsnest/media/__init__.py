"""Media: measuring uploaded audio, generating simulator media, and serving our own files."""

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
from modelsnest.media.storage import MediaStore, StoredFileView, is_valid_file_id

__all__ = [
    "MAX_AUDIO_SECONDS",
    "PRODUCIBLE_TTS_FORMATS",
    "SUPPORTED_AUDIO_FORMATS",
    "TTS_FORMATS",
    "AudioDecodeError",
    "AudioInfo",
    "MediaStore",
    "StoredFileView",
    "UnsupportedAudioFormat",
    "animated_gif",
    "check_upload_size",
    "detect_format",
    "encode_audio",
    "is_valid_file_id",
    "measure_audio",
    "png_image",
    "probe_audio",
    "speech_duration_for_text",
    "wav_audio",
]
