"""A real Modelsnest server for end-to-end tests: ``modelsnest serve`` in a subprocess, the
way users run it, against a database of the test's own, plus helpers to set up accounts,
providers and models through the services (never through mocks)."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from modelsnest import billing
from modelsnest.auth.api_keys import create_key
from modelsnest.auth.users import create_user
from modelsnest.catalog import providers as catalog_providers
from modelsnest.catalog.price_input import parse_component_key, parse_price
from modelsnest.catalog.price_rows import write_version
from modelsnest.catalog.prices import set_route_cost
from modelsnest.catalog.types import PriceComponent, PriceInfo
from modelsnest.crypto import SecretBox
from modelsnest.db.engine import SessionFactory, create_engine, create_session_factory
from modelsnest.db.models import AiModel, AiModelCategory
from modelsnest.money import usd_to_nanos

SECRET_KEY = "live-test-secret-" + "k" * 32


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    database_url: str = ""

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        return f"{self.base_url}/api/v1"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


def start_server(
    database_url: str, var_dir: Path, *, extra_env: dict[str, str] | None = None, workers: int = 1
) -> ServerProcess:
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("MODELSNEST_") or k.startswith("MODELSNEST_TEST_")
    }
    env.update(
        {
            "MODELSNEST_DATABASE_URL": database_url,
            "MODELSNEST_SECRET_KEY": SECRET_KEY,
            "MODELSNEST_VAR_DIR": str(var_dir),
            "MODELSNEST_ENVIRONMENT": "test",
            "MODELSNEST_CACHE_TTL_SECONDS": "0.2",
            "MODELSNEST_LOG_LEVEL": "WARNING",
            "MODELSNEST_STREAM_DRAIN_SECONDS": "2",
            "MODELSNEST_CIRCUIT_FAILURE_THRESHOLD": "3",
            "MODELSNEST_CIRCUIT_COOLDOWN_SECONDS": "60",
            "MODELSNEST_VIDEO_POLL_SECONDS": "0.3",
        }
    )
    env.update(extra_env or {})
    var_dir.mkdir(parents=True, exist_ok=True)
    log_path = var_dir / f"server-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "modelsnest", "serve", "--host", "127.0.0.1", "--port", str(port)),
                *(("--workers", str(workers)) if workers > 1 else ()),
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    server = ServerProcess(port, process, log_path, database_url)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{server.log()}")
        try:
            if httpx.get(f"{server.base_url}/readyz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"server did not become ready:\n{server.log()}")


@dataclass
class Account:
    user_id: int
    key_id: int
    token: str


@dataclass
class Platform:
    """Set-up helpers bound to the live server's database."""

    database_url: str
    sessions: SessionFactory = field(init=False)
    box: SecretBox = field(default_factory=lambda: SecretBox(SECRET_KEY))

    def __post_init__(self) -> None:
        self.engine = create_engine(self.database_url, pool_size=5)
        self.sessions = create_session_factory(self.engine)

    async def close(self) -> None:
        await self.engine.dispose()

    async def account(self, credits: str = "10", **key_options: Any) -> Account:
        user = await create_user(
            self.sessions, email=f"u{secrets.token_hex(6)}@example.com", credits_nanos=usd_to_nanos(credits)
        )
        view, token = await create_key(self.sessions, user_id=user.id, **key_options)
        return Account(user.id, view.id, token)

    async def provider(
        self, kind: str, base_url: str | None, *, api_key: str | None = None, **timeouts: float
    ) -> str:
        name = f"{kind}-{secrets.token_hex(4)}"
        await catalog_providers.add_provider(
            self.sessions, self.box, name=name, kind=kind, base_url=base_url, api_key=api_key, **timeouts
        )
        return name

    async def model(
        self,
        routes: Sequence[tuple[str, str] | tuple[str, str, int] | tuple[str, str, int, int]],
        *,
        input_price: str = "0.001",
        output_price: str = "0.002",
        unit: str = "per_1k_tokens",
        endpoint: str = "chat",
        category: str = "text",
        max_output_tokens: int | None = 1000,
        status: str = "active",
        dimensions: Mapping[str, str] | None = None,
    ) -> str:
        """A catalog model of the test's own, routed to ``(provider, upstream[, priority[, weight]])``.

        ``dimensions``: further price components as ``price_input`` writes them, USD per unit
        (``{"cached_input": "0.0005", "input>1000": "0.002", "image:1024x1024/high": "0.2"}``)."""
        components = tuple(
            PriceComponent(dimension, usd_to_nanos(value), variant, tier)
            for key, value in (dimensions or {}).items()
            for dimension, variant, tier in [parse_component_key(key)]
        )
        slug = f"test-{secrets.token_hex(4)}"
        async with self.sessions.begin() as session:
            category_id = (
                await session.execute(select(AiModelCategory.id).where(AiModelCategory.slug == category))
            ).scalar_one()
            model = AiModel(
                slug=slug,
                name=slug,
                vendor="Test",
                category_id=category_id,
                endpoint=endpoint,
                status=status,
                max_output_tokens=max_output_tokens,
                context_length=8192,
                capabilities={},
                upstream_ids={},
            )
            session.add(model)
            await session.flush()
            price = PriceInfo(unit, usd_to_nanos(input_price), usd_to_nanos(output_price), components)
            await write_version(
                session,
                model_id=model.id,
                route_id=None,
                price=price,
                source="operator",
                actor="test",
                reason="test model",
            )
        for index, route in enumerate(routes):
            provider, upstream = route[0], route[1]
            priority = route[2] if len(route) > 2 else 10 + index  # type: ignore[misc]
            weight = route[3] if len(route) > 3 else 1  # type: ignore[misc]
            await catalog_providers.add_route(
                self.sessions,
                model_slug=slug,
                provider_name=provider,
                upstream_model=upstream,
                priority=priority,
                weight=weight,
            )
        await asyncio.sleep(0.3)  # the server's catalog cache refreshes every 0.2 s in tests
        return slug

    async def route_id(self, model_slug: str, provider: str) -> int:
        routes = await catalog_providers.list_routes(self.sessions, model_slug)
        return next(r.id for r in routes if r.provider_name == provider)

    async def route_cost(self, model_slug: str, provider: str, unit: str, entries: Mapping[str, str]) -> int:
        """Give the model's route to ``provider`` a cost price (``price_input`` entries); its version id."""
        version = await set_route_cost(
            self.sessions,
            await self.route_id(model_slug, provider),
            parse_price(unit, entries),
            actor="test",
            reason="test cost",
        )
        assert version is not None
        await asyncio.sleep(0.3)
        return version.id

    async def balance(self, user_id: int) -> billing.Balance:
        return await billing.get_balance(self.sessions, user_id)

    async def invariants(self, user_id: int) -> list[str]:
        return await billing.verify_invariants(self.sessions, user_id)
