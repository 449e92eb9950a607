"""Bodies are capped while they stream in: over the route's limit is a 413, read no further,
and nothing is charged — whether or not the client declared a Content-Length."""

from __future__ import annotations

from collections.abc import AsyncIterator

from tests.api.conftest import AppClient
from tests.gateway.helpers import wav_bytes
from tests.live import Platform


async def _chunks(total: int, size: int = 1024) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        yield b" " * min(size, total - sent)
        sent += size


async def test_json_over_the_limit_is_413_declared_or_streamed(
    app_client: AppClient, platform: Platform
) -> None:
    account = await platform.account("1")
    auth = {"Authorization": f"Bearer {account.token}", "Content-Type": "application/json"}
    async with app_client(max_json_body_bytes=4096) as client:
        declared = await client.post(
            "/api/v1/chat/completions", content=b"{" + b" " * 5000 + b"}", headers=auth
        )
        streamed = await client.post("/api/v1/embeddings", content=_chunks(50_000), headers=auth)
        within = await client.post(
            "/api/v1/chat/completions",
            json={"model": "deepseek", "messages": [{"role": "user", "content": "small"}]},
            headers=auth,
        )
    for response in (declared, streamed):
        assert response.status_code == 413
        assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert (
        "transfer-encoding" not in streamed.request.headers
        or "content-length" not in streamed.request.headers
    )
    assert within.status_code == 200
    balance = await platform.balance(account.user_id)
    charged = 10**9 - balance.balance_nanos
    assert charged > 0 and balance.reserved_nanos == 0  # only the small request was paid for


async def test_an_upload_over_the_limit_is_413_and_free(app_client: AppClient, platform: Platform) -> None:
    account = await platform.account("1")
    auth = {"Authorization": f"Bearer {account.token}"}
    async with app_client(max_upload_bytes=50_000) as client:
        response = await client.post(
            "/api/v1/audio/transcriptions",
            data={"model": "whisper-1"},
            files={"file": ("long.wav", wav_bytes(5.0), "audio/wav")},
            headers=auth,
        )
    assert response.status_code == 413
    assert (await platform.balance(account.user_id)).balance_nanos == 10**9
