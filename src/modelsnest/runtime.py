"""Long-lived objects of one server process, created in the app's lifespan and reached from
routes through ``api/deps.py``. Nothing here is module-global."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from modelsnest.db.engine import SessionFactory, create_engine, create_session_factory
from modelsnest.settings import Settings


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessions: SessionFactory
    # Filled in by the parts that need them (gateway, limits, caches); see app.lifespan.
    extras: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def create(cls, settings: Settings) -> Runtime:
        engine = create_engine(settings.async_database_url, pool_size=settings.db_pool_size)
        return cls(settings=settings, engine=engine, sessions=create_session_factory(engine))

    async def close(self) -> None:
        await self.engine.dispose()
