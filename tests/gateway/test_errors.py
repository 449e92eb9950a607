"""Every error of DESIGN §3 in the OpenAI shape with the right status — and none costs a cent."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest

from tests.fakes.openai_upstream import FakeOpenAIUpstream
from tests.gateway.helpers import chat_body
from tests.live import Platform, ServerProcess

pytestmark = pytest.mark.postgres


def post(
    server: ServerProcess, token: str | None, body: Any = None, *, content: bytes | None = None
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if content is not None:
        headers["Content-Type"] = "application/json"
        return httpx.post(f"{server.api_base}/chat/completions", content=content, headers=headers)
    return httpx.post(f"{server.api_base}/chat/completions", json=body, headers=headers)


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert set(error) == {"message", "type", "code", "param"} and error["message"]
    assert response.headers["x-request-id"].startswith("req_")
    return error


async def test_authentication_errors(live_server: ServerProcess, platform: Platform) -> None:
    assert_error(post(live_server, None, chat_body("deepseek")), 401, "MISSING_AUTH_HEADER")
    assert_error(post(live_server, "ptr_not-a-real-key", chat_body("deepseek")), 401, "INVALID_TOKEN")
    raw = httpx.post(
        f"{live_server.api_base}/chat/completions",
        json=chat_body("deepseek"),
        headers={"Authorization": "Basic abc"},
    )
    assert_error(raw, 401, "MISSING_AUTH_HEADER")
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(
            base_url=live_server.api_base, api_key="ptr_wrong", max_retries=0
        ).chat.completions.create(model="deepseek", messages=[{"role": "user", "content": "x"}])


async def test_malformed_requests_get_clear_400s_and_cost_nothing(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    provider = await platform.provider("openai", openai_upstream.base_url)
    model = await platform.model([(provider, "m")])
    disabled = await platform.model([(provider, "m")], status="disabled")
    image_model = await platform.model(
        [(provider, "img")], endpoint="images", category="image", unit="per_image"
    )
    account = await platform.account("1")
    before = await platform.balance(account.user_id)
    calls = openai_upstream.calls

    assert_error(
        post(live_server, account.token, {"messages": [{"role": "user", "content": "x"}]}),
        400,
        "MISSING_MODEL",
    )
    assert_error(post(live_server, account.token, chat_body("no-such-model")), 400, "MODEL_NOT_FOUND")
    assert_error(post(live_server, account.token, chat_body(disabled)), 400, "MODEL_UNAVAILABLE")
    assert_error(post(live_server, account.token, chat_body(image_model)), 400, "MODEL_UNAVAILABLE")
    assert_error(post(live_server, account.token, content=b"{not json"), 400, "INVALID_REQUEST")
    assert_error(post(live_server, account.token, content=b"[1, 2]"), 400, "INVALID_REQUEST")
    assert_error(post(live_server, account.token, content=b""), 400, "INVALID_REQUEST")
    assert_error(post(live_server, account.token, {"model": model}), 400, "INVALID_REQUEST")
    assert_error(post(live_server, account.token, {"model": model, "messages": []}), 400, "INVALID_REQUEST")
    error = assert_error(
        post(live_server, account.token, {"model": model, "messages": [{"role": "wizard", "content": "x"}]}),
        400,
        "INVALID_REQUEST",
    )
    assert error["param"] == "messages[0].role"
    for field, value in [("max_tokens", -1), ("max_tokens", "ten"), ("n", 0), ("n", 11), ("stream", "yes")]:
        error = assert_error(
            post(live_server, account.token, chat_body(model, **{field: value})), 400, "INVALID_REQUEST"
        )
        assert error["param"] == field

    # The upstream refusing the request (400) is the client's error, passed on, not retried.
    openai_upstream.set(status=400)
    assert_error(post(live_server, account.token, chat_body(model)), 400, "UPSTREAM_BAD_REQUEST")
    assert openai_upstream.calls == calls + 1

    after = await platform.balance(account.user_id)
    assert after == before
    assert await platform.invariants(account.user_id) == []


async def test_insufficient_credits_is_402_and_charges_nothing(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    provider = await platform.provider("openai", openai_upstream.base_url)
    model = await platform.model([(provider, "m")], input_price="1", output_price="1")
    account = await platform.account("0.5")
    calls = openai_upstream.calls
    assert_error(post(live_server, account.token, chat_body(model)), 402, "INSUFFICIENT_CREDITS")
    assert openai_upstream.calls == calls
    with pytest.raises(openai.APIStatusError) as raised:
        openai.OpenAI(
            base_url=live_server.api_base, api_key=account.token, max_retries=0
        ).chat.completions.create(model=model, messages=[{"role": "user", "content": "x"}])
    assert raised.value.status_code == 402
    balance = await platform.balance(account.user_id)
    assert balance.balance_nanos == 500_000_000 and balance.reserved_nanos == 0


async def test_key_restrictions(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    provider = await platform.provider("openai", openai_upstream.base_url)
    model = await platform.model([(provider, "m")])
    other = await platform.model([(provider, "m")])
    account = await platform.account("1", allowed_models=[model])
    assert post(live_server, account.token, chat_body(model)).status_code == 200
    assert_error(post(live_server, account.token, chat_body(other)), 403, "MODEL_NOT_ALLOWED")


async def test_generation_is_visible_to_its_owner_only(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    provider = await platform.provider("openai", openai_upstream.base_url)
    model = await platform.model([(provider, "m")])
    owner, stranger = await platform.account("1"), await platform.account("1")
    request_id = post(live_server, owner.token, chat_body(model)).headers["x-request-id"]
    url = f"{live_server.api_base}/generation"
    assert (
        httpx.get(
            url, params={"id": request_id}, headers={"Authorization": f"Bearer {owner.token}"}
        ).status_code
        == 200
    )
    hidden = httpx.get(url, params={"id": request_id}, headers={"Authorization": f"Bearer {stranger.token}"})
    assert_error(hidden, 404, "GENERATION_NOT_FOUND")
    assert_error(httpx.get(url, headers={"Authorization": f"Bearer {owner.token}"}), 400, "INVALID_REQUEST")
