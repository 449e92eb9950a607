"""A fake Coinbase Business Checkouts API on 127.0.0.1.

Every request must carry a CDP JWT Bearer that verifies with the test key's public half
(ES256), names this request in its ``uris`` claim and has not expired. Checkouts honour
``X-Idempotency-Key``. Webhooks are signed as Hook0 signs them for Coinbase:
``X-Hook0-Signature: t=<unix>,h=content-type x-event-id x-event-type,v1=<hex>`` over
``t.h.<header values joined by '.'>.body``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import orjson
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.fakes.server import FakeUpstream

KEY_ID = "organizations/fake-org/apiKeys/fake-key"
_PRIVATE = ec.generate_private_key(ec.SECP256R1())
KEY_SECRET = _PRIVATE.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
).decode()
WEBHOOK_SECRET = "fake-hook0-secret-" + "h" * 16
SIGNED_HEADERS = ["content-type", "x-event-id", "x-event-type"]


def hook0_sign(secret: str, timestamp: int, headers: dict[str, str], body: bytes) -> str:
    names = sorted(SIGNED_HEADERS)
    values = [headers[name] for name in names]
    signed = f"{timestamp}.{' '.join(names)}.{'.'.join(values)}.".encode() + body
    v1 = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    v0 = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v0={v0},h={' '.join(names)},v1={v1}"


class FakeCoinbase(FakeUpstream):
    name = "coinbase"

    def __init__(self) -> None:
        super().__init__()
        self.checkouts: dict[str, dict[str, Any]] = {}
        self.replays: dict[str, bytes] = {}
        self.jwts: list[dict[str, Any]] = []

    # -- the payer and Coinbase's side (test controls) ------------------------------------------
    def pay(self, checkout_id: str, *, amount: str | None = None, processing: bool = False) -> dict[str, Any]:
        checkout = self.checkouts[checkout_id]
        if amount is not None:
            checkout["amount"] = amount
        checkout["status"] = "PROCESSING" if processing else "COMPLETED"
        checkout["transactionHash"] = "0x" + secrets.token_hex(32)
        checkout["settlement"] = {
            "totalAmount": checkout["amount"],
            "feeAmount": "0.00",
            "netAmount": checkout["amount"],
            "currency": "USDC",
        }
        return dict(checkout)

    def refund(self, checkout_id: str, amount: str) -> dict[str, Any]:
        checkout = self.checkouts[checkout_id]
        total = float(checkout.get("refundedAmount") or 0) + float(amount)  # test amounts are whole cents
        checkout["refundedAmount"] = f"{total:.2f}"
        checkout["status"] = (
            "REFUNDED" if checkout["refundedAmount"] == checkout["amount"] else "PARTIALLY_REFUNDED"
        )
        return dict(checkout)

    def signed(
        self,
        event_type: str,
        checkout: dict[str, Any],
        *,
        timestamp: int | None = None,
        secret: str = WEBHOOK_SECRET,
        event_id: str | None = None,
    ) -> tuple[bytes, dict[str, str]]:
        body = orjson.dumps({**checkout, "eventType": event_type})
        headers = {
            "content-type": "application/json",
            "x-event-id": event_id or str(uuid.uuid4()),
            "x-event-type": event_type,
        }
        stamp = int(time.time()) if timestamp is None else timestamp
        return body, {**headers, "X-Hook0-Signature": hook0_sign(secret, stamp, headers, body)}

    # -- HTTP ------------------------------------------------------------------------------------
    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/api/v1/checkouts", self._create)
        app.router.add_get("/api/v1/checkouts", self._list)
        app.router.add_get("/api/v1/checkouts/{id}", self._get)

    async def _authorized(self, request: web.Request) -> web.Response | None:
        await self.record(request)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        try:
            claims = jwt.decode(
                token, _PRIVATE.public_key(), algorithms=["ES256"], options={"require": ["exp", "nbf"]}
            )
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            return web.json_response({"errorType": "unauthorized", "errorMessage": str(exc)}, status=401)
        wanted = f"{request.method} {request.host}{request.path}"
        if (
            claims.get("sub") != KEY_ID
            or header.get("kid") != KEY_ID
            or claims.get("iss") != "cdp"
            or wanted not in (claims.get("uris") or [])
        ):
            return web.json_response(
                {"errorType": "unauthorized", "errorMessage": "JWT does not match"}, status=401
            )
        self.jwts.append(claims)
        return None

    async def _create(self, request: web.Request) -> web.Response:
        refused = await self._authorized(request)
        if refused is not None:
            return refused
        key = request.headers.get("X-Idempotency-Key")
        if key and key in self.replays:
            return web.Response(status=201, body=self.replays[key], content_type="application/json")
        body = orjson.loads(await request.read())
        if body.get("currency") != "USDC":
            return web.json_response(
                {"errorType": "invalid_request", "errorMessage": "Only USDC is supported"}, status=400
            )
        checkout_id = secrets.token_hex(12)
        now = datetime.now(UTC)
        checkout = {
            "id": checkout_id,
            "url": f"{self.url}/payment-links/pl_{checkout_id}",
            "status": "ACTIVE",
            "amount": body["amount"],
            "currency": "USDC",
            "network": body.get("network", "base"),
            "address": "0x" + secrets.token_hex(20),
            "description": body.get("description"),
            "metadata": body.get("metadata") or {},
            "successRedirectUrl": body.get("successRedirectUrl"),
            "failRedirectUrl": body.get("failRedirectUrl"),
            "expiresAt": body.get("expiresAt") or (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "createdAt": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "updatedAt": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        self.checkouts[checkout_id] = checkout
        out = orjson.dumps(checkout)
        if key:
            self.replays[key] = out
        return web.Response(status=201, body=out, content_type="application/json")

    async def _get(self, request: web.Request) -> web.Response:
        refused = await self._authorized(request)
        if refused is not None:
            return refused
        checkout = self.checkouts.get(request.match_info["id"])
        if checkout is None:
            return web.json_response(
                {"errorType": "not_found", "errorMessage": "checkout not found"}, status=404
            )
        return web.Response(body=orjson.dumps(checkout), content_type="application/json")

    async def _list(self, request: web.Request) -> web.Response:
        refused = await self._authorized(request)
        if refused is not None:
            return refused
        return web.json_response({"checkouts": list(self.checkouts.values())[:1], "nextPageToken": ""})
