"""The paths the content may link to, in one place, for the site engineer to check against
the router, and the platform's documented API endpoints, for the docs to be checked against.

``SITE_PATHS`` are the public site's routes (``{name}`` is one path segment). Every internal
link in the content must match one of them (the tests check it); the site's tests should in
turn check that the router serves each one.

``API_ENDPOINTS`` is DESIGN.md §3: every ``/api/v1/...`` path named in published content must
be one marked ``live``; drafts may name the ``planned`` ones too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from modelsnest.content.feeds import FEED_PATH, LLMS_TXT_PATH

SITE_PATHS: tuple[str, ...] = (
    "/",
    "/pricing",
    "/models",
    "/models/{slug}",
    "/docs",
    "/reference",
    "/reference/{slug}",
    "/sdks",
    "/sdks/{slug}",
    "/tutorials",
    "/tutorials/{slug}",
    "/help",
    "/help/{slug}",
    "/blog",
    "/blog/{slug}",
    FEED_PATH,
    LLMS_TXT_PATH,
    "/status",
    # Company and legal pages (content/pages/*.md).
    "/about",
    "/careers",
    "/community",
    "/compliance",
    "/contact",
    "/dpa",
    "/legal",
    "/press",
    "/privacy",
    "/security",
    "/terms",
    # Accounts and the dashboard (WEB.md).
    "/signup",
    "/login",
    "/forgot-password",
    "/dashboard",
    "/dashboard/playground",
    "/dashboard/keys",
    "/dashboard/usage",
    "/dashboard/billing",
    "/dashboard/notifications",
    "/dashboard/settings",
    # Served by the API application itself.
    "/healthz",
    "/readyz",
)

Availability = Literal["live", "planned"]


@dataclass(frozen=True, slots=True)
class ApiEndpoint:
    method: str
    path: str  # "{name}" is one segment
    availability: Availability
    summary: str


API_ENDPOINTS: tuple[ApiEndpoint, ...] = (
    ApiEndpoint("POST", "/api/v1/chat/completions", "live", "Chat completions, streamed or not"),
    ApiEndpoint("POST", "/api/v1/embeddings", "live", "Embeddings"),
    ApiEndpoint("POST", "/api/v1/images/generations", "live", "Image generation"),
    ApiEndpoint("POST", "/api/v1/images/generate", "live", "Image generation (alias)"),
    ApiEndpoint("POST", "/api/v1/audio/transcriptions", "live", "Speech to text (multipart)"),
    ApiEndpoint("POST", "/api/v1/audio/speech", "live", "Text to speech (audio bytes)"),
    ApiEndpoint("POST", "/api/v1/text-to-speech", "live", "Text to speech (JSON acknowledgment)"),
    ApiEndpoint("POST", "/api/v1/video/generations", "live", "Submit a video job"),
    ApiEndpoint("GET", "/api/v1/video/generations/{id}", "live", "A video job's status and result"),
    ApiEndpoint("GET", "/api/v1/models", "live", "Every model with its price"),
    ApiEndpoint("GET", "/api/v1/models/{slug}", "live", "One model"),
    ApiEndpoint("GET", "/api/v1/credits", "live", "Balance, reserved and available credits"),
    ApiEndpoint("GET", "/api/v1/usage", "live", "Your usage, newest first, with totals"),
    ApiEndpoint("GET", "/api/v1/generation", "live", "One request's cost and outcome"),
    ApiEndpoint("POST", "/api/v1/responses", "live", "OpenAI Responses API (Codex CLI)"),
    ApiEndpoint("GET", "/api/v1/responses/{id}", "live", "A stored response"),
    ApiEndpoint("POST", "/api/v1/messages", "live", "Anthropic Messages API (Claude Code)"),
    ApiEndpoint("POST", "/api/v1/messages/count_tokens", "live", "Anthropic token counting"),
    ApiEndpoint("POST", "/api/v1/completions", "live", "Legacy completions"),
    ApiEndpoint("POST", "/api/v1/rerank", "live", "Rerank"),
    ApiEndpoint("GET", "/api/v1/key", "live", "The calling API key's limits and spend"),
    ApiEndpoint("POST", "/api/v1/credits/checkout", "live", "Buy credits"),
    ApiEndpoint("GET", "/api/v1/credits/payments", "live", "Your payments, newest first"),
    ApiEndpoint("GET", "/api/v1/credits/payments/{id}", "live", "A payment's status"),
    ApiEndpoint("POST", "/api/v1/store/{slug}/{path}", "live", "API Store products (any method)"),
)


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    regex = "".join("[^/?#]+" if part.startswith("{") else re.escape(part) for part in parts)
    return re.compile(f"^{regex}/?$")


_SITE = tuple(_pattern(p) for p in SITE_PATHS)
_API = tuple((e, _pattern(e.path)) for e in API_ENDPOINTS)


def strip_query(path: str) -> str:
    return re.split(r"[?#]", path, maxsplit=1)[0]


def is_site_path(path: str) -> bool:
    """Whether ``path`` (query and fragment ignored) is one of ``SITE_PATHS``."""
    bare = strip_query(path)
    return any(p.match(bare) for p in _SITE)


def api_endpoint(path: str) -> ApiEndpoint | None:
    """The documented endpoint ``path`` names (query ignored), or ``None``."""
    bare = strip_query(path)
    for endpoint, pattern in _API:
        if pattern.match(bare):
            return endpoint
    return None
