from __future__ import annotations

from tests.fakes.fixtures import (  # noqa: F401
    _anthropic_upstream_server,
    _openai_upstream_server,
    anthropic_upstream,
    anthropic_upstream_in_loop,
    fake_upstream_process,
    openai_upstream,
    openai_upstream_in_loop,
)
