"""The OpenAPI 3.1 document served at ``/api/openapi.json``: FastAPI's, from what every route
declares (``api/schemas``), finished in three steps FastAPI cannot do by itself:

* the schemas of bodies the lane routes read themselves (and of stream events) arrive as
  ``{"$ref", "$defs"}`` (``schemas.common.component``); their definitions move to
  ``components.schemas``;
* FastAPI's default ``422 HTTPValidationError`` is dropped: our handlers answer a malformed
  parameter with a 400 in the one error shape (``api/errors.py``), which every route declares;
* FastAPI writes the document without nulls (``exclude_none``), which would take ``"param":
  null`` out of the error examples: examples are values, so they are put back as declared;
* the shared response headers and the bearer scheme go into ``components``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI, routing
from fastapi.openapi.utils import get_openapi

from modelsnest.api.schemas.common import RESPONSE_HEADERS, SECURITY_SCHEMES

DESCRIPTION = """\
One OpenAI-compatible API and one key for many AI models, billed from prepaid credits.

* **Authentication**: `Authorization: Bearer ptr_…` (an API key from the dashboard or `modelsnest keys create`).
* **Errors**: always `{"error": {"message", "type", "code", "param"}}` (Anthropic's
  `{"type": "error", "error": {"type", "message"}}` on `/api/v1/messages`); no error ever costs credits.
  A 429 carries `Retry-After`.
* **Money**: amounts are exact decimal JSON numbers of US dollars (read them as decimals).
  A successful paid answer adds a `billing` object and `usage.cost` (a stream: in its last
  chunk, asked with `stream_options.include_usage`), and the headers `X-Modelsnest-Provider`
  and, unless streamed, `X-Modelsnest-Cost-USD`. Every answer carries `X-Request-Id`.
* **Retries**: a paid POST may carry `Idempotency-Key` (24 hours, per API key).
"""

TAGS = [
    {"name": "Chat", "description": "Chat completions, streamed (SSE) or not, billed per token."},
    {"name": "Embeddings", "description": "Vectors, billed per 1K input tokens."},
    {"name": "Images", "description": "Image generation, billed per image returned."},
    {
        "name": "Audio",
        "description": "Text to speech (per character) and transcription (per second of audio).",
    },
    {"name": "Video", "description": "Asynchronous video jobs, billed per second when delivered."},
    {
        "name": "Anthropic",
        "description": "Anthropic's Messages API (Claude Code, the anthropic SDKs), billed per token.",
    },
    {
        "name": "API Store",
        "description": "Any HTTP API an operator lists, called with your key and billed per call "
        "(and per MB where priced); each product's own request and answer are on its dashboard page.",
    },
    {"name": "Models", "description": "The catalog with exact prices."},
    {"name": "Account", "description": "The key owner's balance, usage and per-request records."},
]

_FRAMEWORK_SCHEMAS = ("HTTPValidationError", "ValidationError")


def _hoist(node: Any, schemas: dict[str, Any]) -> None:
    """Move every ``$defs`` found under ``node`` into ``schemas`` (one definition per name)."""
    if isinstance(node, list):
        for item in node:
            _hoist(item, schemas)
        return
    if not isinstance(node, dict):
        return
    definitions = node.pop("$defs", None)
    for name, definition in (definitions or {}).items():
        _hoist(definition, schemas)
        known = schemas.setdefault(name, definition)
        if known != definition:
            raise ValueError(f"two different schemas are both named {name!r}")
    for value in node.values():
        _hoist(value, schemas)


def _drop_framework_validation_errors(document: dict[str, Any]) -> None:
    for path in document.get("paths", {}).values():
        for operation in path.values():
            response = operation.get("responses", {}).get("422")
            schema = (response or {}).get("content", {}).get("application/json", {}).get("schema", {})
            if schema.get("$ref", "").endswith("/HTTPValidationError"):
                del operation["responses"]["422"]
    schemas = document.get("components", {}).get("schemas", {})
    for name in _FRAMEWORK_SCHEMAS:
        schemas.pop(name, None)


def api_routes(app: FastAPI) -> Iterator[Any]:
    """Every FastAPI route of ``app`` with its full path (FastAPI 0.16x keeps included routers
    as lazy ``_IncludedRouter`` entries of ``app.routes``; ``iter_route_contexts`` expands them)."""
    expand = getattr(routing, "iter_route_contexts", None)
    for route in expand(app.routes) if expand is not None else app.routes:
        if isinstance(getattr(route, "original_route", route), routing.APIRoute):
            yield route


def _declared_examples(route: Any) -> dict[tuple[str, ...], Any]:
    """(response status or "requestBody", media type) → the examples the route declares."""
    found: dict[tuple[str, ...], Any] = {}
    for status, response in (route.responses or {}).items():
        for media_type, content in (response.get("content") or {}).items():
            if "examples" in content:
                found[(str(status), media_type)] = content["examples"]
    body = (route.openapi_extra or {}).get("requestBody") or {}
    for media_type, content in (body.get("content") or {}).items():
        if "examples" in content:
            found[("requestBody", media_type)] = content["examples"]
    return found


def _restore_examples(document: dict[str, Any], app: FastAPI) -> None:
    for route in api_routes(app):
        if not route.include_in_schema:
            continue
        for method in route.methods:
            operation = document["paths"][route.path_format][method.lower()]
            for (where, media_type), examples in _declared_examples(route).items():
                owner = operation["requestBody"] if where == "requestBody" else operation["responses"][where]
                owner["content"][media_type]["examples"] = copy.deepcopy(examples)


def build_document(app: FastAPI) -> dict[str, Any]:
    document = get_openapi(
        title=app.title, version=app.version, description=DESCRIPTION, routes=app.routes, tags=TAGS
    )
    components = document.setdefault("components", {})
    _hoist(document["paths"], components.setdefault("schemas", {}))
    _drop_framework_validation_errors(document)
    _restore_examples(document, app)
    components["schemas"] = dict(sorted(components["schemas"].items()))
    components["headers"] = copy.deepcopy(RESPONSE_HEADERS)
    components["securitySchemes"] = copy.deepcopy(SECURITY_SCHEMES)
    return document


def install_openapi(app: FastAPI) -> None:
    """Serve ``build_document`` (built once, on first request) as the app's document."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_document(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
