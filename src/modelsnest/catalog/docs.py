"""Build one model's documentation (steps, parameters, code samples, response example) from
the per-endpoint templates in ``docs_templates``.

Response examples are computed, not typed in: their ``usage.cost`` and ``billing`` come from
the same pricing functions the gateway uses, so the docs can never show a cost the platform
would not charge.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import orjson

from modelsnest.catalog.docs_templates import (
    BASE_URL,
    DEFAULT_PROMPTS,
    EXAMPLE_FRAME_URL,
    EXAMPLE_IMAGE_URL,
    TEMPLATES,
    ParamTemplate,
)
from modelsnest.catalog.pricing import billing_json, chat_cost, price_text, unit_cost
from modelsnest.catalog.spec import ModelSpec
from modelsnest.catalog.types import PriceInfo
from modelsnest.exact_json import money

_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
_CREATED = 1735689600  # 2025-01-01T00:00:00Z, a stable timestamp for examples
_EXAMPLE_TITLES = {
    "curl": "cURL",
    "python": "Python (openai SDK)",
    "javascript": "JavaScript (openai SDK)",
}
_VIDEO_TITLES = {"curl": "cURL", "python": "Python (httpx)", "javascript": "JavaScript (fetch)"}


@dataclass(frozen=True, slots=True)
class DocParam:
    name: str
    type: str
    required: bool
    description: str
    default: str | None


@dataclass(frozen=True, slots=True)
class DocExample:
    language: str
    title: str
    code: str


@dataclass(frozen=True, slots=True)
class DocSpec:
    description: str
    method: str
    path: str
    status: int
    steps: tuple[tuple[str, str], ...]
    parameters: tuple[DocParam, ...]
    examples: tuple[DocExample, ...]
    response_example: str


@dataclass(frozen=True, slots=True)
class _Priced:
    slug: str
    endpoint: str
    pricing: PriceInfo | None


class DocsTemplateError(ValueError):
    """A template placeholder has no value for this model (a bug in the templates)."""


def _or_list(items: list[Any]) -> str:
    words = [str(item) for item in items]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _fill(text: str, values: dict[str, str], where: str) -> str:
    def replace(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:
            raise DocsTemplateError(f"{where}: no value for placeholder {{{{{key}}}}}")
        return values[key]

    return _PLACEHOLDER.sub(replace, text)


def _price(spec: ModelSpec) -> PriceInfo:
    return PriceInfo(spec.price.unit, spec.price.input_nanos, spec.price.output_nanos)


def _values(spec: ModelSpec) -> dict[str, str]:
    options = spec.options
    vision = bool(options.get("example_image"))
    prompt = str(options.get("example_prompt") or DEFAULT_PROMPTS.get(spec.endpoint, ""))
    if spec.endpoint == "chat" and not options.get("example_prompt"):
        prompt = DEFAULT_PROMPTS["chat_vision" if vision else "chat"]
    user_content: Any = prompt
    if vision:
        user_content = [
            {"type": "text", "text": prompt},
            {"type": "image_url", "image_url": {"url": EXAMPLE_IMAGE_URL}},
        ]
    image_input = str(options.get("image_input", "none"))
    wants_image = image_input == "required"
    short_dims = "512" if spec.capabilities.get("dimensions") else ""
    values = {
        "slug": spec.slug,
        "name": spec.name,
        "base_url": BASE_URL,
        "price_text": price_text(_price(spec), spec.endpoint),
        "prompt": prompt,
        "user_content": json.dumps(user_content),
        "max_output": str(spec.max_output_tokens or ""),
        "context_length": f"{spec.context_length:,}" if spec.context_length else "the model's limit",
        "dimensions": str(options.get("vector_dimensions", "")),
        "dimensions_line": f',\n    "dimensions": {short_dims}' if short_dims else "",
        "dimensions_arg_py": f"\n    dimensions={short_dims}," if short_dims else "",
        "dimensions_arg_js": f"\n  dimensions: {short_dims}," if short_dims else "",
        "sizes": _or_list(list(options.get("sizes", [""]))),
        "size": str(next(iter(options.get("sizes", [""])))),
        "n_text": (
            f"Number of images, 1 to {options['max_n']}; each one is billed."
            if int(options.get("max_n", 1)) > 1
            else "Number of images; this model makes 1 per request."
        ),
        "example_max_tokens": "2000" if spec.capabilities.get("reasoning") else "300",
        "styles": _or_list(list(options.get("style", [""]))),
        "formats": _or_list(list(options.get("formats", ["mp3"]))),
        "voices": _or_list(list(options.get("voices", [""]))),
        "voice": str(next(iter(options.get("voices", [""])))),
        "max_characters": f"{options.get('max_characters', 0):,}",
        "text": str(options.get("example_text") or DEFAULT_PROMPTS["speech"]),
        "durations": _or_list(list(options.get("durations", [""]))),
        "duration": str(next(iter(options.get("durations", [""])))),
        "aspect_ratios": _or_list(list(options.get("aspect_ratios", [""]))),
        "aspect_ratio": str(next(iter(options.get("aspect_ratios", [""])))),
        "image_line": f',\n    "image_url": "{EXAMPLE_FRAME_URL}"' if wants_image else "",
        "image_arg_py": f'\n        "image_url": "{EXAMPLE_FRAME_URL}",' if wants_image else "",
        "image_arg_js": f'\n    image_url: "{EXAMPLE_FRAME_URL}",' if wants_image else "",
        "image_step": {
            "required": "This model animates a still image: image_url (the first frame) is required.",
            "optional": "Add image_url to animate a still image instead of starting from text alone.",
        }.get(image_input, ""),
    }
    return values


def _condition(spec: ModelSpec, key: str) -> bool:
    image_input = str(spec.options.get("image_input", "none"))
    if key == "image_required":
        return image_input == "required"
    if key == "image_allowed":
        return image_input in ("required", "optional")
    return bool(spec.capabilities.get(key) or spec.options.get(key))


def _param(template: ParamTemplate, spec: ModelSpec, values: dict[str, str]) -> DocParam:
    where = f"{spec.slug} parameter {template.name}"
    required = template.required
    return DocParam(
        name=template.name,
        type=template.type,
        required=_condition(spec, required) if isinstance(required, str) else required,
        description=_fill(template.description, values, where),
        default=_fill(template.default, values, where) if template.default is not None else None,
    )


def _dump(body: dict[str, Any]) -> str:
    # orjson writes the exact money Fragments of billing_json as plain JSON numbers.
    return orjson.dumps(body, option=orjson.OPT_INDENT_2).decode()


def _response_example(spec: ModelSpec, values: dict[str, str]) -> str:
    price = _price(spec)
    priced = _Priced(spec.slug, spec.endpoint, price)
    endpoint = spec.endpoint
    if endpoint == "chat":
        vision = bool(spec.options.get("example_image"))
        prompt_tokens, completion_tokens = (812, 18) if vision else (31, 58)
        reasoning_tokens = 384 if spec.capabilities.get("reasoning") else 0
        completion_tokens += reasoning_tokens
        answer = (
            "A small fishing harbor at dusk, with boats moored along a stone pier."
            if vision
            else "A process is an independent program with its own memory, while a thread is a unit of "
            "execution inside a process that shares that memory with its sibling threads."
        )
        cost = chat_cost(price, prompt_tokens, completion_tokens)
        usage: dict[str, Any] = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
        if reasoning_tokens:
            usage["completion_tokens_details"] = {"reasoning_tokens": reasoning_tokens}
        usage["cost"] = money(cost)
        return _dump(
            {
                "id": "chatcmpl-8f3c2a1b9d7e4f60",
                "object": "chat.completion",
                "created": _CREATED,
                "model": spec.slug,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": answer},
                        "finish_reason": "stop",
                    }
                ],
                "usage": usage,
                "billing": billing_json(priced, cost),
            }
        )
    if endpoint == "embeddings":
        cost = unit_cost(price, 12)
        vectors = [[0.0123, -0.0456, 0.0078, 0.0311], [-0.0209, 0.0147, -0.0032, 0.0264]]
        return _dump(
            {
                "object": "list",
                "data": [
                    {"object": "embedding", "index": i, "embedding": vector}
                    for i, vector in enumerate(vectors)
                ],
                "model": spec.slug,
                "usage": {"prompt_tokens": 12, "total_tokens": 12, "cost": money(cost)},
                "billing": billing_json(priced, cost),
            }
        )
    if endpoint == "images":
        cost = unit_cost(price, 1)
        item: dict[str, Any] = {"url": "https://YOUR_HOST/files/img_7QkL2m9xV4.png"}
        if spec.slug == "dall-e-3":
            item["revised_prompt"] = values["prompt"] + ", dramatic clouds, warm rim light on the rocks"
        return _dump(
            {
                "created": _CREATED,
                "data": [item],
                "usage": {"images": 1, "cost": money(cost)},
                "billing": billing_json(priced, cost),
            }
        )
    if endpoint == "transcription":
        cost = unit_cost(price, 61)
        return _dump(
            {
                "text": "Thanks everyone for joining. Today we will review the launch plan and the budget.",
                "usage": {"type": "duration", "seconds": 61, "cost": money(cost)},
                "billing": billing_json(priced, cost),
            }
        )
    if endpoint == "speech":
        characters = len(values["text"])
        cost = unit_cost(price, characters)
        lookup = {
            "id": "req_5b2f8c1e9a7d4e30",
            "model": spec.slug,
            "created": _CREATED,
            "usage": {"characters": characters, "cost": money(cost)},
            "billing": billing_json(priced, cost),
        }
        return (
            "HTTP/1.1 200 OK\nContent-Type: audio/mpeg\nX-Request-Id: req_5b2f8c1e9a7d4e30\n\n"
            "<binary MP3 audio>\n\n"
            "# GET /api/v1/generation?id=req_5b2f8c1e9a7d4e30\n" + _dump(lookup)
        )
    seconds = int(values["duration"])
    cost = unit_cost(price, Fraction(seconds))
    return _dump(
        {
            "id": "vid_3m8KxQ2pL9wR",
            "object": "video.generation",
            "model": spec.slug,
            "status": "queued",
            "progress": 0,
            "created": _CREATED,
            "duration": seconds,
            "aspect_ratio": values["aspect_ratio"],
            "video_url": None,
            "usage": {"seconds": seconds, "cost": money(cost)},
            "billing": billing_json(priced, cost),
        }
    )


def build_docs(spec: ModelSpec) -> DocSpec:
    """The documentation rows of one model, filled from its endpoint's template."""
    template = TEMPLATES[spec.endpoint]
    values = _values(spec)
    titles = _VIDEO_TITLES if spec.endpoint == "video" else _EXAMPLE_TITLES
    codes = {"curl": template.curl, "python": template.python, "javascript": template.javascript}
    return DocSpec(
        description=(
            f"{spec.description} Call it with {template.method} {template.path} and "
            f'"model": "{spec.slug}"; it costs {values["price_text"]}.'
        ),
        method=template.method,
        path=template.path,
        status=template.status,
        steps=tuple(
            (_fill(title, values, spec.slug), _fill(body, values, spec.slug))
            for title, body in template.steps
        ),
        parameters=tuple(
            _param(p, spec, values) for p in template.parameters if p.when is None or _condition(spec, p.when)
        ),
        examples=tuple(
            DocExample(language, titles[language], _fill(code, values, f"{spec.slug} {language}").strip())
            for language, code in codes.items()
        ),
        response_example=_response_example(spec, values),
    )


__all__ = ["DocExample", "DocParam", "DocSpec", "DocsTemplateError", "build_docs"]
