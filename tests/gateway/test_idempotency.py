"""``Idempotency-Key`` on every paid POST: a retry (after a timeout, say) returns the stored
answer — same status, body, media type and headers — and is never charged twice; the same key
with another body is a 409; a video submit retried finds its first job."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.gateway.helpers import chat_body, wav_bytes
from tests.live import Platform, ServerProcess

SIMULATED = {
    "chat": ("chat", "text", "per_1k_tokens", "sim-chat"),
    "embeddings": ("embeddings", "embeddings", "per_1k_tokens", "sim-embed"),
    "images": ("images", "image", "per_image", "sim-image"),
    "speech": ("speech", "audio", "per_character", "sim-tts"),
    "text-to-speech": ("speech", "audio", "per_character", "sim-tts"),
    "transcription": ("transcription", "audio", "per_second", "sim-stt"),
    "video": ("video", "video", "per_second", "sim-video"),
}


def _request(kind: str, model: str) -> dict[str, Any]:
    if kind == "chat":
        return {"url": "/chat/completions", "json": chat_body(model)}
    if kind == "embeddings":
        return {"url": "/embeddings", "json": {"model": model, "input": "a retried embedding"}}
    if kind == "images":
        return {"url": "/images/generations", "json": {"model": model, "prompt": "a nest", "n": 2}}
    if kind == "speech":
        return {"url": "/audio/speech", "json": {"model": model, "input": "said once", "voice": "alloy"}}
    if kind == "text-to-speech":
        return {"url": "/text-to-speech", "json": {"model": model, "text": "said once"}}
    if kind == "transcription":
        return {
            "url": "/audio/transcriptions",
            "data": {"model": model},
            "files": {"file": ("clip.wav", wav_bytes(1.5), "audio/wav")},
        }
    return {"url": "/video/generations", "json": {"model": model, "prompt": "a nest", "duration": 2}}


@pytest.mark.parametrize("kind", sorted(SIMULATED))
async def test_a_retried_paid_post_is_answered_from_storage_and_charged_once(
    kind: str, live_server: ServerProcess, platform: Platform
) -> None:
    endpoint, category, unit, upstream = SIMULATED[kind]
    model = await platform.model(
        [("simulator", upstream)], endpoint=endpoint, category=category, unit=unit, input_price="0.01"
    )
    account = await platform.account("5")
    headers = {"Authorization": f"Bearer {account.token}", "Idempotency-Key": f"retry-{kind}"}
    spec = _request(kind, model)
    url = live_server.api_base + spec.pop("url")

    first = httpx.post(url, headers=headers, timeout=30, **spec)
    assert first.status_code in (200, 202), first.text
    after_first = await platform.balance(account.user_id)
    # multipart bodies get a fresh boundary on every send: the form, not its framing, is compared
    second = httpx.post(url, headers=headers, timeout=30, **spec)

    assert second.status_code == first.status_code
    assert second.content == first.content
    assert second.headers["content-type"] == first.headers["content-type"]
    assert second.headers["idempotent-replayed"] == "true"
    assert second.headers["x-modelsnest-cost-usd"] == first.headers["x-modelsnest-cost-usd"]
    assert second.headers["x-request-id"] != first.headers["x-request-id"]
    assert await platform.balance(account.user_id) == after_first
    assert after_first.available_nanos < 5 * 10**9  # the first answer was paid for (or held, for a job)
    assert await platform.invariants(account.user_id) == []


async def test_the_same_key_with_another_body_is_a_conflict_and_costs_nothing(
    live_server: ServerProcess, platform: Platform
) -> None:
    model = await platform.model(
        [("simulator", "sim-image")], endpoint="images", category="image", unit="per_image"
    )
    account = await platform.account("5")
    headers = {"Authorization": f"Bearer {account.token}", "Idempotency-Key": "one-key"}
    url = f"{live_server.api_base}/images/generations"
    assert httpx.post(url, headers=headers, json={"model": model, "prompt": "first"}).status_code == 200
    before = await platform.balance(account.user_id)
    clash = httpx.post(url, headers=headers, json={"model": model, "prompt": "second"})
    assert clash.status_code == 409 and clash.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert await platform.balance(account.user_id) == before


async def test_a_failed_request_frees_its_key_for_the_retry(
    live_server: ServerProcess, platform: Platform
) -> None:
    model = await platform.model(
        [("simulator", "sim-tts")], endpoint="speech", category="audio", unit="per_character"
    )
    account = await platform.account("5")
    headers = {"Authorization": f"Bearer {account.token}", "Idempotency-Key": "after-a-400"}
    url = f"{live_server.api_base}/audio/speech"
    bad = httpx.post(url, headers=headers, json={"model": model, "input": "x", "speed": 9})
    assert bad.status_code == 400
    good = httpx.post(url, headers=headers, json={"model": model, "input": "x"})
    assert good.status_code == 200 and "idempotent-replayed" not in good.headers


async def test_a_retried_video_submit_returns_the_first_job(
    live_server: ServerProcess, platform: Platform
) -> None:
    model = await platform.model(
        [("simulator", "sim-video")],
        endpoint="video",
        category="video",
        unit="per_second",
        input_price="0.01",
    )
    account = await platform.account("5")
    headers = {"Authorization": f"Bearer {account.token}", "Idempotency-Key": "video-once"}
    body = {"model": model, "prompt": "a nest at dawn", "duration": 3}
    first = httpx.post(f"{live_server.api_base}/video/generations", headers=headers, json=body)
    second = httpx.post(f"{live_server.api_base}/video/generations", headers=headers, json=body)
    assert first.status_code == second.status_code == 202
    assert first.json()["id"] == second.json()["id"]
    balance = await platform.balance(account.user_id)
    # one job, one hold (or, once it finished, one charge): never two
    assert balance.reserved_nanos + (5 * 10**9 - balance.balance_nanos) == 3 * 10**7
