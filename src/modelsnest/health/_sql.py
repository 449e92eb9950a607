"""The dialect's INSERT … ON CONFLICT, for the rollups' add-to-the-row upserts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def add_to_rows(session: AsyncSession, table: Any, keys: Sequence[str], summed: Sequence[str]) -> Any:
    """An INSERT of rows that, for a key already present, adds ``summed`` columns instead.
    Execute it with a list of row dicts (executemany). Typed ``Any``: the two dialects'
    statements share this interface but no common type."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table)
    return statement.on_conflict_do_update(
        index_elements=list(keys),
        set_={name: table.c[name] + statement.excluded[name] for name in summed},
    )
