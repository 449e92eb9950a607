"""Real media bytes for the offline simulator, deterministic from a seed.

Images and GIFs are drawn with Pillow; speech-like audio is synthesised with numpy and written
as 16-bit PCM WAV with the stdlib ``wave``; other TTS formats are encoded by ``soundfile``
(its wheel bundles libsndfile with FLAC, Vorbis/Opus and LAME MP3). AAC is the one OpenAI TTS
format no PyPI wheel we use can write (it would take an ffmpeg build such as PyAV), so
``encode_audio(…, "aac")`` raises ``UnsupportedAudioFormat``.
"""

from __future__ import annotations

import io
import math
import random
import wave
from fractions import Fraction
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy, Pillow and soundfile load on first use: servers start faster
    import numpy as np
    from PIL import Image

from modelsnest.media.errors import UnsupportedAudioFormat

MAX_IMAGE_SIDE = 4096
MAX_GIF_FRAMES = 240
MAX_AUDIO_SECONDS = 600
CHARACTERS_PER_SECOND = 15
TTS_FORMATS = ("mp3", "opus", "aac", "flac", "wav", "pcm")
PRODUCIBLE_TTS_FORMATS = ("mp3", "opus", "flac", "wav", "pcm")
CONTENT_TYPES = {
    "mp3": "audio/mpeg",
    "opus": "audio/ogg",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
}
_OPUS_RATES = (8000, 12000, 16000, 24000, 48000)


def _check_size(width: int, height: int) -> None:
    if not (1 <= width <= MAX_IMAGE_SIDE and 1 <= height <= MAX_IMAGE_SIDE):
        raise ValueError(f"image sides must be between 1 and {MAX_IMAGE_SIDE} pixels")


