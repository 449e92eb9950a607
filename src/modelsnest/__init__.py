"""Modelsnest: one OpenAI-compatible API and one key for many AI models."""

import sys

__version__ = "0.1.0"

# httpx imports its command-line client whenever click, rich and pygments are installed (they
# are, for our own CLI): 6 MB in every server worker for a tool we never run. A failed import of
# `httpx._main` is httpx's own documented fallback (`httpx.main` then explains what is missing).
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
