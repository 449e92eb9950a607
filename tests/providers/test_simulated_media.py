"""The simulator's media: deterministic, offline, and real decodable bytes."""

from __future__ import annotations

import asyncio
import base64
import io
import wave

import numpy as np
import pytest
import soundfile
from PIL import Image

from modelsnest.media import wav_audio
from modelsnest.media.generate import speech_duration_for_text
from modelsnest.providers.errors import ProviderBadRequest
from modelsnest.providers.media_base import count_input_tokens
from modelsnest.providers.media_types import ImageRequest, SpeechRequest, TranscriptionRequest, VideoRequest
from modelsnest.providers.simulated_media import embedding_vector
from modelsnest.providers.simulator import SimulatorProvider
from modelsnest.providers.types import ProviderConfig


def simulator(**extra: object) -> SimulatorProvider:
    return SimulatorProvider(ProviderConfig(name="simulator", kind="simulator", extra=dict(extra)))


# -- embeddings ----------------------------------------------------------------------------------


async def test_embeddings_shape_norm_and_determinism() -> None:
    sim = simulator()
    inputs = ["hello world", "another text", "hello world"]
    result = await sim.embeddings({"input": inputs}, "text-embedding-3-small")
    body = result.body
    assert body["object"] == "list" and body["model"] == "text-embedding-3-small"
    vectors = [np.array(item["embedding"]) for item in body["data"]]
    assert [item["index"] for item in body["data"]] == [0, 1, 2]
    assert all(v.shape == (1536,) for v in vectors)
    assert all(abs(np.linalg.norm(v) - 1) < 1e-5 for v in vectors)
    assert vectors[0].tolist() == vectors[2].tolist() and vectors[0].tolist() != vectors[1].tolist()
    again = await sim.embeddings({"input": inputs}, "text-embedding-3-small")
    assert again.body == body
    tokens = count_input_tokens(inputs)
    assert result.usage.prompt_tokens == tokens and result.usage.reported
    assert body["usage"] == {"prompt_tokens": tokens, "total_tokens": tokens}


async def test_embedding_dimensions() -> None:
    sim = simulator(embedding_dimensions=64)
    large = await sim.embeddings({"input": "x"}, "text-embedding-3-large")
    assert len(large.body["data"][0]["embedding"]) == 3072
    unknown = await sim.embeddings({"input": "x"}, "my-embedder")
    assert len(unknown.body["data"][0]["embedding"]) == 64
    short = await sim.embeddings({"input": "x", "dimensions": 8}, "text-embedding-3-small")
    vector = np.array(short.body["data"][0]["embedding"])
    full = embedding_vector("x", 1536)[:8]
    assert vector == pytest.approx(full / np.linalg.norm(full), abs=1e-6)  # cut and re-normalised
    with pytest.raises(ProviderBadRequest, match="dimensions"):
        await sim.embeddings({"input": "x", "dimensions": 5000}, "text-embedding-3-small")


async def test_base64_is_little_endian_float32_like_openai() -> None:
    sim = simulator()
    as_float = await sim.embeddings({"input": ["a", [1, 2, 3]]}, "bge-m3")
    as_b64 = await sim.embeddings({"input": ["a", [1, 2, 3]], "encoding_format": "base64"}, "bge-m3")
    for plain, encoded in zip(as_float.body["data"], as_b64.body["data"], strict=True):
        decoded = np.frombuffer(base64.b64decode(encoded["embedding"]), dtype="<f4")
        assert decoded.shape == (1024,) and decoded.tolist() == plain["embedding"]


async def test_embeddings_reject_a_missing_input() -> None:
    with pytest.raises(ProviderBadRequest):
        await simulator().embeddings({"input": []}, "bge-m3")


# -- images --------------------------------------------------------------------------------------


async def test_images_are_real_deterministic_pngs() -> None:
    sim = simulator()
    request = ImageRequest(prompt="a lighthouse at dusk", n=2, width=96, height=64)
    result = await sim.generate_images(request, "flux-1-schnell")
    assert len(result.images) == 2 and result.images[0].data != result.images[1].data
    for image in result.images:
        decoded = Image.open(io.BytesIO(image.data))
        assert decoded.format == "PNG" and decoded.size == (96, 64) and image.content_type == "image/png"
    again = await sim.generate_images(request, "flux-1-schnell")
    assert [i.data for i in again.images] == [i.data for i in result.images]
    with pytest.raises(ProviderBadRequest):
        await sim.generate_images(ImageRequest(prompt="x", n=1, width=0, height=10), "m")


# -- transcription -------------------------------------------------------------------------------


