"""Headers that lie are measured from the data; junk is an AUDIO_UNDECODABLE 400, never a crash."""

from __future__ import annotations

import os
import struct
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelsnest.errors import InvalidRequest, PayloadTooLarge
from modelsnest.media import AudioDecodeError, check_upload_size, probe_audio
from modelsnest.media.audio import MAX_AUDIO_SECONDS
from tests.media import helpers
from tests.media.helpers import encode, fixture, pcm_wav, tone

# --- WAV headers that lie ------------------------------------------------------------------


def test_wav_data_size_that_understates_is_measured_from_the_data() -> None:
    honest = pcm_wav(5.0, 16000)
    data_chunk = helpers.wav_chunk(honest, b"data")
    lying = helpers.set_u32(honest, data_chunk + 4, 3200)  # "0.1 s"
    lying = helpers.set_u32(lying, 4, 3200 + 36)  # and a RIFF size to match
    assert probe_audio(lying).duration == 5


@pytest.mark.parametrize("size", [0, 0xFFFFFFFF])
def test_wav_streaming_placeholder_sizes(size: int) -> None:
    honest = pcm_wav(2.0, 8000)
    lying = helpers.set_u32(honest, helpers.wav_chunk(honest, b"data") + 4, size)
    assert probe_audio(lying).duration == 2


def test_truncated_wav_counts_the_bytes_present() -> None:
    honest = pcm_wav(4.0, 8000)
    assert probe_audio(honest[: len(honest) - 8000 * 2]).duration == 3


def test_wav_byte_rate_and_block_align_fields_are_not_trusted() -> None:
    honest = pcm_wav(2.0, 16000, channels=2)
    fmt = helpers.wav_chunk(honest, b"fmt ") + 8
    lying = helpers.set_u32(honest, fmt + 8, 1_000_000_000)  # byte rate
    lying = helpers.set_u32(lying, fmt + 12, 1, "<H")  # block align
    assert probe_audio(lying).duration == 2


def test_wav_trailing_chunks_are_not_audio() -> None:
    honest = pcm_wav(1.0, 8000)
    tagged = honest + b"LIST" + struct.pack("<I", 12) + b"INFOISFT\x00\x00\x00\x00"
    tagged = helpers.set_u32(tagged, 4, len(tagged) - 8)
    assert probe_audio(tagged).duration == 1


def test_wav_without_frames_is_zero_duration() -> None:
    with pytest.raises(AudioDecodeError, match="zero duration"):
        probe_audio(pcm_wav(0, 8000))


# --- compressed formats whose metadata lies --------------------------------------------------


def test_mp3_xing_frame_count_is_not_trusted() -> None:
    honest = encode(tone(6.0, 44100, 2), 44100, "MP3", "MPEG_LAYER_III", bitrate_mode="VARIABLE")
    lying = helpers.set_u32(honest, helpers.xing_frame_count_offset(honest), 3, ">I")
    assert probe_audio(lying).duration == probe_audio(honest).duration


def test_flac_streaminfo_total_is_not_trusted() -> None:
    honest = encode(tone(3.0, 44100, 2), 44100, "FLAC", "PCM_16")
    for total in (4410, 0, 44100 * 3600 * 10):
        assert probe_audio(helpers.set_flac_total_samples(honest, total)).duration == 3


