"""Simulator media are real, decodable files and deterministic from their seed."""

from __future__ import annotations

import io
import wave
from fractions import Fraction

import pytest
from PIL import Image

from modelsnest.media import (
    PRODUCIBLE_TTS_FORMATS,
    UnsupportedAudioFormat,
    animated_gif,
    encode_audio,
    png_image,
    probe_audio,
    speech_duration_for_text,
    wav_audio,
)


def test_png_is_a_real_png_of_the_requested_size() -> None:
    data = png_image(320, 200, seed=7, label="a red fox")
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(io.BytesIO(data)) as image:
        image.verify()
    with Image.open(io.BytesIO(data)) as image:
        assert (image.format, image.size, image.mode) == ("PNG", (320, 200), "RGB")
        assert len(image.getcolors(maxcolors=1 << 20) or []) > 100  # a picture, not a flat fill


def test_png_is_deterministic_per_seed() -> None:
    assert png_image(64, 64, seed=1, label="x") == png_image(64, 64, seed=1, label="x")
    assert png_image(64, 64, seed=1) != png_image(64, 64, seed=2)
    assert png_image(64, 64, seed=1, label="üñî©ødé 漢字") != png_image(64, 64, seed=1)


@pytest.mark.parametrize(("width", "height"), [(0, 10), (10, 5000)])
def test_png_refuses_absurd_sizes(width: int, height: int) -> None:
    with pytest.raises(ValueError):
        png_image(width, height, seed=0)


def test_gif_is_animated_and_deterministic() -> None:
    data = animated_gif(96, 64, frames=12, seed=3)
    assert data.startswith(b"GIF89a")
    with Image.open(io.BytesIO(data)) as image:
        assert image.is_animated and image.n_frames == 12 and image.size == (96, 64)
        image.seek(11)
        assert image.info["duration"] == 100
    assert animated_gif(96, 64, frames=12, seed=3) == data
    assert animated_gif(96, 64, frames=12, seed=4) != data
    with pytest.raises(ValueError):
        animated_gif(96, 64, frames=1, seed=3)


@pytest.mark.parametrize(
    ("seconds", "rate"), [(Fraction(5, 2), 24000), (1.2, 16000), (Fraction(1, 3), 44100)]
)
def test_wav_has_exactly_the_requested_samples(seconds: Fraction | float, rate: int) -> None:
    data = wav_audio(seconds, sample_rate=rate, seed=5)
    with wave.open(io.BytesIO(data)) as reader:
        assert (reader.getnchannels(), reader.getsampwidth(), reader.getframerate()) == (1, 2, rate)
        assert reader.getnframes() == round(Fraction(seconds) * rate)
        frames = reader.readframes(reader.getnframes())
    assert frames.count(0) < len(frames) * 0.9  # it is not silence
    assert probe_audio(data).duration == Fraction(round(Fraction(seconds) * rate), rate)


def test_wav_is_deterministic_per_seed() -> None:
    assert wav_audio(1, seed=1) == wav_audio(1, seed=1)
    assert wav_audio(1, seed=1) != wav_audio(1, seed=2)
    with pytest.raises(ValueError):
        wav_audio(0)


@pytest.mark.parametrize("fmt", ["mp3", "opus", "flac", "wav"])
def test_encoded_tts_audio_measures_as_long_as_the_wav(fmt: str) -> None:
    source = wav_audio(Fraction(37, 10), seed=9)
    data, content_type = encode_audio(source, fmt)
    info = probe_audio(data)
    expected = {"mp3": ("mp3", "audio/mpeg"), "opus": ("ogg", "audio/ogg"), "flac": ("flac", "audio/flac")}
    assert (info.format, content_type) == expected.get(fmt, ("wav", "audio/wav"))
    assert abs(info.duration - Fraction(37, 10)) <= Fraction(37, 1000)


def test_pcm_is_raw_16_bit_little_endian() -> None:
    source = wav_audio(Fraction(1, 2), seed=2)
    data, content_type = encode_audio(source, "pcm")
    with wave.open(io.BytesIO(source)) as reader:
        assert data == reader.readframes(reader.getnframes())
    assert content_type == "audio/pcm" and len(data) == 24000


def test_aac_and_unknown_formats_are_refused_clearly() -> None:
    assert set(PRODUCIBLE_TTS_FORMATS) == {"mp3", "opus", "flac", "wav", "pcm"}
    source = wav_audio(1)
    with pytest.raises(UnsupportedAudioFormat, match="aac") as caught:
        encode_audio(source, "aac")
    assert (caught.value.status, caught.value.code, caught.value.param) == (
        400,
        "UNSUPPORTED_AUDIO_FORMAT",
        "response_format",
    )
    with pytest.raises(UnsupportedAudioFormat):
        encode_audio(source, "m4a")
    with pytest.raises(UnsupportedAudioFormat, match="sample rate"):
        encode_audio(wav_audio(1, sample_rate=44100), "opus")


def test_speech_duration_is_proportionate_to_the_text() -> None:
    assert speech_duration_for_text("x" * 150) == 10
    assert speech_duration_for_text("hi") == Fraction(1, 2)
    assert speech_duration_for_text("x" * 1500) == 100
