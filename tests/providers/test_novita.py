"""Novita: the OpenAI-compatible part under /v3/openai and the asynchronous video task API,
against the fake Novita upstream over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from modelsnest.providers.errors import (
    ProviderAuthError,
    ProviderBadRequest,
    ProviderDownloadError,
    ProviderServerError,
)
from modelsnest.providers.media_types import VideoRequest, VideoStatus
from modelsnest.providers.novita import NovitaProvider, async_base_url
from modelsnest.providers.novita_video import aspect_ratio, video_body
from modelsnest.providers.registry import build_provider
from modelsnest.providers.types import ProviderConfig
from tests.fakes.novita_upstream import FakeNovitaUpstream, fake_mp4


@pytest.fixture
async def provider(novita_upstream: FakeNovitaUpstream) -> AsyncIterator[NovitaProvider]:
    config = ProviderConfig(
        name="novita", kind="novita", base_url=novita_upstream.base_url, api_key="sk_novita", total_timeout=10
    )
    adapter = build_provider(config)
    assert isinstance(adapter, NovitaProvider)
    yield adapter
    await adapter.close()


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        (None, "https://api.novita.ai/v3/async"),
        ("https://api.novita.ai/v3/openai", "https://api.novita.ai/v3/async"),
        ("https://api.novita.ai/openai/v1/", "https://api.novita.ai/v3/async"),
        ("https://api.novita.ai/openai", "https://api.novita.ai/v3/async"),
        ("http://127.0.0.1:9/v1", "http://127.0.0.1:9/v3/async"),
    ],
)
def test_async_base_url(base_url: str | None, expected: str) -> None:
    assert async_base_url(ProviderConfig(name="n", kind="novita", base_url=base_url)) == expected


def test_async_base_url_override() -> None:
    config = ProviderConfig(
        name="n", kind="novita", extra={"async_base_url": "https://tasks.example/v3/async/"}
    )
    assert async_base_url(config) == "https://tasks.example/v3/async"


async def test_chat_and_embeddings_use_the_openai_compatible_base(
    provider: NovitaProvider, novita_upstream: FakeNovitaUpstream
) -> None:
    result = await provider.chat({"messages": [{"role": "user", "content": "hi"}]}, "meta-llama/llama-3.1-8b")
    assert novita_upstream.last.path == "/v3/openai/chat/completions" and result.usage.reported
    await provider.embeddings({"input": "hello"}, "baai/bge-m3")
    assert novita_upstream.last.path == "/v3/openai/embeddings"
    assert novita_upstream.last.headers["Authorization"] == "Bearer sk_novita"


async def poll_until_done(provider: NovitaProvider, task_id: str, limit: int = 10) -> list[VideoStatus]:
    seen = []
    for _ in range(limit):
        status = await provider.poll_video(task_id, "kling-v2.1-t2v-master")
        seen.append(status)
        if status.state in ("succeeded", "failed"):
            break
    return seen


async def test_video_task_queued_running_succeeded(
    provider: NovitaProvider, novita_upstream: FakeNovitaUpstream
) -> None:
    request = VideoRequest(
        prompt="a fox in snow", duration_seconds=10, width=1280, height=720, extra={"negative_prompt": "blur"}
    )
    task = await provider.submit_video(request, "kling-v2.1-t2v-master")
    submitted = novita_upstream.last
    assert submitted.path == "/v3/async/kling-v2.1-t2v-master"
    assert submitted.headers["Authorization"] == "Bearer sk_novita"
    assert submitted.json == {
        "prompt": "a fox in snow",
        "duration": "10",
        "aspect_ratio": "16:9",
        "negative_prompt": "blur",
    }
    seen = await poll_until_done(provider, task.task_id)
    assert [(s.state, s.progress) for s in seen] == [
        ("queued", 0),
        ("running", 33),
        ("running", 66),
        ("succeeded", 100),
    ]
    assert novita_upstream.requests[-1].query == {"task_id": task.task_id}
    done = seen[-1]
    assert done.video == fake_mp4(task.task_id) and done.content_type == "video/mp4"
    assert len(novita_upstream.downloads) == 1


async def test_failed_video_task(provider: NovitaProvider, novita_upstream: FakeNovitaUpstream) -> None:
    novita_upstream.set(task_queued_polls=0, task_processing_polls=1, task_fail_reason="content moderation")
    task = await provider.submit_video(VideoRequest(prompt="x", duration_seconds=6), "minimax-hailuo-02")
    seen = await poll_until_done(provider, task.task_id)
    assert [s.state for s in seen] == ["running", "failed"]
    assert seen[-1].error == "content moderation" and seen[-1].video is None


async def test_video_download_failure(provider: NovitaProvider, novita_upstream: FakeNovitaUpstream) -> None:
    novita_upstream.set(task_queued_polls=0, task_processing_polls=0, download_status=404)
    task = await provider.submit_video(VideoRequest(prompt="x", duration_seconds=5), "wan2.7-t2v")
    with pytest.raises(ProviderDownloadError, match="404"):
        await provider.poll_video(task.task_id, "wan2.7-t2v")


async def test_unknown_task_and_bad_endpoint(
    provider: NovitaProvider, novita_upstream: FakeNovitaUpstream
) -> None:
    with pytest.raises(ProviderBadRequest, match="task not found"):
        await provider.poll_video("nope", "kling")
    with pytest.raises(ProviderBadRequest, match="invalid Novita video endpoint"):
        await provider.submit_video(VideoRequest(prompt="x", duration_seconds=5), "../v3/openai/chat")
    assert novita_upstream.calls == 1


@pytest.mark.parametrize(("status", "error"), [(403, ProviderAuthError), (500, ProviderServerError)])
async def test_async_api_errors(
    provider: NovitaProvider, novita_upstream: FakeNovitaUpstream, status: int, error: type[Exception]
) -> None:
    novita_upstream.set(status=status)
    with pytest.raises(error, match=f"fake novita error {status}"):
        await provider.submit_video(VideoRequest(prompt="x", duration_seconds=5), "kling-v2.1-t2v-master")


def test_video_bodies_per_family() -> None:
    request = VideoRequest(
        prompt="p", duration_seconds=6, width=720, height=1280, image_url="https://i/x.png"
    )
    assert video_body("minimax-hailuo-02", request) == {
        "prompt": "p",
        "duration": 6,
        "image": "https://i/x.png",
    }
    assert video_body("minimax-video-01", request) == {"prompt": "p", "image_url": "https://i/x.png"}
    assert video_body("kling-v2.1-i2v-master", request) == {
        "prompt": "p",
        "duration": "6",
        "image": "https://i/x.png",
    }
    assert video_body("seedance-v1-pro-t2v", request) == {
        "prompt": "p",
        "duration": 6,
        "aspect_ratio": "9:16",
        "resolution": "720p",
        "image": "https://i/x.png",
    }
    assert video_body(
        "wan-2.2-t2v", VideoRequest(prompt="p", duration_seconds=5, width=1280, height=720)
    ) == {
        "input": {"prompt": "p"},
        "parameters": {"duration": 5, "size": "1280*720"},
    }
    assert video_body("wan2.7-i2v", request) == {
        "prompt": "p",
        "duration": 6,
        "resolution": "720P",
        "image_url": "https://i/x.png",
    }
    hunyuan = video_body(
        "hunyuan-video-fast", VideoRequest(prompt="p", duration_seconds=5, extra={"steps": 10})
    )
    assert hunyuan == {
        "prompt": "p",
        "model_name": "hunyuan-video-fast",
        "width": 1280,
        "height": 720,
        "seed": -1,
        "steps": 10,
    }
    assert video_body("new-model", VideoRequest(prompt="p", duration_seconds=4)) == {
        "prompt": "p",
        "duration": 4,
    }


def test_aspect_ratio_is_the_nearest_choice() -> None:
    assert aspect_ratio(1920, 1080, ("16:9", "9:16", "1:1")) == "16:9"
    assert aspect_ratio(1000, 1100, ("16:9", "9:16", "1:1")) == "1:1"
    assert aspect_ratio(2560, 1080, ("21:9", "16:9", "4:3")) == "21:9"
