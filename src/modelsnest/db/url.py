"""Map the database URLs that hosting providers hand out to the async drivers we use."""

from __future__ import annotations

from sqlalchemy.engine import make_url

_ASYNC_DRIVERS = {
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+psycopg2": "postgresql+asyncpg",
    "postgresql+psycopg": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
    "sqlite+pysqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
}


class UnsupportedDatabaseURL(ValueError):
    pass


def to_async_url(url: str) -> str:
    """``postgresql://u:p@h/db`` → ``postgresql+asyncpg://…``; ``sqlite:///x`` → ``sqlite+aiosqlite:///x``.

    ``sslmode`` (as Supabase and Heroku URLs carry it) becomes asyncpg's ``ssl``.
    """
    try:
        parsed = make_url(url)
    except Exception as exc:  # sqlalchemy raises ArgumentError with a long message
        # Never repeat the URL: it may carry a password.
        raise UnsupportedDatabaseURL("not a database URL: use postgresql://… or sqlite:///…") from exc
    driver = _ASYNC_DRIVERS.get(parsed.drivername)
    if driver is None:
        raise UnsupportedDatabaseURL(
            f"unsupported database {parsed.drivername!r}: use postgresql:// or sqlite:///"
        )
    parsed = parsed.set(drivername=driver)
    if driver.startswith("postgresql") and "sslmode" in parsed.query:
        query = dict(parsed.query)
        query["ssl"] = query.pop("sslmode")
        parsed = parsed.set(query=query)
    return parsed.render_as_string(hide_password=False)


def to_sync_url(async_url: str) -> str:
    """The synchronous twin of an async URL, for tools that need one."""
    parsed = make_url(async_url)
    name = "postgresql+psycopg2" if parsed.drivername.startswith("postgresql") else "sqlite"
    return parsed.set(drivername=name).render_as_string(hide_password=False)
