"""PayPal Orders v2 over httpx.

* OAuth2 client credentials: the token is cached until shortly before ``expires_in`` and
  fetched again (once) when a call answers 401.
* An order is created server-side (``intent: CAPTURE``, our payment id as ``custom_id``,
  ``PayPal-Request-Id``), and captured server-side when the payer returns, with the same
  request id on every retry; ``ORDER_ALREADY_CAPTURED`` is answered by reading the order.
* Only a capture whose own status is COMPLETED is "paid": an order can be COMPLETED while its
  capture is PENDING or DECLINED. The redirect alone is never trusted.
* Webhooks are verified by PayPal itself (``POST /v1/notifications/verify-webhook-signature``)
  with the raw event spliced into the request unchanged, so no re-serialisation can break it;
  a stale ``PAYPAL-TRANSMISSION-TIME`` is refused before asking.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import orjson

from modelsnest.payments.amounts import provider_amount
from modelsnest.payments.providers.base import (
    CheckoutRequest,
    CreatedCheckout,
    InvalidWebhook,
    Observation,
    ProviderCheck,
    ProviderError,
    ProviderTimeout,
    Refund,
    WebhookEvent,
    header,
)

TOKEN_MARGIN_SECONDS = 300
_SIGNATURE_HEADERS = {
    "auth_algo": "PAYPAL-AUTH-ALGO",
    "cert_url": "PAYPAL-CERT-URL",
    "transmission_id": "PAYPAL-TRANSMISSION-ID",
    "transmission_sig": "PAYPAL-TRANSMISSION-SIG",
    "transmission_time": "PAYPAL-TRANSMISSION-TIME",
}


def _issues(response: httpx.Response) -> set[str]:
    try:
        details = response.json().get("details") or []
    except ValueError:
        return set()
    return {str(d.get("issue")) for d in details if isinstance(d, dict)}


def capture_observation(capture: Mapping[str, Any], *, order_id: str | None = None) -> Observation:
    status = capture.get("status")
    amount = capture.get("amount") or {}
    common: dict[str, Any] = {
        "payment_id": capture.get("id"),
        "amount": provider_amount(amount.get("value")),
        "currency": amount.get("currency_code"),
        "reference": capture.get("custom_id"),
        "raw": dict(capture),
    }
    reason = (capture.get("status_details") or {}).get("reason")
    if status in ("COMPLETED", "PARTIALLY_REFUNDED", "REFUNDED"):
        return Observation("paid", **common)
    if status == "PENDING":
        return Observation("pending", reason=f"PayPal holds the capture: {reason or 'pending'}", **common)
    return Observation(
        "failed", reason=f"PayPal capture {str(status).lower()}: {reason or 'no reason given'}", **common
    )


def order_observation(order: Mapping[str, Any]) -> Observation:
    """An order: its latest capture decides; without one, the order's own status."""
    units = order.get("purchase_units") or [{}]
    unit = units[0] if isinstance(units[0], Mapping) else {}
    captures = ((unit.get("payments") or {}).get("captures")) or []
    if captures:
        return capture_observation(captures[-1], order_id=order.get("id"))
    status = order.get("status")
    common: dict[str, Any] = {"reference": unit.get("custom_id"), "raw": dict(order)}
    if status == "VOIDED":
        return Observation("cancelled", reason="PayPal voided the order", **common)
    if status == "COMPLETED":  # completed without a capture listed: read again later
        return Observation(
            "pending", reason="PayPal completed the order; the capture is not listed yet", **common
        )
    return Observation("open", **common)


def _approve_link(order: Mapping[str, Any]) -> str:
    for link in order.get("links") or []:
        if isinstance(link, Mapping) and link.get("rel") in ("payer-action", "approve"):
            return str(link["href"])
    raise ProviderError("PayPal created the order but gave no approval link")


