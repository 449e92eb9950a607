"""Core SQL plumbing shared by the ledger modules: table handles, the dialect's INSERT (for
ON CONFLICT), and a precise reading of the IntegrityErrors our own statements can raise.

The hot path uses Core tables, not ORM entities: no identity map, no object loading, one
round trip per statement."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Null, Table, null
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from modelsnest.db.models import (
    ApiToken,
    CreditHold,
    CreditTransaction,
    IdempotencyRecord,
    UsageDaily,
    UsageLog,
    UserCredits,
)

credits = cast(Table, UserCredits.__table__)
ledger = cast(Table, CreditTransaction.__table__)
holds = cast(Table, CreditHold.__table__)
usage_logs = cast(Table, UsageLog.__table__)
usage_daily = cast(Table, UsageDaily.__table__)
api_tokens = cast(Table, ApiToken.__table__)
idempotency = cast(Table, IdempotencyRecord.__table__)  # only ``settle(reply=…)`` writes here


class KeyTaken(Exception):
    """A concurrent call committed the same idempotency key first: roll back ours and replay."""


def dialect_name(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def upsert(session: AsyncSession, table: Table) -> Any:
    """``INSERT`` with ``on_conflict_do_nothing/do_update`` for the session's database.

    Both dialects spell ON CONFLICT the same way in SQLAlchemy; typed ``Any`` because their
    Insert classes share that interface without a common base that declares it."""
    name = dialect_name(session)
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"the ledger supports SQLite and PostgreSQL, not {name}")


def json_value(value: dict[str, Any] | list[Any] | None) -> dict[str, Any] | list[Any] | Null:
    """SQL NULL for "no meta" (a bare None would be stored as the JSON text 'null')."""
    return null() if value is None else value


@dataclass(frozen=True)
class Violation:
    kind: str  # unique | foreign_key | check | not_null | other
    detail: str  # PostgreSQL constraint name or SQLite's message ("table.column" for UNIQUE)

    def is_unique(self, table: str, column: str) -> bool:
        return self.kind == "unique" and (
            self.detail == f"uq_{table}_{column}" or f"{table}.{column}" in self.detail
        )


_PG_STATES = {"23505": "unique", "23503": "foreign_key", "23514": "check", "23502": "not_null"}
_SQLITE_NAMES = {
    "SQLITE_CONSTRAINT_UNIQUE": "unique",
    "SQLITE_CONSTRAINT_PRIMARYKEY": "unique",
    "SQLITE_CONSTRAINT_FOREIGNKEY": "foreign_key",
    "SQLITE_CONSTRAINT_CHECK": "check",
    "SQLITE_CONSTRAINT_NOTNULL": "not_null",
}


def violation(exc: IntegrityError) -> Violation:
    """Which constraint failed, from the driver's own error codes (asyncpg or sqlite3)."""
    orig: BaseException | None = exc.orig
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate is not None:
        driver_error = getattr(orig, "orig", None) or getattr(orig, "__cause__", None)
        name = getattr(driver_error, "constraint_name", None) or str(orig)
        return Violation(_PG_STATES.get(sqlstate, "other"), name)
    errorname = getattr(orig, "sqlite_errorname", "")
    return Violation(_SQLITE_NAMES.get(errorname, "other"), str(orig))
