"""The submit body of a Novita asynchronous video task (``POST /v3/async/<endpoint>``).

Each Novita video model has its own endpoint and body; the route's ``upstream_model`` is the
endpoint name (``kling-v2.1-t2v-master``, ``minimax-hailuo-02``, ``seedance-v1-pro-t2v``,
``wan2.7-t2v``, ``hunyuan-video-fast``, …). The shapes below follow Novita's API reference
(novita.ai/docs/api-reference/model-apis-<endpoint>):

===================================  ======================================================
endpoint family                      body built from our ``VideoRequest``
===================================  ======================================================
``kling-*``                          ``prompt``, ``duration`` (a string: "5"/"10"),
                                     ``aspect_ratio`` (16:9, 9:16, 1:1), ``image`` (i2v)
``minimax-hailuo-*``                 ``prompt``, ``duration`` (int), ``image``
``minimax-video-01*``                ``prompt``, ``image_url``
``seedance-*``                       ``prompt``, ``duration``, ``aspect_ratio``,
                                     ``resolution`` (480p/720p/1080p), ``image``
``wan-2.2-*``, ``wan2.5-*``,        ``input: {prompt, img_url}``, ``parameters: {duration,
``wan2.6-*``                         size: "W*H"}`` (t2v) or ``resolution`` (i2v: 720P, …)
``wan2.7-*`` and later ``wan*``      ``prompt``, ``duration``, ``size: "W*H"`` (t2v) or
                                     ``resolution`` + ``image_url`` (i2v)
``hunyuan-video-fast``, ``wan-t2v``,  ``model_name``, ``prompt``, ``width``, ``height``,
``wan-i2v``                          ``seed: -1``, ``steps`` (+ ``image_url``)
anything else                        ``prompt``, ``duration``, ``width``/``height``,
                                     ``image_url``
===================================  ======================================================

The request's ``extra`` fields (``negative_prompt``, ``seed``, ``mode``, ``resolution``, …)
are merged last, so a client can always send a model's own parameters.
"""

from __future__ import annotations

import math
from typing import Any

from modelsnest.providers.media_types import VideoRequest

__all__ = ["aspect_ratio", "video_body"]

_KLING_RATIOS = ("16:9", "9:16", "1:1")
_SEEDANCE_RATIOS = ("21:9", "16:9", "4:3", "1:1", "3:4", "9:16", "9:21")
_MODEL_NAMES = {"hunyuan-video-fast": "hunyuan-video-fast", "wan-t2v": "wan2.1-t2v", "wan-i2v": "wan2.1-i2v"}
_DEFAULT_STEPS = 20


def aspect_ratio(width: int, height: int, choices: tuple[str, ...]) -> str:
    """The choice ("W:H") closest to ``width``/``height`` on a logarithmic scale."""
    target = math.log(width / height)

    def distance(choice: str) -> float:
        w, h = choice.split(":")
        return abs(math.log(int(w) / int(h)) - target)

    return min(choices, key=distance)


def _resolution(width: int, height: int) -> str:
    short = min(width, height)
    return "1080p" if short >= 1080 else "720p" if short >= 720 else "480p"


def _wan_size(target: dict[str, Any], name: str, width: int, height: int) -> None:
    if "i2v" in name:
        target["resolution"] = _resolution(width, height).upper()
    else:
        target["size"] = f"{width}*{height}"


def video_body(endpoint: str, request: VideoRequest) -> dict[str, Any]:
    """The JSON body for ``POST /v3/async/<endpoint>`` (see the module docstring)."""
    name = endpoint.rsplit("/", 1)[-1].lower()
    width, height = request.width, request.height
    sized = bool(width and height)
    image = request.image_url
    body: dict[str, Any] = {"prompt": request.prompt}
    if name.startswith("kling"):
        body["duration"] = str(request.duration_seconds)
        if sized and "i2v" not in name:
            body["aspect_ratio"] = aspect_ratio(width or 1, height or 1, _KLING_RATIOS)
        if image:
            body["image"] = image
    elif name.startswith("minimax-video-01"):
        if image:
            body["image_url"] = image
    elif name.startswith("minimax"):
        body["duration"] = request.duration_seconds
        if image:
            body["image"] = image
    elif name.startswith("seedance"):
        body["duration"] = request.duration_seconds
        if sized:
            body["aspect_ratio"] = aspect_ratio(width or 1, height or 1, _SEEDANCE_RATIOS)
            body["resolution"] = _resolution(width or 1, height or 1)
        if image:
            body["image"] = image
    elif name in _MODEL_NAMES:
        body.update(
            model_name=_MODEL_NAMES[name],
            width=width or 1280,
            height=height or 720,
            seed=-1,
            steps=_DEFAULT_STEPS,
        )
        if image:
            body["image_url"] = image
    elif name.startswith(("wan-2.2", "wan2.5", "wan2.6")):
        inputs: dict[str, Any] = {"prompt": request.prompt}
        parameters: dict[str, Any] = {"duration": request.duration_seconds}
        if image:
            inputs["img_url"] = image
        if sized:
            _wan_size(parameters, name, width or 1, height or 1)
        body = {"input": inputs, "parameters": parameters}
    elif name.startswith("wan"):
        body["duration"] = request.duration_seconds
        if sized:
            _wan_size(body, name, width or 1, height or 1)
        if image:
            body["image_url"] = image
    else:
        body["duration"] = request.duration_seconds
        if sized:
            body.update(width=width, height=height)
        if image:
            body["image_url"] = image
    body.update(request.extra)
    return body