class PayPalProvider:
    name = "paypal"
    label = "PayPal"
    currency = "USD"

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        webhook_id: str | None,
        api_base: str = "https://api-m.sandbox.paypal.com",
        timeout_seconds: float = 20.0,
        tolerance_seconds: int = 300,
        brand_name: str = "Modelsnest",
    ) -> None:
        self._basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        self._webhook_id = webhook_id
        self._tolerance = tolerance_seconds
        self._brand = brand_name[:127]
        self._http = httpx.AsyncClient(base_url=api_base.rstrip("/"), timeout=timeout_seconds)
        self._token: str | None = None
        self._token_expires = 0.0
        self._token_lock = asyncio.Lock()

    async def close(self) -> None:
        await self._http.aclose()

    # -- transport -------------------------------------------------------------------------
    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return await self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise ProviderTimeout(f"PayPal did not answer {method} {path} in time") from exc
        except httpx.HTTPError as exc:
            raise ProviderTimeout(f"PayPal is unreachable: {type(exc).__name__}") from exc

    async def _access_token(self, *, refresh: bool = False) -> str:
        async with self._token_lock:
            if not refresh and self._token and time.monotonic() < self._token_expires:
                return self._token
            response = await self._send(
                "POST",
                "/v1/oauth2/token",
                data={"grant_type": "client_credentials"},
                headers={"Authorization": f"Basic {self._basic}", "Accept": "application/json"},
            )
            if response.status_code != 200:
                raise ProviderError(f"PayPal refused the client credentials (HTTP {response.status_code})")
            body = response.json()
            self._token = str(body["access_token"])
            lifetime = float(body.get("expires_in") or 0)
            self._token_expires = time.monotonic() + max(0.0, lifetime - TOKEN_MARGIN_SECONDS)
            return self._token

    async def _api(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """A call with the Bearer token; a 401 fetches a new token and tries once more."""
        for attempt in (0, 1):
            token = await self._access_token(refresh=attempt == 1)
            sent = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", **(headers or {})}
            body = (
                content
                if content is not None
                else (orjson.dumps(json_body) if json_body is not None else None)
            )
            response = await self._send(method, path, content=body, headers=sent)
            if response.status_code != 401:
                return response
        return response

    def _failed(self, what: str, response: httpx.Response) -> ProviderError:
        issues = ", ".join(sorted(_issues(response))) or response.reason_phrase
        return ProviderError(f"PayPal refused to {what} (HTTP {response.status_code}: {issues})")

    # -- orders ------------------------------------------------------------------------------
    async def create_checkout(self, request: CheckoutRequest) -> CreatedCheckout:
        body = {
            "intent": "CAPTURE",
            "purchase_units": [
                {
                    "reference_id": request.reference,
                    "custom_id": request.reference,
                    "description": request.description[:127],
                    "amount": {"currency_code": request.currency, "value": f"{request.amount:.2f}"},
                }
            ],
            "payment_source": {
                "paypal": {
                    "experience_context": {
                        "brand_name": self._brand,
                        "shipping_preference": "NO_SHIPPING",
                        "user_action": "PAY_NOW",
                        "payment_method_preference": "IMMEDIATE_PAYMENT_REQUIRED",
                        "return_url": request.return_url,
                        "cancel_url": request.cancel_url,
                    }
                }
            },
        }
        response = await self._api(
            "POST",
            "/v2/checkout/orders",
            json_body=body,
            headers={"PayPal-Request-Id": request.request_key, "Prefer": "return=representation"},
        )
        if response.status_code not in (200, 201):
            raise self._failed("create the order", response)
        order = response.json()
        return CreatedCheckout(checkout_id=order["id"], url=_approve_link(order), expires_at=None, raw=order)

    async def read_order(self, order_id: str) -> dict[str, Any]:
        response = await self._api("GET", f"/v2/checkout/orders/{order_id}")
        if response.status_code != 200:
            raise self._failed("read the order", response)
        order: dict[str, Any] = response.json()
        return order

    async def capture(self, order_id: str, *, request_key: str) -> Observation:
        response = await self._api(
            "POST",
            f"/v2/checkout/orders/{order_id}/capture",
            json_body={},
            headers={"PayPal-Request-Id": f"{request_key}-capture", "Prefer": "return=representation"},
        )
        if response.status_code in (200, 201):
            return order_observation(response.json())
        issues = _issues(response)
        if response.status_code == 422 and "ORDER_ALREADY_CAPTURED" in issues:
            return order_observation(await self.read_order(order_id))
        if response.status_code == 422 and "ORDER_NOT_APPROVED" in issues:
            return Observation("open", reason="the payer has not approved the order")
        if response.status_code == 422:
            return Observation("failed", reason=f"PayPal refused the capture: {', '.join(sorted(issues))}")
        raise self._failed("capture the order", response)

    async def confirm(
        self, checkout_id: str, *, request_key: str, returned: Mapping[str, str]
    ) -> Observation:
        return await self.capture(checkout_id, request_key=request_key)

    async def poll(self, checkout_id: str, *, request_key: str) -> Observation:
        order = await self.read_order(checkout_id)
        if order.get("status") == "APPROVED":  # approved, never captured (the payer left)
            return await self.capture(checkout_id, request_key=request_key)
        return order_observation(order)

    # -- webhooks ----------------------------------------------------------------------------
    async def refund(self, payment_id: str, amount: Decimal, *, request_key: str, reason: str) -> Refund:
        """Refund ``amount`` of a capture (``POST /v2/payments/captures/{id}/refund``); the
        refund id is what ``PAYMENT.CAPTURE.REFUNDED`` later names."""
        response = await self._api(
            "POST",
            f"/v2/payments/captures/{payment_id}/refund",
            json_body={
                "amount": {"value": f"{amount:.2f}", "currency_code": self.currency},
                "note_to_payer": reason[:255],
            },
            headers={"PayPal-Request-Id": request_key[:108], "Prefer": "return=representation"},
        )
        if response.status_code not in (200, 201):
            raise self._failed("refund the capture", response)
        data = response.json()
        money = data.get("amount") or {}
        if data.get("status") not in ("COMPLETED", "PENDING") or not data.get("id"):
            raise ProviderError(f"PayPal did not refund the capture (status {data.get('status')}).")
        return Refund(
            refund_id=str(data["id"]),
            amount=provider_amount(money.get("value")) or amount,
            currency=money.get("currency_code"),
        )

    async def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        if not self._webhook_id:
            raise InvalidWebhook("PayPal webhooks are not configured (MODELSNEST_PAYPAL_WEBHOOK_ID)")
        fields = {key: header(headers, name) for key, name in _SIGNATURE_HEADERS.items()}
        missing = [name for key, name in _SIGNATURE_HEADERS.items() if not fields[key]]
        if missing:
            raise InvalidWebhook(f"PayPal webhook without {', '.join(missing)}")
        try:
            sent = datetime.fromisoformat(str(fields["transmission_time"]).replace("Z", "+00:00"))
        except ValueError as exc:
            raise InvalidWebhook("PAYPAL-TRANSMISSION-TIME is not a timestamp") from exc
        if sent.tzinfo is None or abs((datetime.now(UTC) - sent).total_seconds()) > self._tolerance:
            raise InvalidWebhook(
                "PAYPAL-TRANSMISSION-TIME is outside the tolerance: a stale or replayed delivery"
            )
        try:
            event = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise InvalidWebhook("the webhook body is not JSON") from exc
        if not isinstance(event, dict) or not isinstance(event.get("id"), str):
            raise InvalidWebhook("the webhook body is not a PayPal event")
        # The event goes back byte for byte (spliced in, not re-serialised).
        request = (
            orjson.dumps({**fields, "webhook_id": self._webhook_id})[:-1] + b',"webhook_event":' + body + b"}"
        )
        response = await self._api("POST", "/v1/notifications/verify-webhook-signature", content=request)
        if response.status_code != 200:
            raise self._failed("verify the webhook", response)
        if response.json().get("verification_status") != "SUCCESS":
            raise InvalidWebhook("PayPal says the webhook signature does not verify")
        return self._resolve(event)

    def _resolve(self, event: dict[str, Any]) -> WebhookEvent:
        kind = str(event.get("event_type") or "")
        resource = event.get("resource") or {}
        base: dict[str, Any] = {"event_id": event["id"], "event_type": kind, "raw": event}
        related = (resource.get("supplementary_data") or {}).get("related_ids") or {}
        if kind in (
            "PAYMENT.CAPTURE.COMPLETED",
            "PAYMENT.CAPTURE.PENDING",
            "PAYMENT.CAPTURE.DENIED",
            "PAYMENT.CAPTURE.DECLINED",
        ):
            observation = capture_observation(resource)
            return WebhookEvent(
                **base,
                reference=resource.get("custom_id"),
                checkout_id=related.get("order_id"),
                payment_id=resource.get("id"),
                observation=observation,
            )
        if kind in ("PAYMENT.CAPTURE.REFUNDED", "PAYMENT.CAPTURE.REVERSED"):
            capture_id = related.get("capture_id")
            for link in resource.get("links") or []:
                if (
                    isinstance(link, Mapping)
                    and link.get("rel") == "up"
                    and "/captures/" in str(link.get("href"))
                ):
                    capture_id = str(link["href"]).rstrip("/").rsplit("/", 1)[-1]
            amount = resource.get("amount") or {}
            refund = Refund(
                refund_id=resource.get("id"),
                amount=provider_amount(amount.get("value")),
                currency=amount.get("currency_code"),
            )
            observation = Observation(
                "paid",
                payment_id=capture_id,
                reference=resource.get("custom_id"),
                refund=refund,
                raw=resource,
            )
            return WebhookEvent(
                **base, reference=resource.get("custom_id"), payment_id=capture_id, observation=observation
            )
        if kind == "CHECKOUT.PAYMENT-APPROVAL.REVERSED":
            order_id = resource.get("order_id")
            return WebhookEvent(
                **base,
                checkout_id=order_id,
                observation=Observation(
                    "cancelled",
                    reason="PayPal reversed the approval: the order was not captured in time",
                    raw=resource,
                ),
            )
        if kind == "CHECKOUT.ORDER.APPROVED":
            units = resource.get("purchase_units") or [{}]
            return WebhookEvent(
                **base,
                checkout_id=resource.get("id"),
                reference=(units[0] or {}).get("custom_id"),
                confirm=True,
            )
        return WebhookEvent(**base)

    # -- doctor --------------------------------------------------------------------------------
    async def checks(self) -> list[ProviderCheck]:
        try:
            await self._access_token(refresh=True)
            credentials = ProviderCheck("credentials", True, "client credentials accepted (OAuth2 token)")
        except (ProviderError, ProviderTimeout) as exc:
            credentials = ProviderCheck("credentials", False, exc.message)
        webhook = ProviderCheck(
            "webhook id",
            bool(self._webhook_id),
            "set" if self._webhook_id else "MODELSNEST_PAYPAL_WEBHOOK_ID is not set: webhooks are refused",
        )
        return [credentials, webhook]
