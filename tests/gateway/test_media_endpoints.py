"""Every modality through the official openai SDK (and plain HTTP for the seed's aliases),
served by the built-in simulator, billed by quantities the server measures."""

from __future__ import annotations

import asyncio
import base64
import io
import time
import wave

import httpx
import pytest
from PIL import Image

from tests.gateway.helpers import ceil_div, exact_json, nanos, sdk, wav_bytes
from tests.live import Platform, ServerProcess

pytestmark = pytest.mark.postgres


async def test_embeddings_are_billed_per_1k_tokens_of_upstream_usage(
    live_server: ServerProcess, platform: Platform
) -> None:
    model = await platform.model(
        [("simulator", "sim-embed")],
        endpoint="embeddings",
        category="embeddings",
        input_price="0.0001",
        output_price="0",
    )
    account = await platform.account("1")
    client = sdk(live_server, account.token)
    result = client.embeddings.create(model=model, input=["The quick brown fox", "jumps over the lazy dog"])
    assert len(result.data) == 2 and len(result.data[0].embedding) > 0
    assert result.data[0].embedding != result.data[1].embedding
    tokens = result.usage.prompt_tokens
    cost = ceil_div(tokens * 100_000, 1000)
    short = client.embeddings.create(model=model, input="hello", dimensions=64, encoding_format="float")
    assert len(short.data[0].embedding) == 64
    cost += ceil_div(short.usage.prompt_tokens * 100_000, 1000)
    assert (await platform.balance(account.user_id)).balance_nanos == nanos(1) - cost
    raw = httpx.post(
        f"{live_server.api_base}/embeddings",
        json={"model": model, "input": []},
        headers={"Authorization": f"Bearer {account.token}"},
    )
    assert raw.status_code == 400 and raw.json()["error"]["param"] == "input"


async def test_images_are_billed_per_image_returned_and_served_by_us(
    live_server: ServerProcess, platform: Platform
) -> None:
    model = await platform.model(
        [("simulator", "sim-image")],
        endpoint="images",
        category="image",
        unit="per_image",
        input_price="0.04",
        output_price="0",
    )
    account = await platform.account("1")
    result = sdk(live_server, account.token).images.generate(
        model=model, prompt="a red fox", n=2, size="256x256"
    )
    assert len(result.data) == 2
    for item in result.data:
        assert item.url and item.url.startswith(live_server.base_url + "/files/")
        image = Image.open(io.BytesIO(httpx.get(item.url).content))
        assert image.format == "PNG" and image.size == (256, 256)
    inline = sdk(live_server, account.token).images.generate(
        model=model, prompt="a blue fox", n=1, size="128x128", response_format="b64_json"
    )
    assert inline.data[0].b64_json and inline.data[0].url is None
    # The seed's alias with its own field names.
    alias = httpx.post(
        f"{live_server.api_base}/images/generate",
        headers={"Authorization": f"Bearer {account.token}"},
        json={"model": model, "prompt": "fox", "num_images": 3, "width": 128, "height": 64},
    )
    body = exact_json(alias)
    assert alias.status_code == 200 and len(body["data"]) == 3
    assert nanos(body["billing"]["cost_usd"]) == 3 * 40_000_000 and body["billing"]["billed_quantity"] == 3
    assert (await platform.balance(account.user_id)).balance_nanos == nanos(1) - 6 * 40_000_000
    assert httpx.get(f"{live_server.base_url}/files/not-a-real-file-id-at-all-0000000").status_code == 404


@pytest.mark.parametrize(
    "bad",
    [
        {"n": 0},
        {"n": 11},
        {"size": "-5x10"},
        {"width": -1},
        {"size": "huge"},
        {"num_images": 11},
        {"prompt": ""},
        {"response_format": "gif"},
    ],
)
async def test_invalid_image_requests_charge_nothing(
    bad: dict[str, object], live_server: ServerProcess, platform: Platform
) -> None:
    model = await platform.model(
        [("simulator", "sim-image")],
        endpoint="images",
        category="image",
        unit="per_image",
        input_price="0.04",
        output_price="0",
    )
    account = await platform.account("1")
    response = httpx.post(
        f"{live_server.api_base}/images/generations",
        headers={"Authorization": f"Bearer {account.token}"},
        json={"model": model, "prompt": "fox", **bad},
    )
    assert response.status_code == 400, response.text
    assert (await platform.balance(account.user_id)).balance_nanos == nanos(1)


