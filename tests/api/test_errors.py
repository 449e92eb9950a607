"""One error renderer: OpenAI's shape with the status, type and code of the error table; 5xx
bodies are generic (an upstream's words never reach the customer), a 4xx the customer caused
keeps its reason, cleaned of anything about the operator's upstream account."""

from __future__ import annotations

from modelsnest.api.errors import render_error
from modelsnest.errors import (
    AuthError,
    InsufficientCredits,
    ModelError,
    RateLimited,
    UpstreamError,
    UpstreamTimeout,
)
from modelsnest.gateway.fallback import clean_upstream_message
from modelsnest.media.errors import AudioDecodeError
from tests.api.conftest import AppClient
from tests.fakes.openai_upstream import FakeOpenAIUpstream
from tests.gateway.helpers import chat_body
from tests.live import Platform

LEAKY = "Quota exceeded for organization org-Abc123XyZ789 (billing: ops@operator.example, see https://platform.example/account/billing); key sk-proj-8f7e6d5c4b3a2190"


def test_status_type_and_code_come_from_the_nearest_class_in_the_table() -> None:
    cases = [
        (AuthError("no key", code="MISSING_AUTH_HEADER"), 401, "authentication_error", "MISSING_AUTH_HEADER"),
        (
            ModelError("gone", code="MODEL_UNAVAILABLE", param="model"),
            400,
            "invalid_request_error",
            "MODEL_UNAVAILABLE",
        ),
        (AudioDecodeError("not audio"), 400, "invalid_request_error", "AUDIO_UNDECODABLE"),
        (InsufficientCredits("top up"), 402, "insufficient_quota", "INSUFFICIENT_CREDITS"),
        (UpstreamTimeout("slow"), 504, "upstream_error", "UPSTREAM_TIMEOUT"),
        (ValueError("a bug"), 500, "server_error", "INTERNAL_ERROR"),
    ]
    for exc, status, type_, code in cases:
        rendered = render_error(exc)
        assert (rendered.status, rendered.body["error"]["type"], rendered.body["error"]["code"]) == (
            status,
            type_,
            code,
        )


def test_a_5xx_body_is_generic_and_a_4xx_keeps_its_reason() -> None:
    assert LEAKY not in str(render_error(UpstreamError(LEAKY)).body)
    assert render_error(UpstreamError(LEAKY)).body["error"]["message"].endswith("you have not been charged.")
    assert render_error(ValueError("password=hunter2")).body["error"]["message"] == "Internal server error"
    assert (
        render_error(ModelError("model 'x' does not exist")).body["error"]["message"]
        == "model 'x' does not exist"
    )
    limited = render_error(RateLimited("slow down", retry_after=7))
    assert limited.status == 429 and limited.headers == {"Retry-After": "7"}


def test_the_anthropic_shape() -> None:
    rendered = render_error(InsufficientCredits("top up"), "anthropic")
    assert rendered.body == {"type": "error", "error": {"type": "billing_error", "message": "top up"}}


def test_an_upstream_reason_is_cleaned_of_account_details() -> None:
    cleaned = clean_upstream_message(LEAKY)
    for secret in (
        "org-Abc123XyZ789",
        "ops@operator.example",
        "https://platform.example",
        "sk-proj-8f7e6d5c4b3a2190",
    ):
        assert secret not in cleaned
    assert cleaned.startswith("Quota exceeded for organization")
    assert clean_upstream_message("This model's maximum context length is 8192 tokens.") == (
        "This model's maximum context length is 8192 tokens."
    )


async def test_through_the_app_the_customer_never_reads_the_upstream_error(
    app_client: AppClient, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    provider = await platform.provider("openai", openai_upstream.base_url)
    model = await platform.model([(provider, "m")])
    account = await platform.account("1")
    auth = {"Authorization": f"Bearer {account.token}"}
    async with app_client() as client:
        openai_upstream.set(status=500, error_body={"error": {"message": LEAKY}})
        failed = await client.post("/api/v1/chat/completions", json=chat_body(model), headers=auth)
        openai_upstream.set(
            status=400, error_body={"error": {"message": LEAKY, "type": "invalid_request_error"}}
        )
        rejected = await client.post("/api/v1/chat/completions", json=chat_body(model), headers=auth)
        unknown = await client.get("/api/v1/no-such-thing")
        wrong_method = await client.get("/api/v1/chat/completions")
    assert failed.status_code == 502 and failed.json()["error"]["code"] == "UPSTREAM_ERROR"
    assert "org-" not in failed.text and "Quota" not in failed.text
    assert rejected.status_code == 400 and rejected.json()["error"]["code"] == "UPSTREAM_BAD_REQUEST"
    assert "Quota exceeded" in rejected.text and "org-Abc123XyZ789" not in rejected.text
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "NOT_FOUND"
    assert wrong_method.status_code == 405 and wrong_method.json()["error"]["code"] == "METHOD_NOT_ALLOWED"
    assert (await platform.balance(account.user_id)).balance_nanos == 10**9
