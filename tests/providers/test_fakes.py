"""The fake upstreams themselves: thread mode, subprocess mode and their control endpoints."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import orjson

from tests.fakes.elevenlabs_upstream import FakeElevenLabsUpstream
from tests.fakes.openai_upstream import FakeOpenAIUpstream
from tests.fakes.server import Behaviour, FakeControl, FakeToolCall, fake_prompt_tokens

CHAT = {"model": "m", "messages": [{"role": "user", "content": "hello there"}]}


def test_thread_mode_from_sync_code() -> None:
    with FakeOpenAIUpstream() as fake:
        fake.set(reply="one two", cached_tokens=1)
        answer = httpx.post(f"{fake.base_url}/chat/completions", json=CHAT).json()
        assert answer["choices"][0]["message"]["content"] == "one two"
        assert answer["usage"]["prompt_tokens"] == fake_prompt_tokens(CHAT["messages"])
        assert answer["usage"]["prompt_tokens_details"]["cached_tokens"] == 1
        assert fake.calls == 1 and fake.last.json == CHAT
        fake.reset()
        assert fake.calls == 0 and fake.behaviour == Behaviour()


def test_openai_usage_chunk_only_when_asked() -> None:
    with FakeOpenAIUpstream() as fake:
        fake.set(reply="one two")
        body = httpx.post(f"{fake.base_url}/chat/completions", json={**CHAT, "stream": True}).text
        assert '"usage"' not in body and body.endswith("data: [DONE]\n\n")
        asked = {**CHAT, "stream": True, "stream_options": {"include_usage": True}}
        body = httpx.post(f"{fake.base_url}/chat/completions", json=asked).text
        events = [orjson.loads(line[6:]) for line in body.split("\n\n") if line and line != "data: [DONE]"]
        assert events[-1]["choices"] == [] and events[-1]["usage"]["completion_tokens"] == 2
        assert all(event["usage"] is None for event in events[:-1])


def test_subprocess_mode_with_control(
    fake_upstream_process: Callable[[str], tuple[str, FakeControl]],
) -> None:
    base_url, control = fake_upstream_process("anthropic")
    control.set_behaviour(tool_calls=[{"name": "lookup", "arguments": {"q": "x"}}], tool_preamble="Looking.")
    headers = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
    body = {"model": "c", "max_tokens": 50, "messages": [{"role": "user", "content": "hi"}]}
    answer = httpx.post(f"{base_url}/v1/messages", json=body, headers=headers).json()
    assert [block["type"] for block in answer["content"]] == ["text", "tool_use"]
    assert answer["stop_reason"] == "tool_use" and answer["content"][1]["input"] == {"q": "x"}
    assert control.requests()[0]["json"] == body
    assert control.state() == {"calls": 1, "disconnects": 0}
    control.reset()
    assert control.state()["calls"] == 0


def test_behaviour_from_json() -> None:
    behaviour = Behaviour.from_json({"status": 503, "tool_calls": [{"name": "f", "arguments": "{}"}]})
    assert behaviour.status == 503 and behaviour.tool_calls == [FakeToolCall("f", "{}")]


def test_novita_subprocess_runs_a_video_task(
    fake_upstream_process: Callable[[str], tuple[str, FakeControl]],
) -> None:
    base_url, control = fake_upstream_process("novita")
    assert base_url.endswith("/v3/openai")
    root = base_url.removesuffix("/v3/openai")
    control.set_behaviour(task_queued_polls=0, task_processing_polls=0)
    task_id = httpx.post(f"{root}/v3/async/kling-v2.1-t2v-master", json={"prompt": "p"}).json()["task_id"]
    result = httpx.get(f"{root}/v3/async/task-result", params={"task_id": task_id}).json()
    assert result["task"]["status"] == "TASK_STATUS_SUCCEED"
    video = httpx.get(result["videos"][0]["video_url"])
    assert video.headers["content-type"] == "video/mp4" and video.content[4:8] == b"ftyp"
    assert [row["path"] for row in control.requests()] == [
        "/v3/async/kling-v2.1-t2v-master",
        "/v3/async/task-result",
    ]
    assert control.requests()[1]["query"] == {"task_id": task_id}


def test_elevenlabs_thread_mode() -> None:
    with FakeElevenLabsUpstream() as fake:
        answer = httpx.post(
            f"{fake.base_url}/v1/text-to-speech/JBFqnCBsd6RMkjVDRZzb",
            params={"output_format": "pcm_16000"},
            json={"text": "Hello", "model_id": "eleven_v3"},
        )
        assert answer.status_code == 200 and len(answer.content) == 16000  # 0.5 s of 16-bit samples
        bad = httpx.post(f"{fake.base_url}/v1/text-to-speech/JBFqnCBsd6RMkjVDRZzb", json={"model_id": "m"})
        assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "text"]
        assert fake.calls == 2 and fake.requests[0].query == {"output_format": "pcm_16000"}


def test_multipart_requests_are_parsed() -> None:
    with FakeOpenAIUpstream() as fake:
        files = {"file": ("a.bin", b"\x00\x01 binary \r\n--", "application/octet-stream")}
        httpx.post(
            f"{fake.base_url}/audio/transcriptions", data={"model": "whisper-1", "x": "é"}, files=files
        )
        recorded = fake.last
        assert recorded.form == {"model": "whisper-1", "x": "é"}
        upload = recorded.files["file"]
        assert (upload.filename, upload.data, upload.content_type) == files["file"]
