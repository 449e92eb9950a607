"""Which paths are pages (HTML, cookies, CSRF) and which are the machine API (JSON), and where
a visitor may be sent after signing in."""

from __future__ import annotations

from urllib.parse import urlsplit

# Paths that never render HTML: the OpenAI-compatible API, webhooks, probes, served files.
MACHINE_PREFIXES = ("/api/", "/webhooks/", "/files/", "/static/")
MACHINE_PATHS = frozenset({"/api", "/healthz", "/readyz", "/metrics", "/webhooks", "/favicon.ico"})

DEFAULT_AFTER_LOGIN = "/dashboard"
MAX_NEXT_LENGTH = 2000


def is_page_path(path: str) -> bool:
    return path not in MACHINE_PATHS and not path.startswith(MACHINE_PREFIXES)


def safe_next(value: str | None, default: str = DEFAULT_AFTER_LOGIN) -> str:
    """``value`` when it is a path on this site, else ``default``: no scheme, no host, no
    protocol-relative ``//evil``, no backslashes (browsers read ``/\\evil`` as ``//evil``), no
    control characters, and never back to the sign-in pages themselves."""
    if not value or len(value) > MAX_NEXT_LENGTH:
        return default
    if "\\" in value or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        return default
    if not value.startswith("/") or value.startswith("//"):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return default
    if parts.path in ("/login", "/logout", "/signup", "/login/two-factor"):
        return default
    return value
