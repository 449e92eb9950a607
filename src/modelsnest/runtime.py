"""The database runtime (settings, engine, sessions) of a command or a test. A server process
holds this and much more in ``services.Services``."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from modelsnest.db.engine import SessionFactory, create_engine, create_session_factory
from modelsnest.settings import Settings


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessions: SessionFactory

    @classmethod
    def create(cls, settings: Settings) -> Runtime:
        engine = create_engine(settings.async_database_url, pool_size=settings.db_pool_size)
        return cls(settings=settings, engine=engine, sessions=create_session_factory(engine))

    async def close(self) -> None:
        await self.engine.dispose()
