"""``create_hot_ledger`` picks the backend from the URL; asyncpg gets what it understands."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelsnest.billing.hot import (
    PostgresHotLedger,
    ReferenceLedger,
    SqliteHotLedger,
    create_hot_ledger,
)
from modelsnest.billing.hot.postgres import connect_args
from modelsnest.db.engine import create_engine, create_session_factory


async def test_the_backend_follows_the_url(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'f.db'}")
    sessions = create_session_factory(engine)
    try:
        ledgers = [
            create_hot_ledger(f"sqlite+aiosqlite:///{tmp_path / 'f.db'}", sessions),
            create_hot_ledger("sqlite+aiosqlite:///:memory:", sessions),
            create_hot_ledger("postgresql+asyncpg://u:p@127.0.0.1:1/x", sessions),
        ]
        assert [type(x) for x in ledgers] == [SqliteHotLedger, ReferenceLedger, PostgresHotLedger]
        for ledger in ledgers:
            await ledger.close()
        with pytest.raises(RuntimeError, match="closed"):  # a closed PostgreSQL ledger never reconnects
            await ledgers[2].hold(user_id=1, amount_nanos=1, idempotency_key="k")
        with pytest.raises(NotImplementedError):
            create_hot_ledger("mysql+aiomysql://u:p@h/x", sessions)
    finally:
        await engine.dispose()


def test_asyncpg_gets_ssl_and_the_statement_cache_size_as_arguments() -> None:
    dsn, kwargs = connect_args(
        "postgresql+asyncpg://user:p%40ss@db.example.com:6543/app?ssl=require&prepared_statement_cache_size=0"
    )
    assert dsn == "postgresql://user:p%40ss@db.example.com:6543/app"
    assert kwargs == {"ssl": "require", "statement_cache_size": 0}
    assert connect_args("postgresql+asyncpg://u@h/x") == ("postgresql://u@h/x", {})