async def test_transcription_bills_the_measured_duration_not_the_claimed_one(
    live_server: ServerProcess, platform: Platform
) -> None:
    model = await platform.model(
        [("simulator", "sim-stt")],
        endpoint="transcription",
        category="audio",
        unit="per_minute",
        input_price="0.006",
        output_price="0",
    )
    account = await platform.account("1")
    audio = wav_bytes(12.5)
    client = sdk(live_server, account.token)
    result = client.audio.transcriptions.create(
        model=model, file=("talk.wav", audio, "audio/wav"), extra_body={"duration_seconds": 1}
    )
    assert result.text
    per_request = ceil_div(25 * 6_000_000, 2 * 60)  # 12.5 s at $0.006 per minute, rounded up once
    for fmt in ("text", "srt", "vtt", "verbose_json"):
        raw = httpx.post(
            f"{live_server.api_base}/audio/transcriptions",
            headers={"Authorization": f"Bearer {account.token}"},
            data={"model": model, "response_format": fmt, "duration_seconds": "0.1"},
            files={"file": ("talk.wav", audio, "audio/wav")},
        )
        assert raw.status_code == 200, raw.text
        assert raw.headers["x-modelsnest-audio-seconds"] == "12.500"
        if fmt == "srt":
            assert "-->" in raw.text and raw.text.startswith("1\n")
        if fmt == "vtt":
            assert raw.text.startswith("WEBVTT")
        if fmt == "verbose_json":
            assert exact_json(raw)["duration"] == 12.5
    assert (await platform.balance(account.user_id)).balance_nanos == nanos(1) - 5 * per_request


async def test_transcription_refuses_fake_audio_and_oversized_uploads_for_free(
    live_server: ServerProcess, platform: Platform
) -> None:
    model = await platform.model(
        [("simulator", "sim-stt")],
        endpoint="transcription",
        category="audio",
        unit="per_second",
        input_price="0.0001",
        output_price="0",
    )
    account = await platform.account("1")
    headers = {"Authorization": f"Bearer {account.token}"}
    url = f"{live_server.api_base}/audio/transcriptions"
    fake = httpx.post(
        url,
        headers=headers,
        data={"model": model},
        files={"file": ("song.mp3", b"this is not audio at all " * 100, "audio/mpeg")},
    )
    assert fake.status_code == 400 and fake.json()["error"]["code"] == "AUDIO_UNDECODABLE"
    huge = httpx.post(
        url,
        headers=headers,
        data={"model": model},
        files={"file": ("big.wav", b"\0" * (30 * 1024 * 1024), "audio/wav")},
        timeout=60,
    )
    assert huge.status_code == 413 and huge.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
    missing = httpx.post(url, headers=headers, data={"model": model})
    assert missing.status_code == 400
    assert (await platform.balance(account.user_id)).balance_nanos == nanos(1)


async def test_speech_counts_characters_on_the_server(live_server: ServerProcess, platform: Platform) -> None:
    model = await platform.model(
        [("simulator", "sim-tts")],
        endpoint="speech",
        category="audio",
        unit="per_1k_characters",
        input_price="0.015",
        output_price="0",
    )
    account = await platform.account("1")
    text = "Hello from Modelsnest, héllo wörld!"
    audio = sdk(live_server, account.token).audio.speech.create(
        model=model, voice="alloy", input=text, response_format="wav"
    )
    data = audio.read()
    with wave.open(io.BytesIO(data)) as decoded:
        assert decoded.getnframes() > 0
    first = ceil_div(len(text) * 15_000_000, 1000)
    ack = httpx.post(
        f"{live_server.api_base}/text-to-speech",
        headers={"Authorization": f"Bearer {account.token}"},
        json={"model": model, "text": "Twelve chars", "characters": 1},
    )
    body = exact_json(ack)
    assert ack.status_code == 200 and body["characters"] == 12
    fetched = httpx.get(body["audio"]["url"])
    assert fetched.status_code == 200 and fetched.content == base64.b64decode(body["audio"]["base64"])
    assert fetched.headers["content-type"].startswith(body["audio"]["content_type"])
    second = ceil_div(12 * 15_000_000, 1000)
    assert nanos(body["billing"]["cost_usd"]) == second
    assert (await platform.balance(account.user_id)).balance_nanos == nanos(1) - first - second