async def test_transcription_segments_follow_the_audio() -> None:
    sim = simulator()
    audio = wav_audio(12)
    request = TranscriptionRequest(audio=audio, filename="a.wav", content_type="audio/wav")
    result = await sim.transcribe(request, "whisper-1")
    assert [(s.start_ms, s.end_ms) for s in result.segments] == [(0, 5000), (5000, 10000), (10000, 12000)]
    assert result.text.startswith("[simulated transcript] segment 1")
    assert result.text == " ".join(s.text for s in result.segments)
    assert result.duration_seconds == pytest.approx(12) and result.language == "en"
    assert await sim.transcribe(request, "whisper-1") == result
    other = await sim.transcribe(
        TranscriptionRequest(wav_audio(12, seed=5), "a.wav", "audio/wav"), "whisper-1"
    )
    assert other.text != result.text
    with pytest.raises(ProviderBadRequest):
        await sim.transcribe(TranscriptionRequest(b"garbage", "a.wav", "audio/wav"), "whisper-1")


# -- speech --------------------------------------------------------------------------------------


async def test_speech_is_real_audio_of_the_right_length() -> None:
    sim = simulator()
    text = "The quick brown fox jumps over the lazy dog."
    result = await sim.speech(SpeechRequest(text=text, voice="alloy", response_format="wav"), "tts-1")
    assert result.content_type == "audio/wav"
    with wave.open(io.BytesIO(result.audio)) as reader:
        seconds = reader.getnframes() / reader.getframerate()
    assert seconds == pytest.approx(float(speech_duration_for_text(text)), abs=0.01)
    faster = await sim.speech(
        SpeechRequest(text=text, voice="alloy", response_format="wav", speed=2.0), "tts-1"
    )
    with wave.open(io.BytesIO(faster.audio)) as reader:
        assert reader.getnframes() / reader.getframerate() == pytest.approx(seconds / 2, abs=0.01)
    again = await sim.speech(SpeechRequest(text=text, voice="alloy", response_format="wav"), "tts-1")
    assert again.audio == result.audio


async def test_speech_formats() -> None:
    sim = simulator()
    flac = await sim.speech(SpeechRequest(text="Hello", voice="nova", response_format="flac"), "tts-1")
    samples, rate = soundfile.read(io.BytesIO(flac.audio))
    assert flac.content_type == "audio/flac" and rate == 24000 and len(samples) > 0
    mp3 = await sim.speech(SpeechRequest(text="Hello", voice="nova", response_format="mp3"), "tts-1")
    assert mp3.content_type == "audio/mpeg" and len(mp3.audio) > 100
    with pytest.raises(ProviderBadRequest, match="aac") as info:
        await sim.speech(SpeechRequest(text="Hello", voice="nova", response_format="aac"), "tts-1")
    assert not info.value.retryable and info.value.status == 400


# -- video ---------------------------------------------------------------------------------------


async def test_video_goes_queued_running_succeeded() -> None:
    sim = simulator(video_seconds_to_finish=0.8)  # queued for 0.2 s, running until 0.8 s
    task = await sim.submit_video(
        VideoRequest(prompt="waves", duration_seconds=2, width=1280, height=720), "veo-3"
    )
    first = await sim.poll_video(task.task_id, "veo-3")
    assert first.state == "queued" and first.video is None
    await asyncio.sleep(0.4)
    running = await sim.poll_video(task.task_id, "veo-3")
    assert running.state == "running" and 0 < running.progress < 100
    await asyncio.sleep(0.45)
    done = await sim.poll_video(task.task_id, "veo-3")
    assert done.state == "succeeded" and done.progress == 100 and done.content_type == "image/gif"
    assert done.video is not None
    gif = Image.open(io.BytesIO(done.video))
    assert gif.format == "GIF" and gif.size == (320, 180) and gif.n_frames > 1


async def test_video_is_deterministic_and_instant_with_zero_delay() -> None:
    sim = simulator(video_seconds_to_finish=0, video_max_side=64)
    request = VideoRequest(prompt="a comet", duration_seconds=1, width=100, height=100)
    first = await sim.poll_video((await sim.submit_video(request, "m")).task_id, "m")
    second = await sim.poll_video((await sim.submit_video(request, "m")).task_id, "m")
    assert first.state == second.state == "succeeded" and first.video == second.video
    other = await sim.poll_video(
        (await sim.submit_video(VideoRequest(prompt="a star", duration_seconds=1), "m")).task_id, "m"
    )
    assert other.video != first.video


async def test_unknown_video_task() -> None:
    for task_id in ("nope", "simvid_!!!", "simvid_e30"):
        with pytest.raises(ProviderBadRequest, match="unknown simulated video task"):
            await simulator().poll_video(task_id, "m")
