"""Every modality against a fake of each real provider type (OpenAI-compatible, ElevenLabs,
Novita), with fallback and 502s that charge nothing."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from tests.fakes.elevenlabs_upstream import FakeElevenLabsUpstream
from tests.fakes.novita_upstream import FakeNovitaUpstream
from tests.fakes.openai_upstream import FakeOpenAIUpstream
from tests.gateway.helpers import ceil_div, exact_json, nanos, sdk, wav_bytes
from tests.live import Platform, ServerProcess

pytestmark = pytest.mark.postgres


async def test_openai_compatible_media_endpoints(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    provider = await platform.provider("openai", openai_upstream.base_url, api_key="sk-media")
    embed = await platform.model(
        [(provider, "text-embedding-3-small")],
        endpoint="embeddings",
        category="embeddings",
        input_price="0.00002",
        output_price="0",
    )
    image = await platform.model(
        [(provider, "dall-e-3")],
        endpoint="images",
        category="image",
        unit="per_image",
        input_price="0.04",
        output_price="0",
    )
    stt = await platform.model(
        [(provider, "whisper-1")],
        endpoint="transcription",
        category="audio",
        unit="per_minute",
        input_price="0.006",
        output_price="0",
    )
    tts = await platform.model(
        [(provider, "tts-1")],
        endpoint="speech",
        category="audio",
        unit="per_1k_characters",
        input_price="0.015",
        output_price="0",
    )
    account = await platform.account("1")
    client = sdk(live_server, account.token)

    vectors = client.embeddings.create(model=embed, input=["alpha", "beta gamma"])
    assert len(vectors.data) == 2 and openai_upstream.last.json["model"] == "text-embedding-3-small"
    spent = ceil_div(vectors.usage.prompt_tokens * 20_000, 1000)

    pictures = client.images.generate(model=image, prompt="a lighthouse", n=2, size="1024x1024")
    assert len(pictures.data) == 2 and all(p.url.startswith(live_server.base_url) for p in pictures.data)
    assert all(httpx.get(p.url).status_code == 200 for p in pictures.data)
    spent += 2 * 40_000_000

    transcript = client.audio.transcriptions.create(model=stt, file=("a.wav", wav_bytes(30), "audio/wav"))
    assert transcript.text
    sent = openai_upstream.last
    assert sent.form.get("model") == "whisper-1"
    spent += ceil_div(30 * 6_000_000, 60)

    audio = client.audio.speech.create(model=tts, voice="nova", input="Hello there", response_format="mp3")
    assert audio.read()
    spent += ceil_div(len("Hello there") * 15_000_000, 1000)
    assert (await platform.balance(account.user_id)).balance_nanos == nanos(1) - spent
    assert await platform.invariants(account.user_id) == []


async def test_elevenlabs_speech(
    live_server: ServerProcess, platform: Platform, elevenlabs_upstream: FakeElevenLabsUpstream
) -> None:
    provider = await platform.provider("elevenlabs", elevenlabs_upstream.base_url, api_key="xi-key")
    model = await platform.model(
        [(provider, "eleven_v3")],
        endpoint="speech",
        category="audio",
        unit="per_1k_characters",
        input_price="0.1",
        output_price="0",
    )
    account = await platform.account("1")
    response = httpx.post(
        f"{live_server.api_base}/audio/speech",
        headers={"Authorization": f"Bearer {account.token}"},
        json={"model": model, "input": "Bonjour à tous", "voice": "alloy", "characters": 2},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("audio/") and response.content
    assert response.headers["x-modelsnest-characters"] == str(len("Bonjour à tous"))
    assert elevenlabs_upstream.last.headers.get("xi-api-key") == "xi-key"
    cost = ceil_div(len("Bonjour à tous") * 100_000_000, 1000)
    assert (await platform.balance(account.user_id)).balance_nanos == nanos(1) - cost


async def wait_for_job(server: ServerProcess, token: str, job_id: str) -> dict[str, object]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        state = httpx.get(
            f"{server.api_base}/video/generations/{job_id}", headers={"Authorization": f"Bearer {token}"}
        ).json()
        if state["status"] in ("succeeded", "failed"):
            return state  # type: ignore[no-any-return]
        await asyncio.sleep(0.3)
    raise AssertionError("the video job did not finish")


async def test_novita_video_success_and_failure(
    live_server: ServerProcess, platform: Platform, novita_upstream: FakeNovitaUpstream
) -> None:
    provider = await platform.provider("novita", novita_upstream.base_url, api_key="nv-key")
    model = await platform.model(
        [(provider, "kling-v2.1-t2v-master")],
        endpoint="video",
        category="video",
        unit="per_second",
        input_price="0.1",
        output_price="0",
    )
    account = await platform.account("5")
    headers = {"Authorization": f"Bearer {account.token}"}
    novita_upstream.set(task_queued_polls=1, task_processing_polls=2)
    job = httpx.post(
        f"{live_server.api_base}/video/generations",
        headers=headers,
        json={"model": model, "prompt": "a cat surfing", "duration": 5},
    ).json()
    state = await wait_for_job(live_server, account.token, job["id"])
    assert state["status"] == "succeeded"
    video = httpx.get(str(state["video_url"]))
    assert video.content[4:8] == b"ftyp" and str(state["video_url"]).startswith(live_server.base_url)
    assert (await platform.balance(account.user_id)).balance_nanos == nanos(5) - 5 * 100_000_000

    novita_upstream.set(task_fail_reason="content policy")
    job = httpx.post(
        f"{live_server.api_base}/video/generations",
        headers=headers,
        json={"model": model, "prompt": "a dog surfing", "duration": 5},
    ).json()
    state = await wait_for_job(live_server, account.token, job["id"])
    assert state["status"] == "failed" and "content policy" in str(state["error"])
    balance = await platform.balance(account.user_id)
    assert balance.balance_nanos == nanos(5) - 5 * 100_000_000 and balance.reserved_nanos == 0
    assert await platform.invariants(account.user_id) == []


@pytest.mark.parametrize("endpoint", ["embeddings", "images", "transcription", "speech", "video"])
async def test_a_failing_upstream_falls_back_or_is_a_free_502(
    endpoint: str, live_server: ServerProcess, platform: Platform
) -> None:
    units = {
        "embeddings": ("per_1k_tokens", "embeddings"),
        "images": ("per_image", "image"),
        "transcription": ("per_second", "audio"),
        "speech": ("per_character", "audio"),
        "video": ("per_second", "video"),
    }
    unit, category = units[endpoint]
    with FakeNovitaUpstream() as broken:
        broken.set(status=500)
        failing = await platform.provider("novita", broken.base_url)
        alone = await platform.model(
            [(failing, "x")],
            endpoint=endpoint,
            category=category,
            unit=unit,
            input_price="0.001",
            output_price="0",
        )
        backed = await platform.model(
            [(failing, "x", 1), ("simulator", "sim", 2)],
            endpoint=endpoint,
            category=category,
            unit=unit,
            input_price="0.001",
            output_price="0",
        )
        account = await platform.account("1")
        headers = {"Authorization": f"Bearer {account.token}"}

        def call(model: str) -> httpx.Response:
            base = live_server.api_base
            if endpoint == "embeddings":
                return httpx.post(f"{base}/embeddings", headers=headers, json={"model": model, "input": "hi"})
            if endpoint == "images":
                return httpx.post(
                    f"{base}/images/generations", headers=headers, json={"model": model, "prompt": "x"}
                )
            if endpoint == "transcription":
                return httpx.post(
                    f"{base}/audio/transcriptions",
                    headers=headers,
                    data={"model": model},
                    files={"file": ("a.wav", wav_bytes(2), "audio/wav")},
                )
            if endpoint == "speech":
                return httpx.post(
                    f"{base}/audio/speech",
                    headers=headers,
                    json={"model": model, "input": "hi", "response_format": "wav"},
                )
            return httpx.post(
                f"{base}/video/generations",
                headers=headers,
                json={"model": model, "prompt": "x", "duration": 2},
            )

        failed = call(alone)
        assert failed.status_code == 502, failed.text
        assert (await platform.balance(account.user_id)).balance_nanos == nanos(1)
        served = call(backed)
        assert served.status_code in (200, 202), served.text
        assert served.headers["x-modelsnest-provider"] == "simulator"
        usage = exact_json(httpx.get(f"{live_server.api_base}/usage", headers=headers))["data"]
        assert any(e["status"] == "error" and nanos(e["cost_usd"]) == 0 for e in usage)
    assert (await platform.balance(account.user_id)).reserved_nanos >= 0
    assert await platform.invariants(account.user_id) == []
