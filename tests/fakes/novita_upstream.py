"""A fake Novita AI: its OpenAI-compatible API under ``/v3/openai`` (everything
``FakeOpenAIUpstream`` serves) and its asynchronous task API:

* ``POST /v3/async/<endpoint>`` (any endpoint name): the body needs a ``prompt`` (or
  ``input.prompt``) → ``{"task_id"}``; the task remembers its endpoint and body
  (``fake.tasks``).
* ``GET /v3/async/task-result?task_id=…``: each poll advances the task:
  ``Behaviour.task_queued_polls`` polls ``TASK_STATUS_QUEUED``, then
  ``task_processing_polls`` polls ``TASK_STATUS_PROCESSING`` (rising ``progress_percent``),
  then ``TASK_STATUS_FAILED`` with ``task_fail_reason`` when set, else ``TASK_STATUS_SUCCEED``
  with ``videos: [{"video_url", "video_url_ttl", "video_type": "mp4"}]``; the URL is served by
  the fake (``fake_mp4`` bytes for the task). Unknown task → 404.

``base_url`` is ``http://127.0.0.1:<port>/v3/openai``. Errors of the async API (forced with
``Behaviour.status``, or a bad key with ``expected_api_key``) use Novita's body
``{"code", "reason", "message", "metadata"}``.

    python -m tests.fakes.novita_upstream --port 18003
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.fakes.openai_upstream import FakeOpenAIUpstream
from tests.fakes.server import serve_forever

__all__ = ["FakeNovitaUpstream", "FakeTask", "fake_mp4", "novita_error"]

_REASONS = {
    400: "BAD_REQUEST",
    401: "INVALID_API_KEY",
    403: "NOT_ENOUGH_BALANCE",
    404: "TASK_NOT_FOUND",
    429: "RATE_LIMIT_EXCEEDED",
    500: "MODEL_NOT_AVAILABLE",
}


def novita_error(status: int, message: str | None = None) -> dict[str, Any]:
    reason = _REASONS.get(status, "INTERNAL_ERROR")
    return {
        "code": status,
        "reason": reason,
        "message": message or f"fake novita error {status}",
        "metadata": {},
    }


def fake_mp4(task_id: str) -> bytes:
    """A small file that starts like an MP4 (``ftyp`` box), different for every task."""
    ftyp = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
    payload = task_id.encode() * 8
    return ftyp + (8 + len(payload)).to_bytes(4, "big") + b"mdat" + payload


@dataclass
class FakeTask:
    endpoint: str
    body: Any
    polls: int = 0


class FakeNovitaUpstream(FakeOpenAIUpstream):
    api_prefix = "/v3/openai"
    name = "novita"

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host, port)
        self.tasks: dict[str, FakeTask] = {}

    def reset(self) -> None:
        super().reset()
        self.tasks = {}

    def add_routes(self, app: web.Application) -> None:
        super().add_routes(app)
        app.router.add_get("/v3/async/task-result", self.task_result)
        app.router.add_post("/v3/async/{endpoint:.+}", self.submit)

    async def _check_task_call(self, request: web.Request) -> tuple[Any, web.Response | None]:
        recorded, generation = await self.record(request)
        b = self.behaviour
        await self.delay_headers(generation)
        status = self.forced_failure()
        if status is not None:
            return recorded, self.error_response(
                status, b.error_body if b.error_body is not None else novita_error(status)
            )
        if (
            b.expected_api_key is not None
            and request.headers.get("Authorization") != f"Bearer {b.expected_api_key}"
        ):
            return recorded, self.error_response(401, novita_error(401, "invalid api key"))
        return recorded, None

    async def submit(self, request: web.Request) -> web.Response:
        recorded, failed = await self._check_task_call(request)
        if failed is not None:
            return failed
        body = recorded.json
        prompt = (
            body.get("prompt") or (body.get("input") or {}).get("prompt") if isinstance(body, dict) else None
        )
        if not prompt:
            return self.error_response(400, novita_error(400, "prompt is required"))
        task_id = str(uuid.uuid4())
        self.tasks[task_id] = FakeTask(request.match_info["endpoint"], body)
        return web.json_response({"task_id": task_id})

    async def task_result(self, request: web.Request) -> web.Response:
        _, failed = await self._check_task_call(request)
        if failed is not None:
            return failed
        task_id = request.query.get("task_id", "")
        task = self.tasks.get(task_id)
        if task is None:
            return self.error_response(404, novita_error(404, "task not found"))
        task.polls += 1
        b = self.behaviour
        queued, processing = b.task_queued_polls, b.task_processing_polls
        info: dict[str, Any] = {
            "task_id": task_id,
            "task_type": "TXT_TO_VIDEO",
            "status": "TASK_STATUS_QUEUED",
            "reason": "",
            "eta": 0,
            "progress_percent": 0,
        }
        answer: dict[str, Any] = {
            "task": info,
            "images": [],
            "videos": [],
            "audios": [],
            "extra": {"seed": "-1"},
        }
        if task.polls <= queued:
            pass
        elif task.polls <= queued + processing:
            info["status"] = "TASK_STATUS_PROCESSING"
            info["progress_percent"] = (task.polls - queued) * 100 // (processing + 1)
        elif b.task_fail_reason is not None:
            info["status"] = "TASK_STATUS_FAILED"
            info["reason"] = b.task_fail_reason
        else:
            info["status"] = "TASK_STATUS_SUCCEED"
            info["progress_percent"] = 100
            url = self.host_file(fake_mp4(task_id), "video/mp4", ".mp4")
            answer["videos"] = [{"video_url": url, "video_url_ttl": "3600", "video_type": "mp4"}]
        return web.json_response(answer)


if __name__ == "__main__":
    serve_forever(FakeNovitaUpstream())
