"""The PostgreSQL statements of the hot ledger: each common-path operation is ONE statement
(data-modifying CTEs), so one round trip and one implicit transaction.

Lock order is the reference's: the hold row first, then the user's credits row, then the
rollup and key rows. The ledger row's id is drawn (its column default) while the credits row
is locked, so a user's ledger ids follow the order of the balances they record, which
``verify_invariants`` checks. ``settle`` locks the hold with ``SELECT … FOR UPDATE`` rather
than updating it first, because the hold must also receive the id of the ledger row, and a
statement can modify a row only once: the one UPDATE of the hold comes last."""

from __future__ import annotations

from typing import Final

from modelsnest.billing.hot._common import (
    USAGE_DAILY_COLUMNS,
    USAGE_DAILY_KEY,
    USAGE_DAILY_SUMMED,
    USAGE_LOG_COLUMNS,
)

_LOG_TYPES: Final = {
    "request_id": "varchar",
    "user_id": "bigint",
    "api_token_id": "bigint",
    "endpoint": "varchar",
    "model_slug": "varchar",
    "provider_name": "varchar",
    "upstream_model": "varchar",
    "prompt_tokens": "integer",
    "completion_tokens": "integer",
    "units": "bigint",
    "unit_type": "varchar",
    "cost_nanos": "bigint",
    "latency_ms": "integer",
    "ttft_ms": "integer",
    "status": "varchar",
    "http_status": "integer",
    "error_code": "varchar",
    "error_message": "text",
    "cancelled": "boolean",
    "streamed": "boolean",
    "meta": "json",
    "created_at": "timestamptz",
}
_DAILY_TYPES: Final = {"day": "date", "model_slug": "varchar"}  # the others are bigint


def _placeholders(first: int, columns: tuple[str, ...], types: dict[str, str], default: str = "") -> str:
    return ", ".join(f"${first + i}::{types.get(name, default)}" for i, name in enumerate(columns))


def _usage_ctes(first: int, source: str) -> str:
    """Insert the usage_logs row (params ``first``…) and add the day's rollup (the next 10),
    once per row of ``source``: nothing when the hold was not ours to finish."""
    daily = first + len(USAGE_LOG_COLUMNS)
    added = ", ".join(f"{name} = usage_daily.{name} + excluded.{name}" for name in USAGE_DAILY_SUMMED)
    return f"""usage_log AS (
    INSERT INTO usage_logs ({", ".join(USAGE_LOG_COLUMNS)})
    SELECT {_placeholders(first, USAGE_LOG_COLUMNS, _LOG_TYPES)} FROM {source}
), usage_day AS (
    INSERT INTO usage_daily ({", ".join(USAGE_DAILY_COLUMNS)})
    SELECT {_placeholders(daily, USAGE_DAILY_COLUMNS, _DAILY_TYPES, "bigint")} FROM {source}
    ON CONFLICT ({", ".join(USAGE_DAILY_KEY)}) DO UPDATE SET {added}
)"""


# $1 hold id, $2 user, $3 amount, $4 API key, $5 request id, $6 idempotency key, $7 meta,
# $8 now, $9 expires. One row (the hold id) or none (not enough credits, or no account).
HOLD: Final = """WITH gate AS (
    UPDATE user_credits
    SET reserved_nanos = reserved_nanos + $3::bigint, updated_at = $8::timestamptz
    WHERE user_id = $2::bigint AND balance_nanos - reserved_nanos >= $3::bigint
    RETURNING user_id
)
INSERT INTO credit_holds (id, user_id, api_token_id, request_id, amount_nanos, status, idempotency_key,
    created_at, expires_at, meta)
SELECT $1::varchar, gate.user_id, $4::bigint, $5::varchar, $3::bigint, 'active', $6::varchar,
    $8::timestamptz, $9::timestamptz, $7::json
FROM gate
RETURNING id"""

# Why a hold was refused: $1 idempotency key, $2 user.
HOLD_REFUSED: Final = """SELECT
    EXISTS (SELECT 1 FROM credit_holds WHERE idempotency_key = $1::varchar) AS taken,
    (SELECT balance_nanos - reserved_nanos FROM user_credits WHERE user_id = $2::bigint) AS available"""

SETTLE_LOG_FIRST: Final = 7
# $1 hold id, $2 user, $3 cost, $4 now, $5 ledger description, $6 API key, then the usage_logs
# row from $7 and the rollup row after it. One row (balance after, ledger id or NULL) or none:
# the hold is not active, not this user's, or smaller than the cost (the reference decides).
SETTLE: Final = f"""WITH held AS (
    SELECT user_id, amount_nanos FROM credit_holds
    WHERE id = $1::varchar AND status = 'active' AND user_id = $2::bigint AND amount_nanos >= $3::bigint
    FOR UPDATE
), credits AS (
    UPDATE user_credits
    SET balance_nanos = user_credits.balance_nanos - $3::bigint,
        reserved_nanos = user_credits.reserved_nanos - held.amount_nanos,
        updated_at = $4::timestamptz
    FROM held WHERE user_credits.user_id = held.user_id
    RETURNING user_credits.balance_nanos
), entry AS (
    INSERT INTO credit_transactions (user_id, type, amount_nanos, balance_after_nanos, reference_type,
        reference_id, idempotency_key, description, created_at)
    SELECT $2::bigint, 'usage', -$3::bigint, credits.balance_nanos, 'request', ${SETTLE_LOG_FIRST}::varchar,
        'settle:' || $1::varchar, $5::text, $4::timestamptz
    FROM credits WHERE $3::bigint > 0
    RETURNING id
), settled AS (
    UPDATE credit_holds
    SET status = 'settled', finished_at = $4::timestamptz, settled_nanos = $3::bigint,
        transaction_id = (SELECT id FROM entry)
    FROM credits WHERE credit_holds.id = $1::varchar AND credit_holds.status = 'active'
), {_usage_ctes(SETTLE_LOG_FIRST, "credits")}, spent AS (
    UPDATE api_tokens SET spent_nanos = api_tokens.spent_nanos + $3::bigint
    FROM credits WHERE api_tokens.id = $6::bigint AND $3::bigint > 0
)
SELECT credits.balance_nanos, (SELECT id FROM entry) AS transaction_id FROM credits"""


def _release(with_usage: bool) -> str:
    owner = " AND user_id = $3::bigint" if with_usage else ""
    usage = f", {_usage_ctes(RELEASE_LOG_FIRST, 'credits')}" if with_usage else ""
    return f"""WITH released AS (
    UPDATE credit_holds SET status = 'released', finished_at = $2::timestamptz
    WHERE id = $1::varchar AND status = 'active'{owner}
    RETURNING user_id, amount_nanos
), credits AS (
    UPDATE user_credits
    SET reserved_nanos = user_credits.reserved_nanos - released.amount_nanos, updated_at = $2::timestamptz
    FROM released WHERE user_credits.user_id = released.user_id
    RETURNING user_credits.user_id
){usage}
SELECT count(*) FROM credits"""


RELEASE_LOG_FIRST: Final = 4
# $1 hold id, $2 now. 1 when released now; 0: not active (the reference decides).
RELEASE: Final = _release(with_usage=False)
# $1 hold id, $2 now, $3 the usage record's user (must own the hold), usage rows from $4.
RELEASE_WITH_USAGE: Final = _release(with_usage=True)
