"""Which columns the hot ledger's INSERTs write, taken from the SQLAlchemy tables, so that a
column added to a table cannot be dropped silently by the fast path.

An INSERT writes every column of its table except those listed in ``LEFT_OUT`` (with the
reason). A new column therefore either gets a value here (``ordered`` refuses, at import, a
statement that does not say what to write in it) or is added to ``LEFT_OUT`` on purpose; the
usage rows are the dicts the reference builds (``billing.usage.usage_log_row``), so a new
``UsageRecord`` field reaches its column on both paths. ``tests/billing/test_hot_columns.py``
parses every statement of both backends and checks their column lists against the tables and
against what the reference functions actually execute."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final, TypeVar

from sqlalchemy import Column, String, Table, Text
from sqlalchemy.engine import make_url

from modelsnest.billing import _db

T = TypeVar("T")

_GENERATED: Final = "the key the database generates (identity on PostgreSQL, rowid on SQLite)"

# table -> column -> why the hot ledger's INSERT does not write it (it is NULL or its default).
LEFT_OUT: Final[Mapping[str, Mapping[str, str]]] = MappingProxyType(
    {
        "usage_logs": {"id": _GENERATED},
        "usage_daily": {},
        "credit_transactions": {
            "id": _GENERATED,
            "actor": "a settlement is no operator's action: NULL, as the reference leaves it",
            "meta": "the reference writes no meta on a 'usage' ledger row: NULL",
        },
        "credit_holds": {
            "finished_at": "a new hold is active: NULL until it is settled or released",
            "settled_nanos": "a new hold has charged nothing: NULL until it is settled",
            "transaction_id": "a new hold has no ledger row: NULL until it is settled",
        },
    }
)


def inserted(table: Table) -> tuple[str, ...]:
    """The columns an INSERT of the hot ledger writes into ``table``, in the table's order."""
    left = LEFT_OUT[table.name]
    return tuple(column.name for column in table.c if column.name not in left)


def ordered(table: Table, values: Mapping[str, T]) -> tuple[T, ...]:
    """``values`` (column -> SQL expression) in ``inserted(table)`` order; refuses a mapping
    that misses a column of the table or names one that is not there."""
    names = inserted(table)
    missing = [name for name in names if name not in values]
    unknown = [name for name in values if name not in names]
    if missing or unknown:
        raise RuntimeError(
            f"the hot ledger's INSERT into {table.name} does not match the table: "
            f"no value for {missing}, unknown {unknown} (give a value, or list it in LEFT_OUT)"
        )
    return tuple(values[name] for name in names)


_POSTGRESQL: Final = make_url("postgresql+asyncpg://").get_dialect()()


def pg_type(column: Column[Any]) -> str:
    """The PostgreSQL type a parameter for ``column`` is cast to: the column's own, but without
    a length (a cast to varchar(n) would truncate silently where the INSERT would refuse)."""
    if isinstance(column.type, Text):
        return "text"
    if isinstance(column.type, String):
        return "varchar"
    return str(column.type.compile(dialect=_POSTGRESQL)).lower()


USAGE_LOG_COLUMNS: Final = inserted(_db.usage_logs)
USAGE_DAILY_COLUMNS: Final = inserted(_db.usage_daily)
HOLD_COLUMNS: Final = inserted(_db.holds)
LEDGER_COLUMNS: Final = inserted(_db.ledger)
# The columns a settle with a StoredReply sets in the idempotency record (an UPDATE, so not
# derived from the table: ``settlement.reply_values`` is the specification, and the test
# compares both backends' statements with what the reference executes).
REPLY_COLUMNS: Final = (
    "status",
    "response_status",
    "response_body",
    "response_media_type",
    "response_headers",
)
