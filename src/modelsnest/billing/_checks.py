"""Argument checks at the ledger's door. Money is refused unless it is a plain ``int`` of nanos:
a ``bool`` is an ``int`` to Python and a ``float`` is never exact, so both are turned away."""

from __future__ import annotations

from typing import Final

from modelsnest.billing.types import USAGE_ORIGINS, USAGE_STATUSES, StoredReply, UsageRecord
from modelsnest.errors import InvalidRequest

# $1e9: far above any real amount, and far enough below BIGINT (9.2e18) that sums of many
# such amounts cannot overflow a balance column.
MAX_NANOS: Final = 10**18
INT32_MAX: Final = 2**31 - 1  # INTEGER columns (token counts, timings)
KEY_MAX: Final = 200  # credit_transactions.idempotency_key / credit_holds.idempotency_key
MEDIA_TYPE_MAX: Final = 100  # idempotency_records.response_media_type


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def nanos(value: object, name: str, *, minimum: int = 0) -> int:
    if not is_int(value):
        raise InvalidRequest(f"{name} must be an integer number of nano-dollars", param=name)
    assert isinstance(value, int)
    if value < minimum:
        raise InvalidRequest(f"{name} must be at least {minimum}", param=name)
    if value > MAX_NANOS:
        raise InvalidRequest(f"{name} is implausibly large", param=name)
    return value


def signed_nanos(value: object, name: str) -> int:
    """A non-zero signed amount (adjustments)."""
    if not is_int(value):
        raise InvalidRequest(f"{name} must be an integer number of nano-dollars", param=name)
    assert isinstance(value, int)
    if value == 0 or abs(value) > MAX_NANOS:
        raise InvalidRequest(f"{name} must be non-zero and plausible", param=name)
    return value


def count(value: object, name: str, maximum: int) -> int:
    if not is_int(value) or not isinstance(value, int) or not 0 <= value <= maximum:
        raise InvalidRequest(f"{name} must be an integer from 0 to {maximum}", param=name)
    return value


def positive_int(value: object, name: str) -> int:
    if not is_int(value) or not isinstance(value, int) or value <= 0:
        raise InvalidRequest(f"{name} must be a positive integer", param=name)
    return value


def text(value: object, name: str, max_len: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest(f"{name} must be a non-empty string", param=name)
    if len(value) > max_len:
        raise InvalidRequest(f"{name} is longer than {max_len} characters", param=name)
    return value


def optional_text(value: object, name: str, max_len: int) -> str | None:
    return None if value is None else text(value, name, max_len)


def key(value: object) -> str:
    return text(value, "idempotency_key", KEY_MAX)


def usage(record: UsageRecord) -> UsageRecord:
    """Lengths follow the usage_logs columns so that SQLite and PostgreSQL accept the same rows."""
    text(record.request_id, "request_id", 64)
    positive_int(record.user_id, "user_id")
    if record.api_token_id is not None:
        positive_int(record.api_token_id, "api_token_id")
    text(record.endpoint, "endpoint", 64)
    text(record.model_slug, "model_slug", 120)
    optional_text(record.provider_name, "provider_name", 64)
    optional_text(record.upstream_model, "upstream_model", 200)
    optional_text(record.unit_type, "unit_type", 32)
    optional_text(record.error_code, "error_code", 64)
    count(record.units, "units", MAX_NANOS)  # BIGINT
    for name in (
        "prompt_tokens",
        "completion_tokens",
        "cached_tokens",
        "cache_write_tokens",
        "reasoning_tokens",
        "audio_input_tokens",
        "audio_output_tokens",
    ):
        count(getattr(record, name), name, INT32_MAX)
    if record.upstream_cost_nanos is not None:
        nanos(record.upstream_cost_nanos, "upstream_cost_nanos")
    for name in ("price_version_id", "upstream_price_version_id"):
        if getattr(record, name) is not None:
            positive_int(getattr(record, name), name)
    if record.cost_breakdown is not None and (
        not isinstance(record.cost_breakdown, list)
        or not all(isinstance(line, dict) for line in record.cost_breakdown)
    ):
        raise InvalidRequest("cost_breakdown must be a list of objects", param="cost_breakdown")
    for name in ("latency_ms", "ttft_ms", "http_status"):
        if getattr(record, name) is not None:
            count(getattr(record, name), name, INT32_MAX)
    if record.status not in USAGE_STATUSES:
        raise InvalidRequest(f"status must be one of {sorted(USAGE_STATUSES)}", param="status")
    if record.origin not in USAGE_ORIGINS:
        raise InvalidRequest(f"origin must be one of {sorted(USAGE_ORIGINS)}", param="origin")
    return record


def reply(value: StoredReply | None, usage: UsageRecord) -> StoredReply | None:
    """An idempotency record belongs to one API key (``idempotency_records.api_token_id`` is
    NOT NULL), the one the request was billed to: a reply for a keyless call has no record."""
    if value is None:
        return None
    if not isinstance(value, StoredReply):
        raise InvalidRequest("reply must be a StoredReply", param="reply")
    if usage.api_token_id is None:
        raise InvalidRequest("a stored reply needs the API key the request was billed to", param="reply")
    positive_int(value.record_id, "reply.record_id")
    if not is_int(value.status) or not 100 <= value.status <= 599:
        raise InvalidRequest("reply.status must be an HTTP status (100-599)", param="reply.status")
    if not isinstance(value.body, bytes):
        raise InvalidRequest("reply.body must be bytes", param="reply.body")
    text(value.media_type, "reply.media_type", MEDIA_TYPE_MAX)
    if not isinstance(value.headers, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.headers.items()
    ):
        raise InvalidRequest("reply.headers must map header names to strings", param="reply.headers")
    return value