def test_truncated_flac_measures_the_frames_present() -> None:
    honest = encode(tone(4.0, 44100), 44100, "FLAC", "PCM_16")
    duration = probe_audio(honest[: len(honest) // 2]).duration
    assert Fraction(1) < duration < Fraction(3)


def test_ogg_opus_granules_rewritten_small_are_measured_by_packets() -> None:
    honest = encode(tone(3.0, 48000), 48000, "OGG", "OPUS")
    lying = helpers.rewrite_granules(honest, 960)
    assert abs(probe_audio(lying).duration - probe_audio(honest).duration) <= Fraction(3, 100)


def test_ogg_granule_claiming_days_is_absurd() -> None:
    honest = encode(tone(1.0, 44100), 44100, "OGG", "VORBIS")
    with pytest.raises(AudioDecodeError, match="limit is 4 hours"):
        probe_audio(helpers.rewrite_granules(honest, 44100 * 86400))


def test_m4a_header_durations_are_not_trusted() -> None:
    honest = fixture("aac_3s.m4a")
    assert probe_audio(helpers.set_mdhd_duration(honest, 10)).duration == probe_audio(honest).duration


def test_m4a_aac_with_shrunken_sample_deltas_is_measured_by_its_frames() -> None:
    honest = fixture("aac_3s.m4a")
    lying = helpers.set_stts_deltas(honest, 1)
    assert abs(probe_audio(lying).duration - probe_audio(honest).duration) <= Fraction(1, 10)


def test_webm_segment_duration_is_not_trusted() -> None:
    honest = fixture("opus_3s.webm")
    for seconds in (0.01, 3600.0 * 10):
        assert (
            probe_audio(helpers.set_webm_duration(honest, seconds)).duration == probe_audio(honest).duration
        )


def test_webm_opus_with_zeroed_timestamps_is_measured_by_its_packets() -> None:
    honest = fixture("opus_3s_live.webm")
    lying = helpers.zero_webm_timestamps(honest)
    assert lying != honest
    assert abs(probe_audio(lying).duration - probe_audio(honest).duration) <= Fraction(3, 100)


def test_more_than_four_hours_of_mp3_frames_is_refused() -> None:
    # MPEG-2.5 layer III, 8 kbit/s, 8 kHz, mono: 72-byte frames of 576 samples (72 ms).
    frame = b"\xff\xe3\x18\xc0" + bytes(68)
    frames = MAX_AUDIO_SECONDS * 8000 // 576 + 100
    assert probe_audio(frame * 1000).duration == 72
    with pytest.raises(AudioDecodeError, match="limit is 4 hours"):
        probe_audio(frame * frames)


def test_files_too_costly_to_parse_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from modelsnest.media.formats import common

    flac = encode(tone(1.0, 8000), 8000, "FLAC", "PCM_16")
    crafted = flac + b"\xff\xf8" * 100_000  # sync codes that are not frames
    assert probe_audio(crafted).duration == 1
    monkeypatch.setattr(common, "CPU_BUDGET_SECONDS", 0.0)
    with pytest.raises(AudioDecodeError, match="too complex"):
        probe_audio(crafted)


# --- not audio at all ------------------------------------------------------------------------


def _assert_undecodable(data: bytes, **kwargs: str) -> AudioDecodeError:
    with pytest.raises(AudioDecodeError) as caught:
        probe_audio(data, **kwargs)
    error = caught.value
    assert isinstance(error, InvalidRequest)
    assert (error.status, error.code, error.param) == (400, "AUDIO_UNDECODABLE", "file")
    return error


def test_text_disguised_as_mp3() -> None:
    error = _assert_undecodable(
        b"Hello, this is not audio at all.\n" * 50, filename="song.mp3", content_type="audio/mpeg"
    )
    assert "song.mp3" in error.message and "not a recognised audio file" in error.message


def test_empty_file() -> None:
    assert "empty" in _assert_undecodable(b"").message


@pytest.mark.parametrize(
    "data",
    [
        b"RIFF\x00\x00\x00\x00WAVE",
        b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00",
        b"fLaC\x00\x00\x00\x22",
        b"OggS\x00\x02" + b"\x00" * 30,
        b"\x1a\x45\xdf\xa3\x84\x42\x82\x84webm",
        b"\x00\x00\x00\x18ftypM4A \x00\x00\x02\x00isomiso2",
        b"ID3\x04\x00\x00\x00\x00\x00\x05hello",
        b"\xff\xfb\x90\x64" + b"\x00" * 20,
        os.urandom(64),
    ],
    ids=[
        "riff-only",
        "wav-cut-fmt",
        "flac-cut",
        "ogg-cut",
        "webm-cut",
        "mp4-no-moov",
        "id3-only",
        "mp3-one-cut-frame",
        "random",
    ],
)
def test_truncated_headers_and_garbage(data: bytes) -> None:
    _assert_undecodable(data)


@pytest.mark.parametrize("keep", [12, 40, 100, 400, 1000])
@pytest.mark.parametrize("name", ["wav", "mp3", "flac", "ogg", "m4a", "webm"])
def test_every_format_cut_short_is_an_error_or_a_shorter_measure(name: str, keep: int) -> None:
    full = _sample(name)
    try:
        info = probe_audio(full[:keep])
    except AudioDecodeError:
        return
    assert info.duration <= probe_audio(full).duration


def _sample(name: str) -> bytes:
    return {
        "wav": lambda: pcm_wav(1.0, 8000),
        "mp3": lambda: encode(tone(1.0, 22050), 22050, "MP3", "MPEG_LAYER_III"),
        "flac": lambda: encode(tone(1.0, 22050), 22050, "FLAC", "PCM_16"),
        "ogg": lambda: encode(tone(1.0, 48000), 48000, "OGG", "OPUS"),
        "m4a": lambda: fixture("aac_3s_fragmented.m4a"),
        "webm": lambda: fixture("opus_3s_live.webm"),
    }[name]()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(["wav", "mp3", "flac", "ogg", "m4a", "webm"]),
    edits=st.lists(st.tuples(st.integers(min_value=0, max_value=4000), st.integers(0, 255)), max_size=8),
)
def test_corrupted_files_never_crash(name: str, edits: list[tuple[int, int]]) -> None:
    data = bytearray(_sample(name))
    for offset, value in edits:
        data[offset % len(data)] = value
    try:
        info = probe_audio(bytes(data))
    except AudioDecodeError:
        return
    assert 0 < info.duration <= MAX_AUDIO_SECONDS


# --- size limit ------------------------------------------------------------------------------


def test_upload_size_limit() -> None:
    check_upload_size(25 * 1024 * 1024, 25 * 1024 * 1024)
    with pytest.raises(PayloadTooLarge) as caught:
        check_upload_size(25 * 1024 * 1024 + 1, 25 * 1024 * 1024)
    assert (caught.value.status, caught.value.code) == (413, "PAYLOAD_TOO_LARGE")
