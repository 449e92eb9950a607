"""Placeholders in content: operator facts from configuration and the request's base URL,
substituted into the Markdown *before* it is rendered, through a sandboxed Jinja2
environment.

The sandbox (``ImmutableSandboxedEnvironment``) refuses attribute tricks such as
``{{ ''.__class__.__mro__ }}`` and any mutation; ``StrictUndefined`` turns a misspelt
placeholder into an error instead of an empty string. Both surface as ``ContentError``
naming the file, so a bad edit fails loudly at start-up or in the tests, never silently on a
page. Values are not escaped here: the output is Markdown, and the HTML made from it is
sanitised afterwards (``markdown.py``), which is what keeps a hostile value harmless.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from modelsnest.content.types import ContentError
from modelsnest.settings import Settings

# Host (name, IPv4 or [IPv6]) with an optional port and path: nothing that could carry
# Markdown, HTML or a second URL into a page.
_BASE_URL = re.compile(
    r"^https?://[A-Za-z0-9.\-]+(:\d{1,5})?(/[A-Za-z0-9._~\-/]*)?$|^https?://\[[0-9A-Fa-f:.]+\](:\d{1,5})?(/[A-Za-z0-9._~\-/]*)?$"
)
FALLBACK_BASE_URL = "http://127.0.0.1:8000"

# Settings whose defaults are stand-ins an operator should replace before going public.
_OPERATOR_FACTS = (
    "company_legal_name",
    "company_address",
    "company_jurisdiction",
    "contact_email",
    "support_email",
    "security_email",
    "privacy_email",
)


def normalize_base_url(url: str | None) -> str:
    """``url`` without its trailing slash when it is a plain http(s) origin (plus path);
    otherwise the local default. A Host header is client-controlled: it must not be able to
    put arbitrary text into a page."""
    if not url:
        return FALLBACK_BASE_URL
    candidate = url.strip().rstrip("/")
    if not _BASE_URL.match(candidate) or urlsplit(candidate).hostname is None:
        return FALLBACK_BASE_URL
    return candidate


@dataclass(frozen=True)
class OperatorContext:
    """The operator's facts and a few limits of this deployment, as placeholders see them."""

    values: Mapping[str, Any]

    @classmethod
    def from_settings(cls, settings: Settings) -> OperatorContext:
        def hours(seconds: int) -> int:
            return max(1, round(seconds / 3600))

        legal_name = settings.company_legal_name or settings.company_name
        return cls(
            {
                "company_name": settings.company_name,
                "company_legal_name": legal_name,
                "company_address": settings.company_address,
                "company_jurisdiction": settings.company_jurisdiction,
                "company_registration": settings.company_registration,
                "contact_email": settings.contact_email,
                "support_email": settings.support_email,
                "security_email": settings.security_email,
                "privacy_email": settings.privacy_email,
                # Deployment facts, so the text stays true when the operator tunes them.
                "idempotency_hours": hours(settings.idempotency_ttl_seconds),
                "media_hours": hours(settings.media_ttl_seconds),
                "max_upload_mb": settings.max_upload_bytes // (1024 * 1024),
                "stream_drain_seconds": _plain_number(settings.stream_drain_seconds),
                "hold_minutes": max(1, settings.hold_ttl_seconds // 60),
                "default_max_output_tokens": settings.default_max_output_tokens,
                "concurrency_limit": settings.user_concurrency_limit,
                "video_timeout_minutes": max(1, settings.video_timeout_seconds // 60),
            }
        )

    def with_base_url(self, base_url: str) -> dict[str, Any]:
        return {**self.values, "base_url": base_url}


def missing_operator_facts(settings: Settings) -> list[str]:
    """Environment variables still unset or on their stand-in defaults, which the legal and
    company pages would otherwise cover with neutral wording. For ``doctor`` and the admin."""
    defaults = Settings.model_fields
    missing = []
    for name in _OPERATOR_FACTS:
        value = getattr(settings, name)
        if value is None or value == defaults[name].default:
            missing.append(f"MODELSNEST_{name.upper()}")
    return missing


def _plain_number(value: float) -> str:
    return f"{value:g}"


def make_environment() -> ImmutableSandboxedEnvironment:
    return ImmutableSandboxedEnvironment(
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def compile_template(env: jinja2.Environment, source: str, origin: str) -> jinja2.Template:
    try:
        return env.from_string(source)
    except jinja2.TemplateSyntaxError as exc:
        raise ContentError(f"{origin}: line {exc.lineno}: {exc.message}") from exc


def render_template(template: jinja2.Template, context: Mapping[str, Any], origin: str) -> str:
    """Fill the placeholders; any failure becomes a ``ContentError`` that says which file and why."""
    try:
        return template.render(context)
    except jinja2.exceptions.SecurityError as exc:
        raise ContentError(f"{origin}: unsafe placeholder refused by the sandbox: {exc}") from exc
    except jinja2.UndefinedError as exc:
        known = ", ".join(sorted(context))
        raise ContentError(f"{origin}: unknown placeholder ({exc.message}); known: {known}") from exc
    except jinja2.TemplateError as exc:
        raise ContentError(f"{origin}: {exc}") from exc
    except Exception as exc:  # a sandboxed call that blew up (e.g. a filter on the wrong type)
        raise ContentError(f"{origin}: placeholder failed: {type(exc).__name__}: {exc}") from exc
