"""Novita AI: chat, embeddings, images, transcription and speech through its OpenAI-compatible
API (``https://api.novita.ai/v3/openai``, as ``OpenAICompatProvider``), and video through its
asynchronous task API:

* submit: ``POST {async}/<upstream_model>`` (the route's upstream model is the endpoint name,
  e.g. ``kling-v2.1-t2v-master``; body from ``novita_video.video_body``) → ``{"task_id"}``;
* poll:   ``GET {async}/task-result?task_id=…`` → ``{"task": {"status", "reason",
  "progress_percent"}, "videos": [{"video_url"}]}``. ``TASK_STATUS_QUEUED`` → ``queued``,
  ``TASK_STATUS_PROCESSING`` → ``running`` (with ``progress_percent``), ``TASK_STATUS_SUCCEED``
  → ``succeeded`` with the first video downloaded here (``max_video_bytes`` cap, no
  credentials sent to the file host), ``TASK_STATUS_FAILED``/``TASK_STATUS_CANCELED`` →
  ``failed`` with ``task.reason``. An unknown status counts as ``running``.

``{async}`` is ``extra["async_base_url"]`` when set, else the configured base URL with its
OpenAI-compatible suffix (``/v3/openai``, ``/openai/v1``, ``/openai``, ``/v1``) replaced by
``/v3/async``.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import orjson
from yarl import URL

from modelsnest.providers.errors import ProviderBadRequest, ProviderProtocolError
from modelsnest.providers.kinds import NOVITA
from modelsnest.providers.media_base import as_mapping, byte_limit, sniff_video_type
from modelsnest.providers.media_types import VideoRequest, VideoState, VideoStatus, VideoTask
from modelsnest.providers.novita_video import video_body
from modelsnest.providers.openai_compat import OpenAICompatProvider
from modelsnest.providers.openai_media import raise_error_body
from modelsnest.providers.types import ProviderConfig

__all__ = ["NovitaProvider", "async_base_url"]

_COMPAT_SUFFIXES = ("/v3/openai", "/openai/v1", "/openai", "/v1")
_ENDPOINT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/]*$")
_STATES: dict[str, VideoState] = {
    "TASK_STATUS_QUEUED": "queued",
    "TASK_STATUS_PROCESSING": "running",
    "TASK_STATUS_SUCCEED": "succeeded",
    "TASK_STATUS_FAILED": "failed",
    "TASK_STATUS_CANCELED": "failed",
}


def async_base_url(config: ProviderConfig) -> str:
    """The base of Novita's ``/v3/async`` task API for ``config`` (see the module docstring)."""
    override = config.extra.get("async_base_url")
    if override:
        return str(override).rstrip("/")
    base = (config.base_url or NOVITA.default_base_url or "").rstrip("/")
    for suffix in _COMPAT_SUFFIXES:
        if base.endswith(suffix):
            base = base.removesuffix(suffix)
            break
    return base + "/v3/async"


class NovitaProvider(OpenAICompatProvider):
    """``OpenAICompatProvider`` plus Novita's asynchronous video tasks."""

    capabilities: ClassVar[frozenset[str]] = NOVITA.capabilities

    def __init__(self, config: ProviderConfig) -> None:
        super().__init__(config)
        self._async_base = async_base_url(config)
        self._result_url = URL(self._async_base + "/task-result")

    async def submit_video(self, request: VideoRequest, upstream_model: str) -> VideoTask:
        endpoint = upstream_model.strip("/")
        if not _ENDPOINT.match(endpoint) or ".." in endpoint:
            raise ProviderBadRequest(f"invalid Novita video endpoint {upstream_model!r}", status=400)
        body = video_body(endpoint, request)
        answer = await self._http.post_json(URL(f"{self._async_base}/{endpoint}"), orjson.dumps(body))
        task_id = answer.get("task_id") if isinstance(answer, dict) else None
        if not isinstance(task_id, str) or not task_id:
            if isinstance(answer, dict) and "error" in answer:
                raise_error_body(answer, self.config.name)
            raise ProviderProtocolError(f"{self.config.name}: the task submission returned no task_id")
        return VideoTask(task_id=task_id)

    async def poll_video(self, task_id: str, upstream_model: str) -> VideoStatus:
        answer: Any = await self._http.get_json(self._result_url.with_query(task_id=task_id))
        task = as_mapping(answer.get("task") if isinstance(answer, dict) else None)
        status = task.get("status")
        if not isinstance(status, str):
            raise ProviderProtocolError(f"{self.config.name}: task result has no task.status")
        state = _STATES.get(status, "running")
        progress = task.get("progress_percent")
        percent = max(0, min(100, int(progress))) if isinstance(progress, int | float) else 0
        if state == "failed":
            reason = task.get("reason")
            error = reason if isinstance(reason, str) and reason else f"the upstream task ended with {status}"
            return VideoStatus(state="failed", progress=percent, error=error)
        if state != "succeeded":
            return VideoStatus(state=state, progress=0 if state == "queued" else percent)
        videos = answer.get("videos") if isinstance(answer, dict) else None
        urls = [as_mapping(v).get("video_url") for v in videos or ()]
        url = next((u for u in urls if isinstance(u, str) and u), None)
        if url is None:
            raise ProviderProtocolError(f"{self.config.name}: the finished task has no video_url")
        data, declared = await self._http.download(url, limit=byte_limit(self.config, "max_video_bytes"))
        if not data:
            raise ProviderProtocolError(f"{self.config.name}: the finished video is empty")
        if declared is not None and not declared.startswith("video/"):
            declared = None
        content_type = sniff_video_type(data) or declared or "video/mp4"
        return VideoStatus(state="succeeded", progress=100, video=data, content_type=content_type)
