"""The hot ledger: ``hold`` / ``settle`` / ``release`` for the gateway's request path, fast.

Why this exists (measured on the 2-core CI machine): the reference functions
(``billing.hold/settle/release``, SQLAlchemy 2 async Core) cost, per call,

* SQLite (aiosqlite): hold ≈ 13 ms, settle ≈ 22 ms — one thread hop and GIL hand-off per
  statement (hold = 2 statements, settle ≈ 7);
* PostgreSQL (asyncpg under SQLAlchemy): hold ≈ 7 ms, settle ≈ 12 ms under load, while raw
  asyncpg runs such a transaction in ≈ 0.3 ms.

The gateway's target is ~1000 requests/s on 2 worker processes with ≤ 2 ms added latency, so
hold and settle must each cost well under 1 ms. This package gets there with

* PostgreSQL: a raw asyncpg pool and ONE prepared statement (data-modifying CTEs) per common
  operation: one round trip, one implicit transaction (``postgres``, ``_pg_sql``);
* SQLite: one writer thread owning a stdlib ``sqlite3`` connection that commits every job
  queued so far in one ``BEGIN IMMEDIATE … COMMIT`` with a SAVEPOINT per job (``sqlite``,
  ``_writer``).

Measured with ``pytest tests/billing/test_hot_bench.py -s`` on the same machine (mean per call,
one process; sequential, then paced at 500 requests/s = one of 2 processes at 1000/s):

* SQLite: hold 0.18–0.31 ms / 0.23–0.38 ms, settle 0.29–0.46 ms / 0.33–0.43 ms (reference
  1.8–2.9 / 4.4–6.9 ms sequential); 64-way concurrent 3 700–6 100 hold+settle pairs/s thanks to
  group commit (reference ≈ 100/s).
* PostgreSQL: hold 0.42–0.58 ms / 0.46–0.60 ms (p99 0.8–3), settle 0.54–0.75 ms / 0.6–0.79 ms
  (p99 1.2–3) (reference 2.0–3.0 / 4.6–6.5 ms sequential); 64-way 950–1 500 pairs/s
  (reference 90–140/s). What is left is the server: the WAL flush of each commit (0.25–0.45 ms
  on this disk) and ≈ 0.7 ms of server CPU per pair (index upkeep, FK triggers). Settle as two
  statements in one transaction (a second UPDATE for the hold's transaction id) measured 1.0–1.15
  ms against 0.56–0.67 ms for the single statement.
* Storing an idempotent answer in the settle (``reply=``, a ~1 KB body): SQLite 0.47–0.70 ms
  against 0.41–0.57 ms without, PostgreSQL 0.81–0.96 ms against 0.71–0.75 ms (same runs,
  sequential; one more row written in the same commit, and on PostgreSQL still one round trip).

It MIRRORS the reference functions, which remain the specification: same rows and columns in
``user_credits``, ``credit_holds``, ``credit_transactions`` (``settle:{hold_id}`` key, balance
after), ``usage_logs``, ``usage_daily``, ``api_tokens.spent_nanos`` and, for a settle with a
``StoredReply``, ``idempotency_records`` (in the same transaction: on PostgreSQL one more CTE in
a second prepared statement used only then, on SQLite one more statement in the job's
savepoint); same hold ids, status transitions, results and errors; the same stored bytes for
timestamps and JSON (through the engine dialect's own bind processors). The INSERT column lists
come from the SQLAlchemy tables and the usage rows are the reference's own dicts (``_columns``),
so a new column cannot be dropped silently. Every rare path — a replayed idempotency key,
settling a hold that is not active, a cost above the hold, a unique-key or foreign-key
collision, a free hold without an account — writes nothing here and is handed to the reference
function with ``sessions``. A change to the reference must be made here too;
``tests/billing/test_hot_*`` compare both implementations column by column on SQLite and
PostgreSQL (a fixed script, and a random state machine on two databases), and
``test_hot_columns`` checks every statement's column lists against the tables and the reference.
"""

from __future__ import annotations

from sqlalchemy.engine import Dialect, make_url

from modelsnest.billing.hot._common import Encoder
from modelsnest.billing.hot.postgres import PostgresHotLedger
from modelsnest.billing.hot.protocol import HotLedger, ReferenceLedger
from modelsnest.billing.hot.sqlite import SqliteHotLedger
from modelsnest.db.engine import SessionFactory

__all__ = [
    "HotLedger",
    "PostgresHotLedger",
    "ReferenceLedger",
    "SqliteHotLedger",
    "create_hot_ledger",
]


def create_hot_ledger(async_database_url: str, sessions: SessionFactory, *, pool_size: int = 10) -> HotLedger:
    """The hot ledger for the database ``sessions`` is bound to (give the same URL).

    PostgreSQL: an asyncpg pool of up to ``pool_size`` connections, opened on first use.
    SQLite file: a writer thread, started now. An in-memory SQLite database cannot be shared
    with another connection, so it gets the reference implementation. Call ``close()`` on
    shutdown (it finishes what is queued)."""
    url = make_url(async_database_url)
    backend = url.get_backend_name()
    encoder = Encoder(_dialect(sessions, url.get_dialect()()))
    if backend == "postgresql":
        return PostgresHotLedger(async_database_url, sessions, encoder, pool_size=pool_size)
    if backend == "sqlite":
        database = url.database
        if not database or database == ":memory:" or database.startswith("file:"):
            return ReferenceLedger(sessions)
        return SqliteHotLedger(database, sessions, encoder)
    raise NotImplementedError(f"the ledger supports SQLite and PostgreSQL, not {backend}")


def _dialect(sessions: SessionFactory, fallback: Dialect) -> Dialect:
    """The engine's own dialect (its JSON serializer included), when the factory is bound."""
    bind = sessions.kw.get("bind")
    dialect = getattr(bind, "dialect", None)
    return dialect if isinstance(dialect, Dialect) else fallback
