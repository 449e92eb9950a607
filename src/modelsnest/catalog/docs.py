"""Build one model's documentation (steps, parameters, code samples, response example) from
the per-endpoint templates in ``docs_templates``: what the seed stores in the docs tables.

``build_docs`` is the first of two Jinja2 passes: it fills the model's own specifics and
leaves the request-time placeholders (``{{ base_url }}``, ``{{ site_url }}``,
``{{ price_text }}``) as they are, for ``docs_render`` to fill per request. Values are inserted
quoted (``escape_jinja``), so a seed value can never turn into template code.

Response examples are computed, not typed in: their quantities are fixed here, and their
``usage.cost`` and ``billing`` are ``{{ cost(…) }}`` / ``{{ billing(…) }}`` calls that
``docs_render`` answers with the same pricing functions the gateway uses, at the model's
current price, so the docs can never show a cost the platform would not charge.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

import orjson

from modelsnest.catalog.docs_jinja import DocsSandbox, escape_jinja, render_docs_template
from modelsnest.catalog.docs_templates import (
    DEFAULT_PROMPTS,
    EXAMPLE_FRAME_URL,
    EXAMPLE_IMAGE_URL,
    TEMPLATES,
    ParamTemplate,
)
from modelsnest.catalog.spec import ModelSpec

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


class _Later(str):
    """A request-time placeholder: the first pass writes it back as it is."""

    __slots__ = ()


# Filled by ``docs_render`` per request; everything else is filled here.
REQUEST_TIME_VALUES: Final = {
    name: _Later("{{ " + name + " }}") for name in ("base_url", "site_url", "price_text")
}


def _quoted(value: Any) -> Any:
    return value if isinstance(value, _Later) else escape_jinja(str(value))


# Seed-time pass: every inserted value is quoted, so the output is a template that renders
# to exactly what was inserted, plus the request-time placeholders.
_SEED_ENV: Final = DocsSandbox(finalize=_quoted)


def _or_list(items: list[Any]) -> str:
    words = [str(item) for item in items]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _fill(text: str, values: dict[str, str], where: str) -> str:
    return render_docs_template(_SEED_ENV, text, values, f"docs template of {where}")


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
        **REQUEST_TIME_VALUES,
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
    return orjson.dumps(body, option=orjson.OPT_INDENT_2).decode()


class _Example:
    """Builds a response example whose request-time parts are Jinja expressions: they go into
    the JSON as markers, and become ``{{ … }}`` once the rest of the text is quoted."""

    def __init__(self) -> None:
        self._expressions: dict[str, str] = {}

    def text(self, expression: str) -> str:
        """A marker for ``expression`` inside a JSON string (``{{ site_url }}/files/…``)."""
        marker = f"@@docs-expression-{len(self._expressions)}@@"
        self._expressions[marker] = expression
        return marker

    def value(self, expression: str) -> orjson.Fragment:
        """A marker for ``expression`` in place of a JSON value (a cost, the billing object)."""
        return orjson.Fragment(self.text(expression).encode())

    def cost(self, *quantities: int) -> orjson.Fragment:
        return self.value(f"cost({', '.join(map(str, quantities))})")

    def billing(self, *quantities: int) -> orjson.Fragment:
        # The billing object sits one level deep in every example: indent its inner lines.
        return self.value(f"billing({', '.join(map(str, quantities))}) | indent(2)")

    def finish(self, text: str) -> str:
        template = escape_jinja(text)
        for marker, expression in self._expressions.items():
            template = template.replace(marker, "{{ " + expression + " }}")
        return template


def _response_example(spec: ModelSpec, values: dict[str, str]) -> str:
    example = _Example()
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
        usage: dict[str, Any] = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
        if reasoning_tokens:
            usage["completion_tokens_details"] = {"reasoning_tokens": reasoning_tokens}
        usage["cost"] = example.cost(prompt_tokens, completion_tokens)
        body: dict[str, Any] = {
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
            "billing": example.billing(prompt_tokens, completion_tokens),
        }
        return example.finish(_dump(body))
    if endpoint == "embeddings":
        vectors = [[0.0123, -0.0456, 0.0078, 0.0311], [-0.0209, 0.0147, -0.0032, 0.0264]]
        body = {
            "object": "list",
            "data": [
                {"object": "embedding", "index": i, "embedding": vector} for i, vector in enumerate(vectors)
            ],
            "model": spec.slug,
            "usage": {"prompt_tokens": 12, "total_tokens": 12, "cost": example.cost(12)},
            "billing": example.billing(12),
        }
        return example.finish(_dump(body))
    if endpoint == "rerank":
        per_search = spec.price.unit == "per_request"
        quantity = 1 if per_search else 28
        body = {
            "id": "rerank_4c1d9e7a2b8f",
            "object": "rerank",
            "model": spec.slug,
            "results": [{"index": 1, "relevance_score": 0.9823}],
            "usage": {
                "prompt_tokens": 28,
                "total_tokens": 28,
                "search_units": 1,
                "cost": example.cost(quantity),
            },
            "billing": example.billing(quantity),
        }
        return example.finish(_dump(body))
    if endpoint == "images":
        item: dict[str, Any] = {"url": example.text("site_url") + "/files/img_7QkL2m9xV4.png"}
        if spec.slug == "dall-e-3":
            item["revised_prompt"] = values["prompt"] + ", dramatic clouds, warm rim light on the rocks"
        body = {
            "created": _CREATED,
            "data": [item],
            "usage": {"images": 1, "cost": example.cost(1)},
            "billing": example.billing(1),
        }
        return example.finish(_dump(body))
    if endpoint == "transcription":
        body = {
            "text": "Thanks everyone for joining. Today we will review the launch plan and the budget.",
            "usage": {"type": "duration", "seconds": 61, "cost": example.cost(61)},
            "billing": example.billing(61),
        }
        return example.finish(_dump(body))
    if endpoint == "speech":
        characters = len(values["text"])
        lookup = {
            "id": "req_5b2f8c1e9a7d4e30",
            "model": spec.slug,
            "created": _CREATED,
            "usage": {"characters": characters, "cost": example.cost(characters)},
            "billing": example.billing(characters),
        }
        return example.finish(
            "HTTP/1.1 200 OK\nContent-Type: audio/mpeg\nX-Request-Id: req_5b2f8c1e9a7d4e30\n\n"
            "<binary MP3 audio>\n\n"
            "# GET /api/v1/generation?id=req_5b2f8c1e9a7d4e30\n" + _dump(lookup)
        )
    seconds = int(values["duration"])
    body = {
        "id": "vid_3m8KxQ2pL9wR",
        "object": "video.generation",
        "model": spec.slug,
        "status": "queued",
        "progress": 0,
        "created": _CREATED,
        "duration": seconds,
        "aspect_ratio": values["aspect_ratio"],
        "video_url": None,
        "usage": {"seconds": seconds, "cost": example.cost(seconds)},
        "billing": example.billing(seconds),
    }
    return example.finish(_dump(body))


def build_docs(spec: ModelSpec) -> DocSpec:
    """The documentation rows of one model, filled from its endpoint's template."""
    template = TEMPLATES[spec.endpoint]
    values = _values(spec)
    titles = _VIDEO_TITLES if spec.endpoint == "video" else _EXAMPLE_TITLES
    if spec.endpoint == "rerank":
        titles = {**_EXAMPLE_TITLES, "python": "Python (httpx)", "javascript": "JavaScript (fetch)"}
    codes = {"curl": template.curl, "python": template.python, "javascript": template.javascript}
    description = (
        "{{ description }} Call it with {{ method }} {{ path }} and "
        '"model": "{{ slug }}"; it costs {{ price_text }}.'
    )
    described = {**values, "description": spec.description, "method": template.method, "path": template.path}
    return DocSpec(
        description=_fill(description, described, f"{spec.slug} description"),
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


__all__ = ["REQUEST_TIME_VALUES", "DocExample", "DocParam", "DocSpec", "build_docs"]
