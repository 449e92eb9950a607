"""Errors of the media package, all in the domain tree of ``modelsnest.errors``."""

from __future__ import annotations

from modelsnest.errors import InvalidRequest, PayloadTooLarge


class AudioDecodeError(InvalidRequest):
    """An uploaded file that is not audio we can measure: unknown, corrupt, empty or absurd."""

    default_code = "AUDIO_UNDECODABLE"

    def __init__(self, message: str, *, code: str | None = None, param: str | None = "file") -> None:
        super().__init__(message, code=code, param=param)


class UnsupportedAudioFormat(InvalidRequest):
    """An output audio format this process cannot produce (see ``generate.encode_audio``)."""

    default_code = "UNSUPPORTED_AUDIO_FORMAT"

    def __init__(
        self, message: str, *, code: str | None = None, param: str | None = "response_format"
    ) -> None:
        super().__init__(message, code=code, param=param)


def check_upload_size(size: int, limit: int) -> None:
    """Raise ``PayloadTooLarge`` (413) when ``size`` bytes exceed ``limit``."""
    if size > limit:
        raise PayloadTooLarge(
            f"The uploaded file is {size} bytes; the limit is {limit} bytes ({limit / 1_048_576:.0f} MB)."
        )
