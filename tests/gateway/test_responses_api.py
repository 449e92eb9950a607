"""POST/GET /api/v1/responses (OpenAI's Responses API, what Codex CLI speaks) through a real
server with the official openai SDK (``client.responses.create`` / ``.stream`` /
``.retrieve``), translated to chat completions for a fake OpenAI-compatible upstream: the
answer's items, the typed stream events, two-turn tool calls, ``previous_response_id``,
image input, exact costs with cached and reasoning prices, a stream cut mid-way, errors."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
import openai
import pytest

from modelsnest.providers.tokens import count_tokens
from tests.fakes.openai_upstream import FakeOpenAIUpstream
from tests.fakes.server import FakeToolCall, reply_pieces
from tests.gateway.helpers import exact_json, expected_cost_nanos, nanos, sdk, usage_row
from tests.live import Account, Platform, ServerProcess

pytestmark = pytest.mark.postgres

SHELL_TOOL = {
    "type": "function",
    "name": "shell",
    "description": "Run a shell command",
    "parameters": {
        "type": "object",
        "properties": {"command": {"type": "array", "items": {"type": "string"}}},
        "required": ["command"],
    },
}


async def _setup(platform: Platform, upstream: FakeOpenAIUpstream, **model: Any) -> tuple[str, Account]:
    provider = await platform.provider("openai", upstream.base_url)
    slug = await platform.model([(provider, "up-model")], **model)
    return slug, await platform.account("5")


def sse_typed(text: str) -> list[tuple[str, dict[str, Any]]]:
    events: list[tuple[str, dict[str, Any]]] = []
    for block in text.strip().split("\n\n"):
        name = data = None
        for line in block.splitlines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data = json.loads(line[6:], parse_float=Decimal)
        assert name is not None and data is not None and data["type"] == name, block
        events.append((name, data))
    return events


async def test_plain_response_is_translated_billed_and_retrievable(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    slug, account = await _setup(platform, openai_upstream, input_price="0.0015", output_price="0.002")
    client = sdk(live_server, account.token)

    raw = client.responses.with_raw_response.create(
        model=slug,
        instructions="You are terse.",
        input="Say hi",
        max_output_tokens=100,
        temperature=0.3,
    )
    response = raw.parse()
    body = exact_json(raw.http_response)

    assert response.object == "response" and response.status == "completed"
    assert response.id.startswith("resp_") and response.model == slug
    assert response.output_text == openai_upstream.behaviour.reply
    message = response.output[0]
    assert message.type == "message" and message.role == "assistant" and message.status == "completed"
    sent = openai_upstream.last.json
    assert sent["messages"] == [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Say hi"},
    ]
    assert sent["model"] == "up-model" and sent["max_tokens"] == 100 and sent["temperature"] == 0.3
    assert response.usage is not None
    cost = expected_cost_nanos(response.usage.input_tokens, response.usage.output_tokens, "0.0015", "0.002")
    assert nanos(body["usage"]["cost"]) == cost == nanos(body["billing"]["cost_usd"])
    assert response.usage.total_tokens == response.usage.input_tokens + response.usage.output_tokens
    balance = await platform.balance(account.user_id)
    assert balance.balance_nanos == nanos(5) - cost and balance.reserved_nanos == 0
    row = await usage_row(platform, raw.headers["x-request-id"])
    assert row.endpoint == "responses" and row.cost_nanos == cost
    assert await platform.invariants(account.user_id) == []

    again = client.responses.retrieve(response.id)
    assert again.id == response.id and again.output_text == response.output_text
    other = await platform.account("1")
    with pytest.raises(openai.NotFoundError):
        sdk(live_server, other.token).responses.retrieve(response.id)


async def test_stream_sends_the_typed_event_sequence_and_bills_the_usage(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    slug, account = await _setup(platform, openai_upstream)
    client = sdk(live_server, account.token)

    with client.responses.stream(model=slug, input="Stream please") as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_response()

    reply = openai_upstream.behaviour.reply
    deltas = len(reply_pieces(reply))
    assert kinds == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        *["response.output_text.delta"] * deltas,
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert final.output_text == reply and final.status == "completed"
    assert final.usage is not None and final.usage.output_tokens == deltas
    raw = httpx.post(
        f"{live_server.api_base}/responses",
        json={"model": slug, "input": "Stream please", "stream": True},
        headers={"Authorization": f"Bearer {account.token}"},
        timeout=30,
    )
    events = sse_typed(raw.text)
    assert [data["sequence_number"] for _, data in events] == list(range(len(events)))
    completed = events[-1][1]["response"]
    usage = completed["usage"]
    cost = expected_cost_nanos(usage["input_tokens"], usage["output_tokens"], "0.001", "0.002")
    assert nanos(usage["cost"]) == cost
    row = await usage_row(platform, raw.headers["x-request-id"])
    assert row.cost_nanos == cost and row.streamed and row.endpoint == "responses"
    # A streamed response is stored too.
    assert client.responses.retrieve(completed["id"]).output_text == reply


async def test_tool_calls_over_two_turns(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    slug, account = await _setup(platform, openai_upstream)
    client = sdk(live_server, account.token)
    openai_upstream.set(tool_calls=[FakeToolCall("shell", {"command": ["ls", "-la"]})])

    first = client.responses.create(model=slug, input="List the files", tools=[SHELL_TOOL])  # type: ignore[list-item]

    call = first.output[0]
    assert call.type == "function_call" and call.name == "shell"
    assert json.loads(call.arguments) == {"command": ["ls", "-la"]}
    sent = openai_upstream.last.json
    assert sent["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "shell",
                "description": "Run a shell command",
                "parameters": SHELL_TOOL["parameters"],
            },
        }
    ]

    openai_upstream.set(tool_calls=[], reply="There are two files.")
    second = client.responses.create(
        model=slug,
        tools=[SHELL_TOOL],  # type: ignore[list-item]
        input=[
            {"role": "user", "content": "List the files"},
            {"type": "function_call", "call_id": call.call_id, "name": "shell", "arguments": call.arguments},
            {"type": "function_call_output", "call_id": call.call_id, "output": "a.txt\nb.txt"},
        ],
    )
    assert second.output_text == "There are two files."
    assert openai_upstream.last.json["messages"] == [
        {"role": "user", "content": "List the files"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": call.call_id,
                    "type": "function",
                    "function": {"name": "shell", "arguments": call.arguments},
                }
            ],
        },
        {"role": "tool", "tool_call_id": call.call_id, "content": "a.txt\nb.txt"},
    ]


async def test_streamed_tool_call_events(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    slug, account = await _setup(platform, openai_upstream)
    openai_upstream.set(tool_calls=[FakeToolCall("shell", {"command": ["pwd"]})])
    with sdk(live_server, account.token).responses.stream(
        model=slug,
        input="Where am I?",
        tools=[SHELL_TOOL],  # type: ignore[list-item]
    ) as stream:
        events = list(stream)
        final = stream.get_final_response()
    kinds = [event.type for event in events]
    assert kinds[:3] == ["response.created", "response.in_progress", "response.output_item.added"]
    assert "response.function_call_arguments.delta" in kinds
    assert kinds[-3:] == [
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
    ]
    done = next(e for e in events if e.type == "response.function_call_arguments.done")
    assert json.loads(done.arguments) == {"command": ["pwd"]}  # type: ignore[union-attr]
    item = final.output[0]
    assert item.type == "function_call" and item.name == "shell" and item.call_id == "call_fake_0"


async def test_previous_response_id_continues_the_conversation_of_its_owner_only(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    slug, account = await _setup(platform, openai_upstream)
    client = sdk(live_server, account.token)
    openai_upstream.set(reply="Your name is Ada.")
    first = client.responses.create(model=slug, instructions="Be nice.", input="My name is Ada.")
    second = client.responses.create(
        model=slug, input="What is my name?", previous_response_id=first.id, instructions="Be brief."
    )
    assert second.previous_response_id == first.id
    assert openai_upstream.last.json["messages"] == [
        {"role": "system", "content": "Be brief."},  # instructions never carry over
        {"role": "user", "content": "My name is Ada."},
        {"role": "assistant", "content": "Your name is Ada."},
        {"role": "user", "content": "What is my name?"},
    ]
    calls = openai_upstream.calls
    other = await platform.account("1")
    with pytest.raises(openai.BadRequestError) as refused:
        sdk(live_server, other.token).responses.create(
            model=slug, input="And mine?", previous_response_id=first.id
        )
    assert refused.value.body["param"] == "previous_response_id"  # type: ignore[index]
    assert openai_upstream.calls == calls
    # store: false keeps nothing.
    unstored = client.responses.create(model=slug, input="Forget this", store=False)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(unstored.id)
    assert (await platform.balance(other.user_id)).balance_nanos == nanos(1)


async def test_cached_and_reasoning_tokens_are_billed_at_their_prices(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    slug, account = await _setup(
        platform, openai_upstream, dimensions={"cached_input": "0.0005", "reasoning": "0.004"}
    )
    openai_upstream.set(prompt_tokens=2000, cached_tokens=1024, reasoning_tokens=30, reply="Four.")
    text_tokens = len(reply_pieces("Four."))
    for streamed in (False, True):
        body = {"model": slug, "input": "2+2?", "reasoning": {"effort": "high"}, "stream": streamed}
        response = httpx.post(
            f"{live_server.api_base}/responses",
            json=body,
            headers={"Authorization": f"Bearer {account.token}"},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        answer = sse_typed(response.text)[-1][1]["response"] if streamed else exact_json(response)
        usage = answer["usage"]
        assert usage["input_tokens"] == 2000
        assert usage["input_tokens_details"]["cached_tokens"] == 1024
        assert usage["output_tokens"] == 30 + text_tokens
        assert usage["output_tokens_details"]["reasoning_tokens"] == 30
        # 976 input at 0.001, 1024 cached at 0.0005, text output at 0.002, 30 reasoning at 0.004 (per 1K)
        exact = 976 * 1_000_000 + 1024 * 500_000 + text_tokens * 2_000_000 + 30 * 4_000_000
        assert nanos(usage["cost"]) == -(-exact // 1000)
        assert openai_upstream.last.json["reasoning_effort"] == "high"
        row = await usage_row(platform, response.headers["x-request-id"])
        assert (
            row.cached_tokens == 1024 and row.reasoning_tokens == 30 and row.cost_nanos == -(-exact // 1000)
        )


async def test_image_input_is_sent_as_an_image_part(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    slug, account = await _setup(platform, openai_upstream)
    url = "data:image/png;base64,iVBORw0KGgo="
    sdk(live_server, account.token).responses.create(
        model=slug,
        input=[
            {
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "What is this?"},
                    {"type": "input_image", "image_url": url, "detail": "low"},
                ],
            }
        ],
    )
    assert openai_upstream.last.json["messages"] == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": url, "detail": "low"}},
            ],
        }
    ]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"input": "hi"}, "model"),
        ({"model": "M"}, "input"),
        ({"model": "M", "input": 5}, "input"),
        ({"model": "M", "input": [{"type": "function_call_output", "output": "x"}]}, "input[0].call_id"),
        ({"model": "M", "input": [{"role": "wizard", "content": "x"}]}, "input[0].role"),
        ({"model": "M", "input": "hi", "tool_choice": "sometimes"}, "tool_choice"),
        ({"model": "M", "input": "hi", "max_output_tokens": 0}, "max_output_tokens"),
        ({"model": "M", "input": "hi", "reasoning": {"effort": "extreme"}}, "reasoning.effort"),
        ({"model": "M", "input": "hi", "tools": [{"type": "function"}]}, "tools[0].name"),
    ],
)
async def test_malformed_requests_are_clear_400s_and_free(
    body: dict[str, Any],
    param: str,
    live_server: ServerProcess,
    platform: Platform,
    openai_upstream: FakeOpenAIUpstream,
) -> None:
    slug, account = await _setup(platform, openai_upstream)
    if body.get("model") == "M":
        body = {**body, "model": slug}
    response = httpx.post(
        f"{live_server.api_base}/responses",
        json=body,
        headers={"Authorization": f"Bearer {account.token}"},
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == param
    assert openai_upstream.calls == 0
    assert (await platform.balance(account.user_id)).balance_nanos == nanos(5)


async def test_upstream_failure_is_a_502_and_costs_nothing(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    slug, account = await _setup(platform, openai_upstream)
    openai_upstream.set(status=500)
    with pytest.raises(openai.InternalServerError) as failed:
        sdk(live_server, account.token).responses.create(model=slug, input="hi")
    assert failed.value.status_code == 502
    assert (await platform.balance(account.user_id)).balance_nanos == nanos(5)


async def test_stream_cut_mid_way_bills_what_was_delivered(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    slug, account = await _setup(platform, openai_upstream)
    openai_upstream.set(drop_after=4)  # role chunk + 3 content pieces, then the connection drops
    response = httpx.post(
        f"{live_server.api_base}/responses",
        json={"model": slug, "input": "Tell me a story", "stream": True},
        headers={"Authorization": f"Bearer {account.token}"},
        timeout=30,
    )
    events = sse_typed(response.text)
    assert [name for name, _ in events].count("response.output_text.delta") == 3
    assert events[-1][0] == "response.failed"
    delivered = "".join(piece for piece in reply_pieces(openai_upstream.behaviour.reply)[:3])
    row = await usage_row(platform, response.headers["x-request-id"])
    assert row.status == "partial" and row.completion_tokens == count_tokens(delivered)
    assert row.cost_nanos > 0
    balance = await platform.balance(account.user_id)
    assert balance.balance_nanos == nanos(5) - row.cost_nanos and balance.reserved_nanos == 0
    assert await platform.invariants(account.user_id) == []


async def test_a_replayed_codex_cli_request_is_answered(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    """What Codex CLI sends (codex-rs/core: ResponsesApiRequest): instructions, input items
    with input_text parts, function tools, tool_choice auto, parallel_tool_calls false,
    reasoning, store false, stream true, include, prompt_cache_key; headers OpenAI-Beta,
    originator, session_id."""
    slug, account = await _setup(platform, openai_upstream)
    openai_upstream.set(tool_calls=[FakeToolCall("shell", {"command": ["bash", "-lc", "ls"]})])
    body = {
        "model": slug,
        "instructions": "You are Codex, a coding agent.",
        "input": [
            {
                "type": "message",
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "<environment_context>cwd: /repo</environment_context>"}
                ],
            },
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "list files"}]},
        ],
        "tools": [{**SHELL_TOOL, "strict": False}, {"type": "web_search"}],
        "tool_choice": "auto",
        "parallel_tool_calls": False,
        "reasoning": {"effort": "medium", "summary": "auto"},
        "store": False,
        "stream": True,
        "include": ["reasoning.encrypted_content"],
        "prompt_cache_key": "0199c5f8-session",
    }
    response = httpx.post(
        f"{live_server.api_base}/responses",
        json=body,
        headers={
            "Authorization": f"Bearer {account.token}",
            "OpenAI-Beta": "responses=experimental",
            "originator": "codex_cli_rs",
            "session_id": "0199c5f8-session",
            "Accept": "text/event-stream",
        },
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse_typed(response.text)
    assert events[0][0] == "response.created" and events[-1][0] == "response.completed"
    item = events[-1][1]["response"]["output"][0]
    assert item["type"] == "function_call" and item["name"] == "shell"
    assert json.loads(item["arguments"]) == {"command": ["bash", "-lc", "ls"]}
    sent = openai_upstream.last.json
    assert [t["function"]["name"] for t in sent["tools"]] == ["shell"]  # hosted web_search left out
    assert sent["parallel_tool_calls"] is False and sent["reasoning_effort"] == "medium"
    assert sent["messages"][0] == {"role": "system", "content": "You are Codex, a coding agent."}
