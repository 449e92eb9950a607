"""What an administrator does in the panel of one server process takes effect on another one
sharing the same PostgreSQL, within the documented cache delay (``MODELSNEST_CACHE_TTL_SECONDS``,
0.2 s for these servers): a deactivated model, a disabled account, a revoked key."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from modelsnest.auth.api_keys import create_key
from modelsnest.auth.users import create_user
from modelsnest.money import usd_to_nanos
from tests import services
from tests.gateway.conftest import _seed
from tests.live import Platform, ServerProcess, start_server
from tests.web.helpers import STRONG_PASSWORD, csrf_of

pytestmark = pytest.mark.postgres

ADMIN = "replica-ops@modelsnest.example"
DELAY_SECONDS = 3.0  # the cache delay (0.2 s here) with room for a busy machine


@pytest.fixture(scope="module")
def database(postgres_template: str) -> Iterator[str]:
    name = services.clone_pg_database(postgres_template)
    url = services.pg_database_url(name)
    asyncio.run(_seed(url))
    yield url
    services.drop_pg_database(name)


@pytest.fixture(scope="module")
def replicas(
    database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    first = start_server(database, tmp_path_factory.mktemp("replica-a"))
    second = start_server(database, tmp_path_factory.mktemp("replica-b"))
    yield first, second
    first.stop()
    second.stop()


def panel_of(server: ServerProcess) -> httpx.Client:
    """An administrator signed in to ``server``'s panel."""
    client = httpx.Client(base_url=server.base_url, timeout=30)
    login = client.get("/login")
    answer = client.post(
        "/login", data={"csrf_token": csrf_of(login.text), "email": ADMIN, "password": STRONG_PASSWORD}
    )
    assert answer.status_code == 303, answer.text[:2000]
    return client


def act(panel: httpx.Client, page: str, action: str, data: dict[str, str]) -> None:
    form = panel.get(page)
    assert form.status_code == 200, form.text[:2000]
    answer = panel.post(action, data={"csrf_token": csrf_of(form.text), **data})
    assert answer.status_code == 303, answer.text[:2000]


def chat(server: ServerProcess, token: str, model: str = "deepseek") -> httpx.Response:
    return httpx.post(
        f"{server.api_base}/chat/completions",
        json={"model": model, "messages": [{"role": "user", "content": "hello"}], "max_tokens": 8},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )


def within_the_delay(check: Callable[[], bool]) -> float:
    """Seconds until ``check()`` held (fails after ``DELAY_SECONDS``)."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < DELAY_SECONDS, "not in effect on the other replica in time"
        time.sleep(0.05)
    return time.monotonic() - started


async def _customer(database: str) -> tuple[int, int, str]:
    platform = Platform(database)
    try:
        user = await create_user(
            platform.sessions, email=f"c{time.monotonic_ns()}@example.com", credits_nanos=usd_to_nanos("5")
        )
        key, token = await create_key(platform.sessions, user_id=user.id, name="replicated")
        return user.id, key.id, token
    finally:
        await platform.close()


@pytest.fixture(scope="module")
def admin(database: str) -> None:
    async def make() -> None:
        platform = Platform(database)
        try:
            await create_user(platform.sessions, email=ADMIN, password=STRONG_PASSWORD, role="admin")
        finally:
            await platform.close()

    asyncio.run(make())


def test_a_model_deactivated_on_one_replica_is_unavailable_on_the_other(
    replicas: tuple[ServerProcess, ServerProcess], admin: None, database: str
) -> None:
    first, second = replicas
    _, _, token = asyncio.run(_customer(database))
    assert chat(second, token).status_code == 200
    with contextlib.closing(panel_of(first)) as panel:
        act(panel, "/admin/catalog/deepseek/edit", "/admin/catalog/deepseek/status", {"status": "disabled"})
        try:
            within_the_delay(
                lambda: (
                    (r := chat(second, token)).status_code == 400
                    and r.json()["error"]["code"] == "MODEL_UNAVAILABLE"
                )
            )
        finally:
            act(panel, "/admin/catalog/deepseek/edit", "/admin/catalog/deepseek/status", {"status": "active"})
    within_the_delay(lambda: chat(second, token).status_code == 200)


def test_a_disabled_account_and_a_revoked_key_stop_working_on_the_other_replica(
    replicas: tuple[ServerProcess, ServerProcess], admin: None, database: str
) -> None:
    first, second = replicas
    disabled_user, _, disabled_token = asyncio.run(_customer(database))
    revoked_user, revoked_key, revoked_token = asyncio.run(_customer(database))
    assert chat(second, disabled_token).status_code == 200
    assert chat(second, revoked_token).status_code == 200
    with contextlib.closing(panel_of(first)) as panel:
        user_page = f"/admin/users/{disabled_user}"
        act(panel, user_page, user_page + "/status", {"status": "disabled"})
        owner_page = f"/admin/users/{revoked_user}"
        act(panel, owner_page, f"{owner_page}/keys/{revoked_key}/revoke", {})
    within_the_delay(lambda: chat(second, disabled_token).status_code == 401)
    within_the_delay(lambda: chat(second, revoked_token).status_code == 401)
