"""Image generation: validated ``n`` and size, billed per image actually returned. Every image
is stored and served by us (unguessable URL, expiring) or returned inline as base64.

A model priced by size and quality (``gpt-image-1``, ``dall-e-3``) holds and bills the
requested variant (``pricing.image_variant``); a size or quality it does not price is a 400
before anything is held. Without a quality (or ``auto``) the most expensive quality of the
size is held, and the quality the upstream reports it made is billed (else the held one)."""

from __future__ import annotations

import base64
import re
import time
from dataclasses import dataclass
from typing import Any

from modelsnest.catalog.pricing import AUTO_QUALITY, Costing, bill_images, image_variant
from modelsnest.catalog.types import PriceInfo
from modelsnest.errors import InvalidRequest, ModelsnestError, UpstreamError
from modelsnest.exact_json import dumps
from modelsnest.gateway.chat_request import parse_json_object, require_model
from modelsnest.gateway.fallback import Served
from modelsnest.gateway.pipeline import Bill, Call, Incoming, Modality, Reply
from modelsnest.gateway.receipts import add_cost, unit_billing
from modelsnest.providers.errors import ProviderProtocolError
from modelsnest.providers.media_types import ImageRequest, ImageResult
from modelsnest.providers.protocol import Provider

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


@dataclass(frozen=True)
class ImagesRequest:
    image: ImageRequest
    response_format: str

    @property
    def size(self) -> str:
        return f"{self.image.width}x{self.image.height}"


def billed_quality(price: PriceInfo, request: ImagesRequest, result: ImageResult) -> str | None:
    """The quality to bill: the one asked for; else the one the upstream says it made, when
    the price has it for this size; else None (the most expensive, as held)."""
    asked = request.image.quality
    if asked and asked != AUTO_QUALITY:
        return asked
    made = result.quality
    if not made or made == AUTO_QUALITY:
        return None
    try:
        image_variant(price, request.size, made)
    except ModelsnestError:
        return None  # a quality this price does not know: bill what was held
    return made


class ImagesModality(Modality[ImagesRequest, ImageResult]):
    endpoint = "images"

    def parse(self, incoming: Incoming) -> tuple[str, ImagesRequest]:
        body = parse_json_object(incoming.body)
        slug = require_model(body)
        request, response_format = parse_image_request(body)
        return slug, ImagesRequest(request, response_format)

    async def hold(self, call: Call, request: ImagesRequest) -> int:
        # Raises the 400 for a size/quality the model does not price, before any hold.
        return bill_images(
            call.price, request.image.n, size=request.size, quality=request.image.quality
        ).cost_nanos

    async def invoke(self, adapter: Provider, request: ImagesRequest, upstream_model: str) -> ImageResult:
        result = await adapter.generate_images(request.image, upstream_model)
        if not result.images:
            raise ProviderProtocolError("the upstream returned no image")
        return result

    def bill(self, call: Call, request: ImagesRequest, result: ImageResult) -> Bill:
        count = len(_delivered(request, result))
        quality = billed_quality(call.price, request, result)

        def meter(price: PriceInfo) -> Costing:
            return bill_images(price, count, size=request.size, quality=quality)

        costing = meter(call.price)
        meta = {"size": request.size, "quality": quality or AUTO_QUALITY}
        return Bill(
            costing.cost_nanos,
            usage={"units": count, "unit_type": "image", "meta": meta},
            costing=costing,
            meter=meter,
        )

    async def answer(
        self, call: Call, request: ImagesRequest, result: ImageResult, bill: Bill, served: Served
    ) -> Reply:
        images = _delivered(request, result)
        data: list[dict[str, Any]] = []
        try:
            for image in images:
                item: dict[str, Any] = {}
                if request.response_format == "b64_json":
                    item["b64_json"] = base64.b64encode(image.data).decode()
                else:
                    stored = await call.gateway.media.save(
                        call.caller.user_id, image.data, image.content_type, "image"
                    )
                    item["url"] = f"{call.public_base}/files/{stored.id}"
                if image.revised_prompt:
                    item["revised_prompt"] = image.revised_prompt
                data.append(item)
        except Exception as exc:
            raise UpstreamError(
                "the generated images could not be stored; you have not been charged"
            ) from exc
        out = {
            "created": int(time.time()),
            "model": served.upstream_model,
            "data": data,
            "usage": add_cost({"images": len(images)}, bill.cost_nanos, bill.costing),
            "billing": unit_billing(
                call.model, call.price, bill.cost_nanos, len(images), "image", bill.costing
            ),
        }
        return Reply(dumps(out))


def _delivered(request: ImagesRequest, result: ImageResult) -> list[Any]:
    """Never bill (or hand out) more images than were asked for."""
    return list(result.images[: request.image.n])


IMAGES = ImagesModality()
