"""Buying credits from a program: ``POST /api/v1/credits/checkout``, ``GET
/api/v1/credits/payments`` and ``/payments/{id}``. The handlers read their JSON themselves (so
amounts stay exact decimals); these models only describe the wire."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from modelsnest.api.schemas.common import BEARER, WireModel, ok, request_body
from modelsnest.api.schemas.errors import error_responses
from modelsnest.errors import InvalidRequest, NotFound, UpstreamError

_AMOUNT = Field(
    description="US dollars as a decimal string (or number) with at most two decimals, between the "
    "operator's minimum and maximum top-up.",
    examples=["10.00"],
)


class CheckoutRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    provider: Literal["stripe", "paypal", "coinbase"] = Field(
        description="A configured payment provider (`GET /api/v1/credits/payments` lists them)."
    )
    amount_usd: str | float = _AMOUNT
    save_card: bool = Field(
        False, description="Stripe only: keep the card for auto-recharge (set up in the dashboard)."
    )


class Payment(WireModel):
    id: str = Field(description="Our id of the payment (`pay_…`).")
    object: Literal["payment"]
    provider: str
    kind: str = Field(description="`topup`, or `auto_recharge` for a charge of a saved card.")
    status: str = Field(
        description="created → pending → completed | failed | cancelled | expired → refunded | "
        "partially_refunded. Credits arrive only at completed."
    )
    amount_usd: str = Field(description="The amount, fixed on our side at creation (decimal text).")
    currency: str
    refunded_usd: str
    checkout_url: str | None = Field(description="Where to send the payer while the payment is open.")
    failure_reason: str | None
    invoice: str | None = Field(description="The invoice number once completed.")
    created_at: str = Field(json_schema_extra={"format": "date-time"})
    completed_at: str | None
    refunded_at: str | None


class ProviderOption(WireModel):
    name: str
    label: str


class PaymentPage(WireModel):
    object: Literal["list"]
    data: list[Payment] = Field(description="Newest first.")
    has_more: bool
    providers: list[ProviderOption] = Field(description="The payment providers this platform offers.")


_SECURITY = {"security": BEARER}
_HEADERS = ("X-Request-Id",)
_BAD_AMOUNT = InvalidRequest(
    "amount_usd must have at most two decimals", code="INVALID_AMOUNT", param="amount_usd"
)

CHECKOUT: dict[str, Any] = {
    "tags": ["Credits"],
    "status_code": 201,
    "responses": {
        201: ok(Payment, "The payment, open: send the payer to `checkout_url`.", header_names=_HEADERS),
        **error_responses(
            400,
            401,
            413,
            500,
            502,
            examples={
                400: (("bad_amount", _BAD_AMOUNT),),
                502: (("provider_refused", UpstreamError("the payment provider refused the checkout")),),
            },
        ),
    },
    "openapi_extra": {
        **_SECURITY,
        **request_body(
            CheckoutRequest,
            {"stripe_ten_dollars": {"provider": "stripe", "amount_usd": "10.00"}},
            description="The provider and the amount.",
        ),
    },
}

LIST: dict[str, Any] = {
    "tags": ["Credits"],
    "responses": {
        200: ok(PaymentPage, "The caller's payments, newest first.", header_names=_HEADERS),
        **error_responses(400, 401, 500),
    },
    "openapi_extra": _SECURITY,
}

GET: dict[str, Any] = {
    "tags": ["Credits"],
    "responses": {
        200: ok(Payment, "The payment.", header_names=_HEADERS),
        **error_responses(
            401,
            404,
            500,
            examples={
                404: (("unknown", NotFound("no payment pay_0", code="PAYMENT_NOT_FOUND", param="id")),)
            },
        ),
    },
    "openapi_extra": _SECURITY,
}
