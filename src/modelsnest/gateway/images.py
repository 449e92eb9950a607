"""Image generation: validated ``n`` and size, billed per image actually returned. Every image
is stored and served by us (unguessable URL, expiring) or returned inline as base64."""

from __future__ import annotations

import base64
import re
import time
from typing import Any

from modelsnest.auth.key_verifier import ApiKeyPrincipal
from modelsnest.catalog.pricing import require_price, unit_cost
from modelsnest.errors import InvalidRequest, UpstreamError
from modelsnest.exact_json import dumps, money
from modelsnest.gateway.admission import (
    abort,
    admit,
    call_routes,
    failure_record,
    finish_served,
    resolve_model,
)
from modelsnest.gateway.chat_request import parse_json_object, require_model
from modelsnest.gateway.receipts import unit_billing
from modelsnest.gateway.service import Gateway
from modelsnest.providers.errors import ProviderProtocolError
from modelsnest.providers.media_types import ImageRequest, ImageResult

ENDPOINT = "images"
MAX_IMAGES = 10
MIN_SIDE, MAX_SIDE = 64, 4096
MAX_PROMPT = 4000
_SIZE = re.compile(r"^(\d{1,5})x(\d{1,5})$")
_KNOWN = {
    "model",
    "prompt",
    "n",
    "num_images",
    "size",
    "width",
    "height",
    "quality",
    "style",
    "response_format",
}


def _count(body: dict[str, Any]) -> int:
    name = "n" if "n" in body else "num_images"
    value = body.get(name, 1)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_IMAGES:
        raise InvalidRequest(f"{name} must be an integer from 1 to {MAX_IMAGES}", param=name)
    return value


def _side(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not MIN_SIDE <= value <= MAX_SIDE:
        raise InvalidRequest(f"{name} must be an integer from {MIN_SIDE} to {MAX_SIDE}", param=name)
    return value


def _dimensions(body: dict[str, Any]) -> tuple[int, int]:
    size = body.get("size")
    if size is not None:
        match = _SIZE.match(size) if isinstance(size, str) else None
        if match is None:
            raise InvalidRequest("size must look like 1024x1024", param="size")
        return _side(int(match[1]), "size"), _side(int(match[2]), "size")
    width, height = body.get("width"), body.get("height")
    if width is None and height is None:
        return 1024, 1024
    return _side(width if width is not None else 1024, "width"), _side(
        height if height is not None else 1024, "height"
    )


def parse_image_request(body: dict[str, Any]) -> tuple[ImageRequest, str]:
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise InvalidRequest("prompt is required", param="prompt")
    if len(prompt) > MAX_PROMPT:
        raise InvalidRequest(f"prompt may be at most {MAX_PROMPT} characters", param="prompt")
    response_format = body.get("response_format") or "url"
    if response_format not in ("url", "b64_json"):
        raise InvalidRequest("response_format must be url or b64_json", param="response_format")
    width, height = _dimensions(body)
    for name in ("quality", "style"):
        if body.get(name) is not None and not isinstance(body[name], str):
            raise InvalidRequest(f"{name} must be a string", param=name)
    request = ImageRequest(
        prompt=prompt,
        n=_count(body),
        width=width,
        height=height,
        quality=body.get("quality"),
        style=body.get("style"),
        extra={k: v for k, v in body.items() if k not in _KNOWN},
    )
    return request, response_format


async def generate_images(
    gateway: Gateway, principal: ApiKeyPrincipal, raw: bytes, request_id: str, public_base: str
) -> tuple[bytes, dict[str, str]]:
    started = time.perf_counter()
    body = parse_json_object(raw)
    model = await resolve_model(gateway, principal, require_model(body), ENDPOINT)
    price = require_price(model)
    request, response_format = parse_image_request(body)
    admission = await admit(
        gateway,
        principal,
        model,
        price,
        request_id=request_id,
        hold_nanos=unit_cost(price, request.n),
        endpoint=ENDPOINT,
    )

    async def call(route: Any) -> ImageResult:
        result: ImageResult = await gateway.pool.get(route.provider).generate_images(
            request, route.upstream_model
        )
        if not result.images:
            raise ProviderProtocolError("the upstream returned no image")
        return result

    result, served = await call_routes(gateway, admission, ENDPOINT, started, call)
    images = result.images[: request.n]  # never bill (or hand out) more than was asked
    data: list[dict[str, Any]] = []
    try:
        for image in images:
            item: dict[str, Any] = {}
            if response_format == "b64_json":
                item["b64_json"] = base64.b64encode(image.data).decode()
            else:
                stored = await gateway.media.save(principal.user_id, image.data, image.content_type, "image")
                item["url"] = f"{public_base}/files/{stored.id}"
            if image.revised_prompt:
                item["revised_prompt"] = image.revised_prompt
            data.append(item)
    except Exception as exc:
        await abort(gateway, admission, failure_record(admission, ENDPOINT, exc, started))
        raise UpstreamError("the generated images could not be stored; you have not been charged") from exc
    cost = unit_cost(price, len(images))
    await finish_served(
        gateway, admission, served, ENDPOINT, started, cost_nanos=cost, units=len(images), unit_type="image"
    )
    out = {
        "created": int(time.time()),
        "model": served.upstream_model,
        "data": data,
        "usage": {"images": len(images), "cost": money(cost)},
        "billing": unit_billing(model, price, cost, len(images), "image"),
    }
    headers = admission.limit_state.headers()
    headers["X-Modelsnest-Provider"] = served.provider_name
    return dumps(out), headers
