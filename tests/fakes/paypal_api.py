"""A fake PayPal REST API (OAuth2, Orders v2, webhook verification) on 127.0.0.1.

* ``POST /v1/oauth2/token`` (HTTP Basic) hands out tokens that expire (``expire_tokens()``
  makes every issued token answer 401, as an expired one does).
* Orders: ``PayPal-Request-Id`` replays answer 200 with the first result; capture of an order
  the payer has not approved is 422 ``ORDER_NOT_APPROVED``, a second capture with another
  request id is 422 ``ORDER_ALREADY_CAPTURED``. ``capture_status`` decides the capture's own
  status (COMPLETED, PENDING, DECLINED); ``capture_delay`` answers a capture late (after it
  happened), like a response lost to a timeout.
* Webhooks are signed like PayPal's: RSA-SHA256 over
  ``transmission_id|transmission_time|webhook_id|crc32(raw body)`` with the key of a
  self-signed certificate served at ``PAYPAL-CERT-URL``; ``verify-webhook-signature`` checks
  that signature against the ``webhook_event`` bytes it is sent (re-serialised JSON fails, as
  it does at PayPal).
"""

from __future__ import annotations

import base64
import secrets
import time
import uuid
import zlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from tests.fakes.server import FakeUpstream

CLIENT_ID = "fake-paypal-client"
CLIENT_SECRET = "fake-paypal-secret-" + "s" * 16
WEBHOOK_ID = "WH-FAKE-0001"


def _order_id() -> str:
    return secrets.token_hex(9).upper()[:17]


def _error(status: int, name: str, issue: str, description: str) -> web.Response:
    body = {
        "name": name,
        "message": description,
        "debug_id": secrets.token_hex(6),
        "details": [{"issue": issue, "description": description}],
    }
    return web.Response(status=status, body=orjson.dumps(body), content_type="application/json")


