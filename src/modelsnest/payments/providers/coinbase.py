"""Coinbase Business Checkouts (the successor of the retired Commerce charges API), in USDC.

* Every request carries a fresh CDP JWT (ES256 for an EC key, EdDSA for an Ed25519 key; two
  minutes; ``uris: ["METHOD host/path"]``), signed with PyJWT as Coinbase's own SDK does.
* A checkout is created with ``X-Idempotency-Key``; it is single-use, so its id is also the
  provider payment id we credit once. Credit on ``checkout.payment.success`` or on a
  ``COMPLETED`` status read back, never on the redirect alone.
* Webhooks are signed by Hook0: ``X-Hook0-Signature: t=…,h=<header names>,v1=<hex>``, v1 =
  HMAC-SHA256(secret, ``t.h.<those headers' values joined by '.'>.raw_body``); stale (or far
  future) timestamps are refused.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt
import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

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

JWT_LIFETIME_SECONDS = 120
_EVENT_ID_HEADERS = ("x-event-id", "x-hook0-id")


def load_key(secret: str) -> ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey:
    """A CDP secret: a PEM EC key (newlines may be escaped as \\n) or a base64 Ed25519 key."""
    text = secret.replace("\\n", "\n").strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_private_key(text.encode(), password=None)
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return key
        raise ValueError("the CDP key is not an EC key")
    import base64

    raw = base64.b64decode(text)
    if len(raw) != 64:
        raise ValueError("the CDP key is neither a PEM EC key nor a base64 Ed25519 key")
    return ed25519.Ed25519PrivateKey.from_private_bytes(raw[:32])


def hook0_signature(
    secret: str, *, timestamp: int, header_names: list[str], header_values: list[str], body: bytes
) -> str:
    signed = b".".join(
        [str(timestamp).encode(), " ".join(header_names).encode(), ".".join(header_values).encode(), body]
    )
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def checkout_observation(checkout: Mapping[str, Any]) -> Observation:
    status = checkout.get("status")
    amount = provider_amount(checkout.get("amount"))
    common: dict[str, Any] = {
        "payment_id": checkout.get("id"),
        "amount": amount,
        "currency": checkout.get("currency"),
        "reference": (checkout.get("metadata") or {}).get("paymentId"),
        "raw": dict(checkout),
    }
    if status == "COMPLETED":
        return Observation("paid", **common)
    if status in ("REFUNDED", "PARTIALLY_REFUNDED"):
        total = provider_amount(checkout.get("refundedAmount"))
        if total is None and status == "REFUNDED":
            total = amount
        refund = Refund(refund_id=None, total=total, currency=checkout.get("currency")) if total else None
        return Observation("paid", refund=refund, **common)
    if status == "PROCESSING":
        return Observation("pending", reason="the payment is being confirmed on chain", **common)
    if status == "EXPIRED":
        return Observation("expired", reason="the checkout expired", **common)
    if status == "FAILED":
        return Observation("failed", reason="the payment failed", **common)
    if status == "DEACTIVATED":
        return Observation("cancelled", reason="the checkout was deactivated", **common)
    return Observation("open", **common)


class CoinbaseProvider:
    name = "coinbase"
    label = "Coinbase (USDC)"
    currency = "USDC"

    def __init__(
        self,
        *,
        key_id: str,
        key_secret: str,
        webhook_secret: str | None,
        api_base: str = "https://business.coinbase.com",
        timeout_seconds: float = 20.0,
        tolerance_seconds: int = 300,
    ) -> None:
        self._key_id = key_id
        self._key = load_key(key_secret)
        self._algorithm = "ES256" if isinstance(self._key, ec.EllipticCurvePrivateKey) else "EdDSA"
        self._webhook_secret = webhook_secret
        self._tolerance = tolerance_seconds
        base = api_base.rstrip("/")
        self._host = urlsplit(base).netloc
        self._prefix = urlsplit(base).path
        self._http = httpx.AsyncClient(base_url=base, timeout=timeout_seconds)

    async def close(self) -> None:
        await self._http.aclose()

    def bearer(self, method: str, path: str) -> str:
        now = int(time.time())
        claims = {
            "sub": self._key_id,
            "iss": "cdp",
            "nbf": now,
            "exp": now + JWT_LIFETIME_SECONDS,
            "uris": [f"{method} {self._host}{self._prefix}{path.split('?', 1)[0]}"],
        }
        headers = {"kid": self._key_id, "typ": "JWT", "nonce": secrets.token_hex(8)}
        return jwt.encode(claims, self._key, algorithm=self._algorithm, headers=headers)

    async def _api(
        self, method: str, path: str, *, json_body: Any = None, headers: Mapping[str, str] | None = None
    ) -> httpx.Response:
        sent = {"Authorization": f"Bearer {self.bearer(method, path)}", **(headers or {})}
        try:
            return await self._http.request(method, path, json=json_body, headers=sent)
        except httpx.TimeoutException as exc:
            raise ProviderTimeout(f"Coinbase did not answer {method} {path} in time") from exc
        except httpx.HTTPError as exc:
            raise ProviderTimeout(f"Coinbase is unreachable: {type(exc).__name__}") from exc

    def _failed(self, what: str, response: httpx.Response) -> ProviderError:
        try:
            detail = str(response.json().get("errorMessage") or response.json().get("message") or "")
        except ValueError:
            detail = ""
        return ProviderError(
            f"Coinbase refused to {what} (HTTP {response.status_code}{': ' + detail if detail else ''})"
        )

    async def create_checkout(self, request: CheckoutRequest) -> CreatedCheckout:
        body = {
            "amount": f"{request.amount:.2f}",
            "currency": request.currency,
            "network": "base",
            "description": request.description[:500],
            "metadata": {"paymentId": request.reference, "userId": str(request.user_id)},
            "successRedirectUrl": request.return_url,
            "failRedirectUrl": request.cancel_url,
            "expiresAt": request.expires_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        response = await self._api(
            "POST", "/api/v1/checkouts", json_body=body, headers={"X-Idempotency-Key": request.request_key}
        )
        if response.status_code not in (200, 201):
            raise self._failed("create the checkout", response)
        checkout = response.json()
        expires = checkout.get("expiresAt")
        return CreatedCheckout(
            checkout_id=checkout["id"],
            url=checkout["url"],
            expires_at=datetime.fromisoformat(expires.replace("Z", "+00:00"))
            if isinstance(expires, str)
            else None,
            raw=checkout,
        )

    async def read_checkout(self, checkout_id: str) -> dict[str, Any]:
        response = await self._api("GET", f"/api/v1/checkouts/{checkout_id}")
        if response.status_code != 200:
            raise self._failed("read the checkout", response)
        checkout: dict[str, Any] = response.json()
        return checkout

    async def confirm(
        self, checkout_id: str, *, request_key: str, returned: Mapping[str, str]
    ) -> Observation:
        return checkout_observation(await self.read_checkout(checkout_id))

    async def poll(self, checkout_id: str, *, request_key: str) -> Observation:
        return checkout_observation(await self.read_checkout(checkout_id))

    async def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        if not self._webhook_secret:
            raise InvalidWebhook("Coinbase webhooks are not configured (MODELSNEST_COINBASE_WEBHOOK_SECRET)")
        signature = header(headers, "X-Hook0-Signature")
        if not signature:
            raise InvalidWebhook("Coinbase webhook without X-Hook0-Signature")
        parts = dict(part.strip().split("=", 1) for part in signature.split(",") if "=" in part)
        if not parts.get("t", "").isdigit() or "v1" not in parts:
            raise InvalidWebhook("X-Hook0-Signature is malformed (needs t and v1)")
        timestamp = int(parts["t"])
        if abs(time.time() - timestamp) > self._tolerance:
            raise InvalidWebhook(
                "X-Hook0-Signature timestamp is outside the tolerance: a stale or replayed delivery"
            )
        names = [name.lower() for name in parts.get("h", "").split(" ") if name]
        values = []
        for name in names:
            value = header(headers, name)
            if value is None:
                raise InvalidWebhook(f"the signed header {name} is missing")
            values.append(value)
        expected = hook0_signature(
            self._webhook_secret, timestamp=timestamp, header_names=names, header_values=values, body=body
        )
        if not hmac.compare_digest(expected, parts["v1"].lower()):
            raise InvalidWebhook("X-Hook0-Signature does not verify")
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise InvalidWebhook("the webhook body is not JSON") from exc
        if not isinstance(payload, dict):
            raise InvalidWebhook("the webhook body is not a checkout event")
        # The delivery's event id, from a signed header when there is one.
        event_id = next((header(headers, name) for name in _EVENT_ID_HEADERS if header(headers, name)), None)
        kind = str(payload.get("eventType") or header(headers, "x-event-type") or "")
        if not event_id:
            event_id = f"{payload.get('id')}:{kind}:{hashlib.sha256(body).hexdigest()[:16]}"
        return self._resolve(event_id, kind, payload)

    def _resolve(self, event_id: str, kind: str, checkout: dict[str, Any]) -> WebhookEvent:
        base: dict[str, Any] = {
            "event_id": event_id,
            "event_type": kind,
            "raw": checkout,
            "checkout_id": checkout.get("id"),
            "payment_id": checkout.get("id"),
            "reference": (checkout.get("metadata") or {}).get("paymentId"),
        }
        read = checkout_observation(checkout)
        if kind == "checkout.payment.success":
            observation = (
                read
                if read.state == "paid"
                else Observation(
                    "paid",
                    payment_id=read.payment_id,
                    amount=read.amount,
                    currency=read.currency,
                    reference=read.reference,
                    raw=read.raw,
                )
            )
        elif kind == "checkout.payment.failed":
            observation = Observation("failed", reason="the payment failed", raw=checkout)
        elif kind == "checkout.payment.expired":
            observation = Observation("expired", reason="the checkout expired", raw=checkout)
        elif kind == "checkout.refund.success":
            total = provider_amount(checkout.get("refundedAmount"))
            if total is None and checkout.get("status") == "REFUNDED":
                total = read.amount
            if total is None:
                return WebhookEvent(**base)
            observation = Observation(
                "paid",
                payment_id=read.payment_id,
                amount=read.amount,
                currency=read.currency,
                reference=read.reference,
                refund=Refund(refund_id=None, total=total, currency=read.currency),
                raw=checkout,
            )
        else:
            return WebhookEvent(**base)
        return WebhookEvent(**base | {"observation": observation})

    async def checks(self) -> list[ProviderCheck]:
        response = None
        try:
            response = await self._api("GET", "/api/v1/checkouts?pageSize=1")
        except ProviderTimeout as exc:
            credentials = ProviderCheck("credentials", False, exc.message)
        if response is not None:
            ok = response.status_code == 200
            credentials = ProviderCheck(
                "credentials",
                ok,
                "API key accepted (GET /api/v1/checkouts)"
                if ok
                else self._failed("list checkouts", response).message,
            )
        webhook = ProviderCheck(
            "webhook secret",
            bool(self._webhook_secret),
            "set"
            if self._webhook_secret
            else "MODELSNEST_COINBASE_WEBHOOK_SECRET is not set: webhooks are refused",
        )
        return [credentials, webhook]
