"""Each supported container is measured from its data, within 1% (WAV exactly)."""

from __future__ import annotations

import io
from fractions import Fraction

import mutagen
import pytest

from modelsnest.media import AudioInfo, measure_audio, probe_audio
from tests.media import helpers
from tests.media.helpers import encode, fixture, pcm_wav, tone


def assert_close(info: AudioInfo, seconds: float, tolerance: float = 0.01) -> None:
    assert abs(float(info.duration) - seconds) <= seconds * tolerance, (float(info.duration), seconds)


@pytest.mark.parametrize(
    ("seconds", "rate", "channels", "width"),
    [(1, 8000, 1, 1), (2.5, 16000, 1, 2), (0.75, 44100, 2, 2), (3, 48000, 2, 3), (1.5, 22050, 6, 4)],
)
def test_wav_duration_is_exact(seconds: float, rate: int, channels: int, width: int) -> None:
    info = probe_audio(pcm_wav(seconds, rate, channels, width))
    assert info == AudioInfo("wav", Fraction(round(seconds * rate), rate), rate, channels)


@pytest.mark.parametrize("subtype", ["FLOAT", "PCM_24", "ULAW", "ALAW", "IMA_ADPCM", "MS_ADPCM"])
def test_wav_encodings_written_by_libsndfile(subtype: str) -> None:
    data = encode(tone(8.0, 16000, channels=2), 16000, "WAV", subtype)
    info = probe_audio(data)
    assert (info.format, info.sample_rate, info.channels) == ("wav", 16000, 2)
    if "ADPCM" in subtype:  # counted in whole blocks (~1000 samples): the last one is padded
        assert_close(info, 8.0)
    else:
        assert info.duration == 8


def test_wavex_extensible_header() -> None:
    data = encode(tone(1.0, 48000, channels=3), 48000, "WAVEX", "PCM_16")
    assert probe_audio(data) == AudioInfo("wav", Fraction(1), 48000, 3)


@pytest.mark.parametrize(("rate", "channels"), [(44100, 2), (24000, 1), (8000, 1)])
def test_mp3_cbr(rate: int, channels: int) -> None:
    data = encode(tone(4.0, rate, channels), rate, "MP3", "MPEG_LAYER_III", bitrate_mode="CONSTANT")
    info = probe_audio(data)
    assert (info.format, info.sample_rate, info.channels) == ("mp3", rate, channels)
    assert_close(info, 4.0)


def test_mp3_vbr_with_xing_header() -> None:
    data = encode(tone(6.0, 44100, 2), 44100, "MP3", "MPEG_LAYER_III", bitrate_mode="VARIABLE")
    assert_close(probe_audio(data), 6.0)
    assert_close(probe_audio(data), mutagen.File(io.BytesIO(data)).info.length)


def test_mp3_vbr_without_header_is_counted_frame_by_frame() -> None:
    data = helpers.strip_xing(
        encode(tone(10.0, 44100, 2), 44100, "MP3", "MPEG_LAYER_III", bitrate_mode="VARIABLE")
    )
    # Without a Xing frame mutagen extrapolates from the first frame's bitrate; we count frames.
    assert_close(probe_audio(data), 10.0)


def test_mp3_with_id3v2_and_id3v1_tags() -> None:
    body = encode(tone(3.0, 44100), 44100, "MP3", "MPEG_LAYER_III")
    data = helpers.id3v2_tag(300) + body + b"TAG" + b"\x00" * 125
    assert_close(probe_audio(data), 3.0)


@pytest.mark.parametrize(("rate", "channels"), [(44100, 2), (16000, 1), (96000, 1)])
def test_flac(rate: int, channels: int) -> None:
    data = encode(tone(2.0, rate, channels), rate, "FLAC", "PCM_16")
    assert probe_audio(data) == AudioInfo("flac", Fraction(2), rate, channels)
    assert mutagen.File(io.BytesIO(data)).info.length == 2.0


@pytest.mark.parametrize("subtype", ["VORBIS", "OPUS"])
def test_ogg(subtype: str) -> None:
    rate = 48000 if subtype == "OPUS" else 44100
    data = encode(tone(3.0, rate, 2), rate, "OGG", subtype)
    info = probe_audio(data)
    assert (info.format, info.channels) == ("ogg", 2)
    assert_close(info, 3.0)
    assert_close(info, mutagen.File(io.BytesIO(data)).info.length)


@pytest.mark.parametrize("name", ["aac_3s.m4a", "video_3s.mp4"])
def test_mp4_audio_track(name: str) -> None:
    info = probe_audio(fixture(name))
    assert (info.format, info.sample_rate, info.channels) == ("m4a", 24000, 1)
    assert_close(info, 3.0)


def test_fragmented_m4a_sums_its_fragments() -> None:
    info = probe_audio(fixture("aac_3s_fragmented.m4a"))
    # No edit list here, so the AAC encoder's 1024 priming samples are part of what plays.
    assert info.duration == Fraction(3 * 24000 + 1024, 24000)


@pytest.mark.parametrize("name", ["opus_3s.webm", "vorbis_3s.webm", "opus_3s_live.webm"])
def test_webm(name: str) -> None:
    info = probe_audio(fixture(name))
    assert (info.format, info.sample_rate, info.channels) == ("webm", 24000, 1)
    assert_close(info, 3.0)


def test_webm_with_unknown_size_clusters_as_browsers_record() -> None:
    original = fixture("opus_3s.webm")
    data = helpers.make_sizes_unknown(original, {0x1F43B675})
    assert data != original
    assert probe_audio(data).duration == probe_audio(original).duration


def test_detection_ignores_the_file_name_and_content_type() -> None:
    flac = encode(tone(1.0, 16000), 16000, "FLAC", "PCM_16")
    assert probe_audio(flac, filename="speech.mp3", content_type="audio/mpeg").format == "flac"


async def test_measure_audio_runs_off_the_event_loop() -> None:
    info = await measure_audio(pcm_wav(1.0, 8000), filename="a.wav")
    assert info.duration == 1