async def test_video_is_an_async_job_billed_on_success_and_private(
    live_server: ServerProcess, platform: Platform
) -> None:
    model = await platform.model(
        [("simulator", "sim-video")],
        endpoint="video",
        category="video",
        unit="per_second",
        input_price="0.05",
        output_price="0",
    )
    account, stranger = await platform.account("2"), await platform.account("1")
    headers = {"Authorization": f"Bearer {account.token}"}
    submitted = httpx.post(
        f"{live_server.api_base}/video/generations",
        headers=headers,
        json={"model": model, "prompt": "waves at sunset", "duration": 4},
    )
    assert submitted.status_code == 202
    job = submitted.json()
    assert job["status"] == "queued" and job["id"].startswith("vid_")
    held = await platform.balance(account.user_id)
    assert held.reserved_nanos == 4 * 50_000_000
    url = f"{live_server.api_base}/video/generations/{job['id']}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        state = httpx.get(url, headers=headers).json()
        if state["status"] in ("succeeded", "failed"):
            break
        await asyncio.sleep(0.3)
    assert state["status"] == "succeeded", state
    video = httpx.get(state["video_url"])
    assert video.status_code == 200
    assert video.content[:6] in (b"GIF89a", b"GIF87a") or video.content[4:8] == b"ftyp"
    balance = await platform.balance(account.user_id)
    assert balance.balance_nanos == nanos(2) - 4 * 50_000_000 and balance.reserved_nanos == 0
    hidden = httpx.get(url, headers={"Authorization": f"Bearer {stranger.token}"})
    assert hidden.status_code == 404
    for bad in ({"duration": 0}, {"duration": 61}, {"prompt": ""}):
        response = httpx.post(
            f"{live_server.api_base}/video/generations",
            headers=headers,
            json={"model": model, "prompt": "x", **bad},
        )
        assert response.status_code == 400
    assert (await platform.balance(account.user_id)).balance_nanos == balance.balance_nanos


async def test_video_jobs_survive_a_server_restart(
    live_database: str, platform: Platform, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from tests.live import start_server

    model = await platform.model(
        [("simulator", "sim-video")],
        endpoint="video",
        category="video",
        unit="per_second",
        input_price="0.05",
        output_price="0",
    )
    account = await platform.account("1")
    headers = {"Authorization": f"Bearer {account.token}"}
    first = start_server(
        live_database, tmp_path_factory.mktemp("before"), extra_env={"MODELSNEST_VIDEO_POLL_SECONDS": "3"}
    )
    try:
        job = httpx.post(
            f"{first.api_base}/video/generations",
            headers=headers,
            json={"model": model, "prompt": "restart me", "duration": 2},
        ).json()
    finally:
        first.stop()  # dies before it ever polls the job
    assert (await platform.balance(account.user_id)).reserved_nanos == 2 * 50_000_000
    second = start_server(live_database, tmp_path_factory.mktemp("after"))
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            state = httpx.get(f"{second.api_base}/video/generations/{job['id']}", headers=headers).json()
            if state["status"] in ("succeeded", "failed"):
                break
            await asyncio.sleep(0.3)
    finally:
        second.stop()
    assert state["status"] == "succeeded"
    balance = await platform.balance(account.user_id)
    assert balance.balance_nanos == nanos(1) - 2 * 50_000_000 and balance.reserved_nanos == 0
