"""Stop in the playground against a real server: the browser closes the stream, the server
sees the disconnect, the gateway cancels the upstream and bills only what was delivered (the
same path as an API client that hangs up); the partial answer is kept with that bill."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from modelsnest.auth.users import create_user
from modelsnest.catalog.seed import seed_catalog
from modelsnest.crypto import SecretBox
from modelsnest.db.engine import create_engine, create_session_factory
from modelsnest.db.url import to_async_url
from modelsnest.money import usd_to_nanos
from modelsnest.playground import get_conversation
from modelsnest.providers.tokens import count_tokens
from tests import services
from tests.fakes.openai_upstream import FakeOpenAIUpstream
from tests.gateway.helpers import expected_cost_nanos
from tests.live import SECRET_KEY, Platform, ServerProcess, start_server
from tests.web.helpers import STRONG_PASSWORD, csrf_of
from tests.web.playground_helpers import sse

LONG_REPLY = " ".join(f"word{i}" for i in range(300))


async def _seed(database_url: str) -> None:
    engine = create_engine(database_url, pool_size=2)
    try:
        await seed_catalog(
            create_session_factory(engine),
            secret_box=SecretBox(SECRET_KEY),
            simulator_enabled=True,
            provider_keys={},
        )
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    directory = tmp_path_factory.mktemp("playground-live")
    database_url = to_async_url(f"sqlite:///{services.create_sqlite_template(directory)}")
    asyncio.run(_seed(database_url))
    server = start_server(database_url, directory / "var")
    yield server
    server.stop()


@pytest.fixture
async def platform(live: ServerProcess) -> AsyncIterator[Platform]:
    found = Platform(live.database_url)
    yield found
    await found.close()


def _sign_in(live: ServerProcess, email: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=live.base_url, timeout=20)
    page = client.get("/login")
    signed = client.post(
        "/login", data={"email": email, "password": STRONG_PASSWORD, "csrf_token": csrf_of(page.text)}
    )
    assert signed.status_code == 303, signed.text[:500]
    playground = client.get("/dashboard/playground")
    assert playground.status_code == 200
    return client, csrf_of(playground.text)


def _read_then_stop(client: httpx.Client, csrf: str, model: str, deltas: int) -> tuple[str, str, int]:
    """Stream an answer, read ``deltas`` pieces, then close the connection (Stop)."""
    pieces: list[str] = []
    buffer = ""
    request_id = ""
    conversation_id = 0
    with client.stream(
        "POST",
        "/dashboard/playground/stream",
        data={"model": model, "message": "Tell me a long story.", "max_tokens": "1000"},
        headers={"X-CSRF-Token": csrf},
    ) as response:
        assert response.status_code == 200
        for text in response.iter_text():
            buffer += text
            *frames, buffer = buffer.split("\n\n")
            for name, data in sse("\n\n".join(frames)):
                if name == "start":
                    request_id, conversation_id = data["request_id"], data["conversation_id"]
                elif name == "delta":
                    pieces.append(data["text"])
            if len(pieces) >= deltas:
                break
    return request_id, "".join(pieces), conversation_id


async def test_stop_bills_only_what_was_delivered(
    live: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    provider = await platform.provider("openai", openai_upstream.base_url)
    model = await platform.model([(provider, "long")], input_price="0.001", output_price="0.002")
    openai_upstream.set(reply=LONG_REPLY, chunk_delay=0.05)  # 15 s for the whole answer
    user = await create_user(
        platform.sessions,
        email="stopper@example.com",
        password=STRONG_PASSWORD,
        credits_nanos=usd_to_nanos("2"),
    )
    client, csrf = await asyncio.to_thread(_sign_in, live, "stopper@example.com")
    try:
        await _stop_and_check(client, csrf, model, user.id, platform, openai_upstream)
    finally:
        client.close()


async def _stop_and_check(
    client: httpx.Client,
    csrf: str,
    model: str,
    user_id: int,
    platform: Platform,
    openai_upstream: FakeOpenAIUpstream,
) -> None:
    started = time.monotonic()
    request_id, delivered_text, conversation_id = await asyncio.to_thread(
        _read_then_stop, client, csrf, model, 5
    )
    assert request_id and delivered_text.startswith("word0 word1")

    # The server cuts the upstream off once the drain time (2 s in tests) is over.
    assert await asyncio.to_thread(openai_upstream.wait_for_disconnect_sync, 1, 8.0)
    receipt: dict[str, object] = {}
    for _ in range(60):
        answer = await asyncio.to_thread(client.get, f"/dashboard/playground/receipts/{request_id}")
        if answer.status_code == 200:
            receipt = answer.json()
            break
        assert answer.status_code == 202
        await asyncio.sleep(0.2)
    assert receipt, "the stopped answer was never settled"
    assert time.monotonic() - started < 12  # well before the upstream would have finished
    assert receipt["status"] == "cancelled"
    completion = receipt["completion_tokens"]
    assert isinstance(completion, int) and completion < count_tokens(LONG_REPLY) // 5
    prompt = receipt["prompt_tokens"]
    assert isinstance(prompt, int)
    cost = expected_cost_nanos(prompt, completion, "0.001", "0.002")
    assert receipt["cost_nanos"] == cost > 0
    balance = await platform.balance(user_id)
    assert balance.balance_nanos == usd_to_nanos("2") - cost and balance.reserved_nanos == 0
    assert await platform.invariants(user_id) == []
    # The partial answer is kept, with what it cost.
    for _ in range(20):
        _, turns = await get_conversation(platform.sessions, user_id, conversation_id)
        if len(turns) == 2:
            break
        await asyncio.sleep(0.1)
    assert [t.role for t in turns] == ["user", "assistant"]
    assert turns[1].status == "cancelled" and turns[1].cost_nanos == cost
    # What was billed is what the server wrote before it saw the hang-up (the client may not
    # have read all of it): the saved text, plus at most the one piece read as it noticed.
    saved = turns[1].content
    assert saved.startswith(delivered_text)
    sent = sum(count_tokens(piece) for piece in re.findall(r"\s*\S+", saved))
    assert sent <= completion <= sent + count_tokens(" word999")
    page = await asyncio.to_thread(client.get, f"/dashboard/playground?c={conversation_id}")
    assert re.search(r"Stopped · Cost \$0\.\d+", page.text)
