"""What an adapter may know of the request it serves: only its id, sent upstream as
``X-Request-Id`` so an operator can match our usage row with the provider's own logs."""

from __future__ import annotations

from contextvars import ContextVar

upstream_request_id: ContextVar[str | None] = ContextVar("upstream_request_id", default=None)


def request_headers(headers: dict[str, str] | None) -> dict[str, str] | None:
    """``headers`` with the current request id added (a caller's own id wins)."""
    request_id = upstream_request_id.get()
    if request_id is None:
        return headers
    merged = {"X-Request-Id": request_id}
    if headers:
        merged.update(headers)
    return merged