def _background(width: int, height: int, rng: random.Random) -> Image.Image:
    """A two-axis colour gradient, built from Pillow's gradients (no per-pixel Python)."""
    from PIL import Image

    horizontal = Image.linear_gradient("L").rotate(90).resize((width, height))
    vertical = Image.linear_gradient("L").resize((width, height))
    start = [rng.randrange(256) for _ in range(3)]
    end = [rng.randrange(256) for _ in range(3)]
    bands = []
    for channel in range(3):
        source = horizontal if channel != 1 else vertical
        lo, hi = start[channel], end[channel]
        bands.append(source.point([lo + (hi - lo) * v // 255 for v in range(256)]))
    return Image.merge("RGB", bands)


def _shapes(image: Image.Image, rng: random.Random, count: int) -> None:
    from PIL import ImageDraw

    draw = ImageDraw.Draw(image)
    width, height = image.size
    for _ in range(count):
        x0, y0 = rng.randrange(width), rng.randrange(height)
        x1, y1 = x0 + rng.randrange(1, width // 2 + 2), y0 + rng.randrange(1, height // 2 + 2)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)((x0, y0, x1, y1), fill=colour)


def png_image(width: int, height: int, seed: int, label: str | None = None) -> bytes:
    """A real PNG: a seeded gradient with shapes and, optionally, a caption."""
    from PIL import ImageDraw, ImageFont

    _check_size(width, height)
    rng = random.Random(seed)
    image = _background(width, height, rng)
    _shapes(image, rng, count=6)
    if label:
        draw = ImageDraw.Draw(image)
        font = ImageFont.load_default()
        text = label[:200]
        try:
            box = draw.textbbox((8, 8), text, font=font)
        except UnicodeError:  # Pillow's bitmap fallback font is Latin-1 only
            text = text.encode("ascii", "replace").decode("ascii")
            box = draw.textbbox((8, 8), text, font=font)
        draw.rectangle((box[0] - 4, box[1] - 4, box[2] + 4, box[3] + 4), fill=(0, 0, 0))
        draw.text((8, 8), text, fill=(255, 255, 255), font=font)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()


def animated_gif(width: int, height: int, frames: int, seed: int, frame_ms: int = 100) -> bytes:
    """A real looping animated GIF (our stand-in for a generated video): a ball crossing a
    seeded gradient. Every frame differs, so Pillow keeps them all."""
    from PIL import Image, ImageDraw

    _check_size(width, height)
    if not 2 <= frames <= MAX_GIF_FRAMES:
        raise ValueError(f"an animated GIF needs 2 to {MAX_GIF_FRAMES} frames")
    rng = random.Random(seed)
    background = _background(width, height, rng)
    colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
    radius = max(1, min(width, height) // 8)
    images = []
    for index in range(frames):
        frame = background.copy()
        phase = index / frames
        cx = round(radius + (width - 2 * radius) * phase)
        cy = round(height / 2 + (height / 4) * math.sin(2 * math.pi * phase))
        ImageDraw.Draw(frame).ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=colour)
        frame.putpixel((index % width, 0), (index * 37 % 256, 0, 0))  # frames never coincide
        images.append(frame.quantize(colors=64, dither=Image.Dither.NONE))
    out = io.BytesIO()
    images[0].save(out, format="GIF", save_all=True, append_images=images[1:], duration=frame_ms, loop=0)
    return out.getvalue()


def speech_duration_for_text(text: str) -> Fraction:
    """How long simulated speech for ``text`` lasts: ~15 characters a second, at least 0.5 s."""
    return max(Fraction(len(text), CHARACTERS_PER_SECOND), Fraction(1, 2))


def _speech_samples(count: int, sample_rate: int, seed: int) -> np.ndarray:
    """Syllable-like tone bursts (gliding pitch, two harmonics, smooth envelope) with pauses."""
    import numpy as np

    rng = np.random.default_rng(seed)
    out = np.zeros(count, dtype=np.float64)
    pos = 0
    while pos < count:
        length = min(int(sample_rate * rng.uniform(0.08, 0.25)), count - pos)
        t = np.arange(length) / sample_rate
        f0 = rng.uniform(110.0, 240.0)
        pitch = f0 * (1.0 + rng.uniform(-0.15, 0.15) * t / max(t[-1], 1e-9)) if length else t
        phase = 2 * np.pi * np.cumsum(pitch) / sample_rate
        envelope = np.sin(np.pi * np.arange(length) / max(length, 1)) ** 2
        out[pos : pos + length] = envelope * (0.6 * np.sin(phase) + 0.25 * np.sin(2 * phase))
        pos += length + int(sample_rate * rng.uniform(0.02, 0.12))  # pause between syllables
    return np.asarray(np.round(out * 12000), dtype="<i2")


def wav_audio(duration_seconds: Fraction | float, sample_rate: int = 24000, seed: int = 0) -> bytes:
    """A real mono 16-bit PCM WAV of exactly ``round(duration × sample_rate)`` samples."""
    duration = Fraction(duration_seconds)
    if not 0 < duration <= MAX_AUDIO_SECONDS:
        raise ValueError(f"duration must be above 0 and at most {MAX_AUDIO_SECONDS} seconds")
    if not 8000 <= sample_rate <= 192_000:
        raise ValueError("sample_rate must be between 8000 and 192000")
    samples = _speech_samples(max(1, round(duration * sample_rate)), sample_rate, seed)
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(sample_rate)
        writer.writeframes(samples.tobytes())
    return out.getvalue()


def _read_wav(wav_bytes: bytes) -> tuple[bytes, int, int]:
    """(16-bit LE PCM frames, sample rate, channels) of a PCM WAV."""
    try:
        with wave.open(io.BytesIO(wav_bytes), "rb") as reader:
            if reader.getsampwidth() != 2:
                raise ValueError("only 16-bit PCM WAV input is supported")
            return reader.readframes(reader.getnframes()), reader.getframerate(), reader.getnchannels()
    except (wave.Error, EOFError) as exc:
        raise ValueError(f"not a PCM WAV file: {exc}") from exc


def encode_audio(wav_bytes: bytes, fmt: str) -> tuple[bytes, str]:
    """Encode a 16-bit PCM WAV into an OpenAI TTS ``response_format``; returns (bytes, content type).

    mp3 (LAME), opus (Ogg Opus; the WAV must be 8/12/16/24/48 kHz), flac, wav (as given) and
    pcm (raw 16-bit little-endian samples, the WAV's own rate) are produced; aac raises
    ``UnsupportedAudioFormat``.
    """
    import numpy as np
    import soundfile

    if fmt not in TTS_FORMATS:
        raise UnsupportedAudioFormat(
            f"Unknown audio format {fmt!r}; expected one of {', '.join(TTS_FORMATS)}."
        )
    if fmt == "aac":
        raise UnsupportedAudioFormat(
            "The aac format cannot be produced here (no bundled AAC encoder); "
            f"choose one of {', '.join(PRODUCIBLE_TTS_FORMATS)}."
        )
    frames, rate, channels = _read_wav(wav_bytes)
    if fmt == "wav":
        return wav_bytes, CONTENT_TYPES["wav"]
    if fmt == "pcm":
        return frames, CONTENT_TYPES["pcm"]
    if fmt == "opus" and rate not in _OPUS_RATES:
        raise UnsupportedAudioFormat(f"Opus needs a sample rate of {_OPUS_RATES}, not {rate} Hz.")
    samples = np.frombuffer(frames, dtype="<i2").reshape(-1, channels)
    container, subtype = {
        "mp3": ("MP3", "MPEG_LAYER_III"),
        "opus": ("OGG", "OPUS"),
        "flac": ("FLAC", "PCM_16"),
    }[fmt]
    out = io.BytesIO()
    soundfile.write(out, samples, rate, format=container, subtype=subtype)
    return out.getvalue(), CONTENT_TYPES[fmt]