class FakePayPal(FakeUpstream):
    name = "paypal"

    def __init__(self) -> None:
        super().__init__()
        self.orders: dict[str, dict[str, Any]] = {}
        self.tokens: set[str] = set()
        self.token_requests = 0
        self.replays: dict[tuple[str, str], tuple[int, bytes]] = {}
        self.capture_status = "COMPLETED"
        self.capture_amount: str | None = None  # tampering: the capture reports another amount
        self.capture_currency: str | None = None
        self.capture_delay = 0.0
        self.captures = 0
        self.refunds: list[dict[str, Any]] = []
        self.token_lifetime = 32400
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "messageverificationcerts.fake.paypal")])
        now = datetime.now(UTC)
        self._cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
            .sign(self._key, hashes.SHA256())
        )

    # -- the payer and PayPal's side (test controls) ----------------------------------------
    def approve(self, order_id: str) -> None:
        self.orders[order_id]["status"] = "APPROVED"

    def expire_tokens(self) -> None:
        self.tokens.clear()

    def capture_of(self, order_id: str) -> dict[str, Any]:
        return self.orders[order_id]["purchase_units"][0]["payments"]["captures"][-1]

    def refund(self, order_id: str, value: str) -> dict[str, Any]:
        capture = self.capture_of(order_id)
        refund = {
            "id": secrets.token_hex(9).upper()[:17],
            "status": "COMPLETED",
            "amount": {"currency_code": capture["amount"]["currency_code"], "value": value},
            "custom_id": capture.get("custom_id"),
            "links": [
                {"href": f"{self.url}/v2/payments/refunds/R", "rel": "self", "method": "GET"},
                {"href": f"{self.url}/v2/payments/captures/{capture['id']}", "rel": "up", "method": "GET"},
            ],
        }
        capture["status"] = "PARTIALLY_REFUNDED"
        return refund

    def event(
        self, event_type: str, resource: dict[str, Any], resource_type: str = "capture"
    ) -> dict[str, Any]:
        return {
            "id": f"WH-{secrets.token_hex(8).upper()}",
            "event_version": "1.0",
            "create_time": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "resource_type": resource_type,
            "event_type": event_type,
            "summary": event_type,
            "resource_version": "2.0",
            "resource": resource,
            "links": [],
        }

    def signed(
        self, event: dict[str, Any], *, sent: datetime | None = None, webhook_id: str = WEBHOOK_ID
    ) -> tuple[bytes, dict[str, str]]:
        body = orjson.dumps(event)
        transmission_id = str(uuid.uuid4())
        when = (sent or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
        message = f"{transmission_id}|{when}|{webhook_id}|{zlib.crc32(body) & 0xFFFFFFFF}".encode()
        signature = self._key.sign(message, padding.PKCS1v15(), hashes.SHA256())
        return body, {
            "Content-Type": "application/json",
            "PAYPAL-TRANSMISSION-ID": transmission_id,
            "PAYPAL-TRANSMISSION-TIME": when,
            "PAYPAL-TRANSMISSION-SIG": base64.b64encode(signature).decode(),
            "PAYPAL-CERT-URL": f"{self.url}/v1/notifications/certs/CERT-fake",
            "PAYPAL-AUTH-ALGO": "SHA256withRSA",
        }

    # -- HTTP --------------------------------------------------------------------------------------
    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/oauth2/token", self._token)
        app.router.add_post("/v2/checkout/orders", self._create)
        app.router.add_get("/v2/checkout/orders/{id}", self._get)
        app.router.add_post("/v2/checkout/orders/{id}/capture", self._capture)
        app.router.add_post("/v2/payments/captures/{id}/refund", self._refund_capture)
        app.router.add_post("/v1/notifications/verify-webhook-signature", self._verify)
        app.router.add_get("/v1/notifications/certs/{name}", self._cert_file)

    async def _token(self, request: web.Request) -> web.Response:
        await self.record(request)
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {expected}":
            return web.json_response(
                {"error": "invalid_client", "error_description": "Client Authentication failed"}, status=401
            )
        self.token_requests += 1
        token = f"A21AA{secrets.token_urlsafe(24)}"
        self.tokens.add(token)
        return web.json_response(
            {
                "scope": "https://uri.paypal.com/services/payments/payment",
                "access_token": token,
                "token_type": "Bearer",
                "app_id": "APP-FAKE",
                "expires_in": self.token_lifetime,
                "nonce": secrets.token_hex(8),
            }
        )

    async def _authorized(self, request: web.Request) -> web.Response | None:
        await self.record(request)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self.tokens:
            return _error(
                401,
                "AUTHENTICATION_FAILURE",
                "AUTHENTICATION_FAILURE",
                "Authentication failed due to invalid authentication credentials or a missing Authorization header.",
            )
        return None

    def _replayed(self, request: web.Request) -> web.Response | None:
        key = request.headers.get("PayPal-Request-Id")
        found = self.replays.get((request.path, key)) if key else None
        if found is None:
            return None
        return web.Response(status=200, body=found[1], content_type="application/json")

    def _remember(self, request: web.Request, status: int, body: bytes) -> None:
        key = request.headers.get("PayPal-Request-Id")
        if key:
            self.replays[(request.path, key)] = (status, body)

    async def _create(self, request: web.Request) -> web.Response:
        refused = await self._authorized(request)
        if refused is not None:
            return refused
        replay = self._replayed(request)
        if replay is not None:
            return replay
        body = orjson.loads(await request.read())
        order_id = _order_id()
        experience = ((body.get("payment_source") or {}).get("paypal") or {}).get("experience_context")
        rel = "payer-action" if experience is not None else "approve"
        order = {
            "id": order_id,
            "intent": body["intent"],
            "status": "PAYER_ACTION_REQUIRED" if experience is not None else "CREATED",
            "purchase_units": [dict(unit) for unit in body["purchase_units"]],
            "create_time": datetime.now(UTC).isoformat(),
            "links": [
                {"href": f"{self.url}/v2/checkout/orders/{order_id}", "rel": "self", "method": "GET"},
                {"href": f"{self.url}/checkoutnow?token={order_id}", "rel": rel, "method": "GET"},
            ],
            "experience": experience or {},
        }
        self.orders[order_id] = order
        out = orjson.dumps({k: v for k, v in order.items() if k != "experience"})
        self._remember(request, 200, out)
        return web.Response(status=201, body=out, content_type="application/json")

    async def _get(self, request: web.Request) -> web.Response:
        refused = await self._authorized(request)
        if refused is not None:
            return refused
        order = self.orders.get(request.match_info["id"])
        if order is None:
            return _error(
                404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID", "Specified resource ID does not exist."
            )
        return web.Response(
            body=orjson.dumps({k: v for k, v in order.items() if k != "experience"}),
            content_type="application/json",
        )

    async def _capture(self, request: web.Request) -> web.Response:
        refused = await self._authorized(request)
        if refused is not None:
            return refused
        replay = self._replayed(request)
        if replay is not None:
            return replay
        order = self.orders.get(request.match_info["id"])
        if order is None:
            return _error(
                404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID", "Specified resource ID does not exist."
            )
        if order["status"] == "COMPLETED":
            return _error(
                422,
                "UNPROCESSABLE_ENTITY",
                "ORDER_ALREADY_CAPTURED",
                "Order already captured. If 'intent=CAPTURE' only one capture per order is allowed.",
            )
        if order["status"] != "APPROVED":
            return _error(
                422,
                "UNPROCESSABLE_ENTITY",
                "ORDER_NOT_APPROVED",
                "Payer has not yet approved the Order for payment.",
            )
        unit = order["purchase_units"][0]
        amount = dict(unit["amount"])
        if self.capture_amount is not None:
            amount["value"] = self.capture_amount
        if self.capture_currency is not None:
            amount["currency_code"] = self.capture_currency
        capture = {
            "id": secrets.token_hex(9).upper()[:17],
            "status": self.capture_status,
            "amount": amount,
            "final_capture": True,
            "custom_id": unit.get("custom_id"),
            "seller_protection": {"status": "ELIGIBLE"},
            "supplementary_data": {"related_ids": {"order_id": order["id"]}},
            "create_time": datetime.now(UTC).isoformat(),
            "update_time": datetime.now(UTC).isoformat(),
        }
        if self.capture_status == "PENDING":
            capture["status_details"] = {"reason": "PENDING_REVIEW"}
        unit["payments"] = {"captures": [capture]}
        order["status"] = "COMPLETED"
        self.captures += 1
        out = orjson.dumps({k: v for k, v in order.items() if k != "experience"})
        self._remember(request, 200, out)
        if self.capture_delay:
            await self.pause(self.capture_delay)  # captured, but the answer comes too late
        return web.Response(status=201, body=out, content_type="application/json")

    async def _verify(self, request: web.Request) -> web.Response:
        refused = await self._authorized(request)
        if refused is not None:
            return refused
        raw = await request.read()
        fields = orjson.loads(raw)
        marker = b'"webhook_event":'
        event_bytes = raw[raw.index(marker) + len(marker) :].rstrip()[:-1]  # the event exactly as sent
        message = "|".join(
            [
                fields["transmission_id"],
                fields["transmission_time"],
                fields["webhook_id"],
                str(zlib.crc32(event_bytes) & 0xFFFFFFFF),
            ]
        ).encode()
        status = "FAILURE"
        if fields.get("auth_algo") == "SHA256withRSA" and fields["cert_url"].startswith(self.url):
            try:
                self._cert.public_key().verify(  # type: ignore[union-attr,call-arg]
                    base64.b64decode(fields["transmission_sig"]), message, padding.PKCS1v15(), hashes.SHA256()
                )
                status = "SUCCESS"
            except Exception:
                status = "FAILURE"
        return web.json_response({"verification_status": status})

    async def _cert_file(self, request: web.Request) -> web.Response:
        return web.Response(
            body=self._cert.public_bytes(serialization.Encoding.PEM), content_type="text/plain"
        )

    async def _refund_capture(self, request: web.Request) -> web.Response:
        refused = await self._authorized(request)
        if refused is not None:
            return refused
        replay = self._replayed(request)
        if replay is not None:
            return replay
        wanted = request.match_info["id"]
        order_id = next(
            (
                oid
                for oid, order in self.orders.items()
                for unit in order.get("purchase_units") or []
                for capture in (unit.get("payments") or {}).get("captures") or []
                if capture["id"] == wanted
            ),
            None,
        )
        if order_id is None:
            return _error(
                404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID", "Specified resource ID does not exist."
            )
        body = await request.json()
        capture = self.capture_of(order_id)
        value = (body.get("amount") or {}).get("value") or capture["amount"]["value"]
        done = sum(Decimal(r["amount"]["value"]) for r in self.refunds if r["capture_id"] == wanted)
        if done + Decimal(value) > Decimal(capture["amount"]["value"]):
            return _error(
                422,
                "UNPROCESSABLE_ENTITY",
                "REFUND_AMOUNT_EXCEEDED",
                "The refund amount must be less than or equal to the capture amount that has not yet been refunded.",
            )
        refund = self.refund(order_id, value)
        self.refunds.append({**refund, "capture_id": wanted})
        raw = orjson.dumps(refund)
        self._remember(request, 201, raw)
        return web.Response(status=201, body=raw, content_type="application/json")


def stale(minutes: int = 10) -> datetime:
    return datetime.now(UTC) - timedelta(minutes=minutes)


__all__ = ["CLIENT_ID", "CLIENT_SECRET", "WEBHOOK_ID", "FakePayPal", "stale", "time"]
