"""The paid routes are declared once and served the same way with the fast lane on (ahead of
FastAPI) and off (through FastAPI's router): same status, headers and body, errors included."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.api.conftest import AppClient
from tests.gateway.helpers import chat_body
from tests.live import Platform, free_port

VOLATILE_KEYS = {"id", "created", "system_fingerprint"}
VOLATILE_HEADERS = {"x-request-id", "date", "content-length", "x-ratelimit-reset-requests"}


def _normal(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items() if k not in VOLATILE_KEYS}
    if isinstance(value, list):
        return [_normal(v) for v in value]
    return value


def _body(response: httpx.Response) -> Any:
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        return [
            line if line == "data: [DONE]" else _normal(json.loads(line[len("data: ") :]))
            for line in response.text.splitlines()
            if line.startswith("data: ")
        ]
    return _normal(response.json())


def _seen(response: httpx.Response) -> tuple[int, dict[str, str], Any]:
    headers = {k: v for k, v in response.headers.items() if k not in VOLATILE_HEADERS}
    if "retry-after" in headers:  # seconds to the window's end: present either way, value varies
        headers["retry-after"] = "…" if int(headers["retry-after"]) > 0 else "0"
    return response.status_code, headers, _body(response)


async def _script(client: httpx.AsyncClient, platform: Platform, dead_model: str) -> list[Any]:
    rich = await platform.account("5")
    broke = await platform.account("0")
    limited = await platform.account("5", rpm_limit=1)
    auth = {"Authorization": f"Bearer {rich.token}"}
    url = "/api/v1/chat/completions"
    return [
        _seen(await client.post(url, json=chat_body("deepseek"), headers=auth)),
        _seen(
            await client.post(
                url,
                json=chat_body("deepseek", stream=True, stream_options={"include_usage": True}),
                headers=auth,
            )
        ),
        _seen(
            await client.post(
                "/api/v1/embeddings", json={"model": "text-embedding-3-small", "input": "hi"}, headers=auth
            )
        ),
        _seen(await client.post(url, json=chat_body("deepseek"))),
        _seen(
            await client.post(url, json=chat_body("deepseek"), headers={"Authorization": "Bearer ptr_nope"})
        ),
        _seen(
            await client.post(
                url, json=chat_body("deepseek"), headers={"Authorization": f"Bearer {broke.token}"}
            )
        ),
        _seen(
            await client.post(
                url, json=chat_body("deepseek"), headers={"Authorization": f"Bearer {limited.token}"}
            )
        ),
        _seen(
            await client.post(
                url, json=chat_body("deepseek"), headers={"Authorization": f"Bearer {limited.token}"}
            )
        ),
        _seen(await client.post(url, json=chat_body(dead_model), headers=auth)),
        _seen(await client.post(url, content=b"{not json", headers=auth)),
        _seen(await client.post(url, content=b"x" * 5000, headers=auth)),
        _seen(await client.post(url, json={"messages": []}, headers=auth)),
    ]


async def test_lane_on_and_off_answer_alike(app_client: AppClient, platform: Platform) -> None:
    dead = await platform.provider("openai", f"http://127.0.0.1:{free_port()}/v1", connect_timeout=0.5)
    dead_model = await platform.model([(dead, "m")])
    answers = {}
    for lane in (True, False):
        async with app_client(fast_lane=lane, max_json_body_bytes=4096) as client:
            answers[lane] = await _script(client, platform, dead_model)
    statuses = [status for status, _, _ in answers[True]]
    assert statuses == [200, 200, 200, 401, 401, 402, 200, 429, 502, 400, 413, 400]
    for on, off in zip(answers[True], answers[False], strict=True):
        assert on == off
