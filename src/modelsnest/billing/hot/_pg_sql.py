"""The PostgreSQL statements of the hot ledger: each common-path operation is ONE statement
(data-modifying CTEs), so one round trip and one implicit transaction.

Lock order is the reference's: the hold row first, then the user's credits row, then the
rollup and key rows. The ledger row's id is drawn (its column default) while the credits row
is locked, so a user's ledger ids follow the order of the balances they record, which
``verify_invariants`` checks. ``settle`` locks the hold with ``SELECT … FOR UPDATE`` rather
than updating it first, because the hold must also receive the id of the ledger row, and a
statement can modify a row only once: the one UPDATE of the hold comes last.

A settle that stores an idempotent answer uses its own prepared statement, ``SETTLE_WITH_REPLY``
(one more CTE, still one round trip), so the common settle carries no extra parameters. The
INSERT column lists and parameter types come from the tables (``_columns``)."""

from __future__ import annotations

from typing import Final

from sqlalchemy import Table

from modelsnest.billing import _db
from modelsnest.billing.hot._columns import (
    HOLD_COLUMNS,
    LEDGER_COLUMNS,
    REPLY_COLUMNS,
    USAGE_DAILY_COLUMNS,
    USAGE_LOG_COLUMNS,
    ordered,
    pg_type,
)
from modelsnest.billing.usage import ROLLUP_KEY, ROLLUP_SUMMED


def _params(first: int, table: Table, columns: tuple[str, ...]) -> str:
    """``$first::type, …`` for ``columns``, each cast to its column's type."""
    return ", ".join(f"${first + i}::{pg_type(table.c[name])}" for i, name in enumerate(columns))


def _usage_ctes(first: int, source: str) -> str:
    """Insert the usage_logs row (params ``first``…) and add the day's rollup (the next ones),
    once per row of ``source``: nothing when the hold was not ours to finish."""
    daily = first + len(USAGE_LOG_COLUMNS)
    added = ", ".join(f"{name} = usage_daily.{name} + excluded.{name}" for name in ROLLUP_SUMMED)
    return f"""usage_log AS (
    INSERT INTO usage_logs ({", ".join(USAGE_LOG_COLUMNS)})
    SELECT {_params(first, _db.usage_logs, USAGE_LOG_COLUMNS)} FROM {source}
), usage_day AS (
    INSERT INTO usage_daily ({", ".join(USAGE_DAILY_COLUMNS)})
    SELECT {_params(daily, _db.usage_daily, USAGE_DAILY_COLUMNS)} FROM {source}
    ON CONFLICT ({", ".join(ROLLUP_KEY)}) DO UPDATE SET {added}
)"""


_HOLD_VALUES: Final = ordered(
    _db.holds,
    {
        "id": "$1::varchar",
        "user_id": "gate.user_id",
        "api_token_id": "$4::bigint",
        "request_id": "$5::varchar",
        "amount_nanos": "$3::bigint",
        "status": "'active'",
        "idempotency_key": "$6::varchar",
        "created_at": "$8::timestamptz",
        "expires_at": "$9::timestamptz",
        "meta": "$7::json",
    },
)
# $1 hold id, $2 user, $3 amount, $4 API key, $5 request id, $6 idempotency key, $7 meta,
# $8 now, $9 expires. One row (the hold id) or none (not enough credits, or no account).
HOLD: Final = f"""WITH gate AS (
    UPDATE user_credits
    SET reserved_nanos = reserved_nanos + $3::bigint, updated_at = $8::timestamptz
    WHERE user_id = $2::bigint AND balance_nanos - reserved_nanos >= $3::bigint
    RETURNING user_id
)
INSERT INTO credit_holds ({", ".join(HOLD_COLUMNS)})
SELECT {", ".join(_HOLD_VALUES)}
FROM gate
RETURNING id"""

# Why a hold was refused: $1 idempotency key, $2 user.
HOLD_REFUSED: Final = """SELECT
    EXISTS (SELECT 1 FROM credit_holds WHERE idempotency_key = $1::varchar) AS taken,
    (SELECT balance_nanos - reserved_nanos FROM user_credits WHERE user_id = $2::bigint) AS available"""

SETTLE_LOG_FIRST: Final = 7
SETTLE_REPLY_FIRST: Final = SETTLE_LOG_FIRST + len(USAGE_LOG_COLUMNS) + len(USAGE_DAILY_COLUMNS)
_ENTRY_VALUES: Final = ordered(
    _db.ledger,
    {
        "user_id": "$2::bigint",
        "type": "'usage'",
        "amount_nanos": "-$3::bigint",
        "balance_after_nanos": "credits.balance_nanos",
        "reference_type": "'request'",
        "reference_id": f"${SETTLE_LOG_FIRST + USAGE_LOG_COLUMNS.index('request_id')}::varchar",
        "idempotency_key": "'settle:' || $1::varchar",
        "description": "$5::text",
        "created_at": "$4::timestamptz",
    },
)


def _settle(with_reply: bool) -> str:
    reply = ""
    if with_reply:
        first = SETTLE_REPLY_FIRST + 1
        assigned = ", ".join(
            f"{name} = ${first + i}::{pg_type(_db.idempotency.c[name])}"
            for i, name in enumerate(REPLY_COLUMNS)
        )
        reply = f""", answered AS (
    UPDATE idempotency_records SET {assigned}
    FROM credits WHERE idempotency_records.id = ${SETTLE_REPLY_FIRST}::bigint
        AND idempotency_records.status = 'pending' AND idempotency_records.api_token_id = $6::bigint
)"""
    return f"""WITH held AS (
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
    INSERT INTO credit_transactions ({", ".join(LEDGER_COLUMNS)})
    SELECT {", ".join(_ENTRY_VALUES)}
    FROM credits WHERE $3::bigint > 0
    RETURNING id
), settled AS (
    UPDATE credit_holds
    SET status = 'settled', finished_at = $4::timestamptz, settled_nanos = $3::bigint,
        transaction_id = (SELECT id FROM entry)
    FROM credits WHERE credit_holds.id = $1::varchar AND credit_holds.status = 'active'
){reply}, {_usage_ctes(SETTLE_LOG_FIRST, "credits")}, spent AS (
    UPDATE api_tokens SET spent_nanos = api_tokens.spent_nanos + $3::bigint
    FROM credits WHERE api_tokens.id = $6::bigint AND $3::bigint > 0
)
SELECT $1::varchar AS hold_id, credits.balance_nanos, (SELECT id FROM entry) AS transaction_id FROM credits"""


# $1 hold id, $2 user, $3 cost, $4 now, $5 ledger description, $6 API key, then the usage_logs
# row from $7 and the rollup row after it. One row (hold id, balance after, ledger id or NULL) or none:
# the hold is not active, not this user's, or smaller than the cost (the reference decides).
SETTLE: Final = _settle(with_reply=False)
# SETTLE, and then (from SETTLE_REPLY_FIRST) the idempotency record's id and REPLY_COLUMNS:
# the record is completed only if still 'pending' and the same API key's ($6).
SETTLE_WITH_REPLY: Final = _settle(with_reply=True)


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
