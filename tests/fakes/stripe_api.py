"""A fake Stripe API on 127.0.0.1 for the official ``stripe`` SDK (pointed at it by
``MODELSNEST_STRIPE_API_BASE``): form-encoded requests with bracketed keys, ``Idempotency-Key``
replays, ``expand[]``, Stripe's error body, and webhooks signed exactly as Stripe signs them
(``Stripe-Signature: t=<unix>,v1=HMAC-SHA256(secret, "t.body")``).

Objects: Checkout Sessions (payment and setup mode), PaymentIntents (from a paid session or
confirmed off-session with a saved card), Customers, PaymentMethods, Charges (refunds).
The payer is played by the test: ``pay(session_id)``, ``complete_setup(session_id)``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
from typing import Any
from urllib.parse import parse_qsl

import orjson
from aiohttp import web

from tests.fakes.server import FakeUpstream

SECRET_KEY = "sk_test_fake_" + "k" * 24
WEBHOOK_SECRET = "whsec_fake_" + "w" * 24


def parse_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's bracket notation (``a[b][0][c]=v``) into nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = key.replace("]", "").split("[")
        node: Any = root
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            following = None if last else parts[index + 1]
            container: Any = value if last else ([] if following is not None and following.isdigit() else {})
            if isinstance(node, list):
                position = int(part) if part.isdigit() else len(node)
                while len(node) <= position:
                    node.append(None)
                if node[position] is None or last:
                    node[position] = container
                node = node[position]
            else:
                if part not in node or last:
                    node[part] = container
                node = node[part]
    return root


def _id(prefix: str) -> str:
    return f"{prefix}_test_{secrets.token_hex(12)}"


def stripe_signature(body: bytes, secret: str, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


class FakeStripe(FakeUpstream):
    name = "stripe"

    def __init__(self) -> None:
        super().__init__()
        self.sessions: dict[str, dict[str, Any]] = {}
        self.intents: dict[str, dict[str, Any]] = {}
        self.customers: dict[str, dict[str, Any]] = {}
        self.methods: dict[str, dict[str, Any]] = {}
        self.charges: dict[str, dict[str, Any]] = {}
        self.idempotent: dict[tuple[str, str], tuple[int, bytes]] = {}
        self.decline_off_session = False  # off-session charges fail with card_declined
        self.retrieve_delay = 0.0
        self.off_session_charges = 0
        self.refunds: list[dict[str, Any]] = []

    # -- the payer and the dashboard (test controls) -------------------------------------------
    def pay(
        self,
        session_id: str,
        *,
        amount: int | None = None,
        currency: str | None = None,
        delayed: bool = False,
    ) -> dict[str, Any]:
        """The payer pays; returns the session. ``amount``/``currency`` let the test make Stripe
        report something other than what was asked (tampering); ``delayed``: an async method
        (the session completes unpaid, ``settle_delayed`` finishes it)."""
        session = self.sessions[session_id]
        intent_data = session.get("payment_intent_data") or {}
        customer = session.get("customer")
        if not customer and session.get("customer_creation") == "always":
            customer = self._customer({"email": session.get("customer_email")})["id"]
        method = self._method()
        charged = amount if amount is not None else session["amount_total"]
        intent = {
            "id": _id("pi"),
            "object": "payment_intent",
            "amount": charged,
            "amount_received": 0 if delayed else charged,
            "currency": currency or session["currency"],
            "status": "processing" if delayed else "succeeded",
            "customer": customer,
            "payment_method": method["id"],
            "setup_future_usage": intent_data.get("setup_future_usage"),
            "metadata": intent_data.get("metadata") or {},
            "latest_charge": None,
        }
        self.intents[intent["id"]] = intent
        if not delayed:
            self._charge_for(intent)
        session.update(
            status="complete",
            payment_status="unpaid" if delayed else "paid",
            payment_intent=intent["id"],
            customer=customer,
            amount_total=charged,
            currency=currency or session["currency"],
        )
        return session

    def settle_delayed(self, session_id: str, *, succeed: bool = True) -> dict[str, Any]:
        session = self.sessions[session_id]
        intent = self.intents[session["payment_intent"]]
        if succeed:
            intent.update(status="succeeded", amount_received=intent["amount"])
            self._charge_for(intent)
            session["payment_status"] = "paid"
        else:
            intent["status"] = "requires_payment_method"
        return session

    def complete_setup(self, session_id: str) -> dict[str, Any]:
        session = self.sessions[session_id]
        method = self._method()
        method["customer"] = session.get("customer")
        setup = {
            "id": _id("seti"),
            "object": "setup_intent",
            "status": "succeeded",
            "payment_method": method["id"],
            "customer": session.get("customer"),
        }
        session.update(status="complete", setup_intent=setup)
        return session

    def refund(self, intent_id: str, amount: int) -> dict[str, Any]:
        charge = self.charges[self.intents[intent_id]["latest_charge"]]
        charge["amount_refunded"] = min(charge["amount"], charge["amount_refunded"] + amount)
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        return dict(charge)

    def event(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": _id("evt"),
            "object": "event",
            "api_version": "2025-01-27.acacia",
            "created": int(time.time()),
            "livemode": False,
            "type": kind,
            "data": {"object": dict(obj)},
            "pending_webhooks": 1,
        }

    def signed(
        self, event: dict[str, Any], *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None
    ) -> tuple[bytes, dict[str, str]]:
        body = orjson.dumps(event)
        stamp = int(time.time()) if timestamp is None else timestamp
        return body, {
            "Stripe-Signature": stripe_signature(body, secret, stamp),
            "Content-Type": "application/json",
        }

    # -- objects ---------------------------------------------------------------------------------
    def _customer(self, params: dict[str, Any]) -> dict[str, Any]:
        customer = {
            "id": _id("cus"),
            "object": "customer",
            "email": params.get("email"),
            "metadata": params.get("metadata") or {},
        }
        self.customers[customer["id"]] = customer
        return customer

    def _method(self) -> dict[str, Any]:
        method = {
            "id": _id("pm"),
            "object": "payment_method",
            "type": "card",
            "card": {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030},
        }
        self.methods[method["id"]] = method
        return method

    def _charge_for(self, intent: dict[str, Any]) -> None:
        charge = {
            "id": _id("ch"),
            "object": "charge",
            "amount": intent["amount"],
            "amount_refunded": 0,
            "currency": intent["currency"],
            "payment_intent": intent["id"],
            "refunded": False,
            "metadata": intent.get("metadata") or {},
        }
        self.charges[charge["id"]] = charge
        intent["latest_charge"] = charge["id"]

    def _expanded(self, session: dict[str, Any], expand: list[str]) -> dict[str, Any]:
        out = dict(session)
        if "payment_intent" in expand and isinstance(out.get("payment_intent"), str):
            intent = dict(self.intents[out["payment_intent"]])
            if "payment_intent.payment_method" in expand and intent.get("payment_method"):
                intent["payment_method"] = dict(self.methods[intent["payment_method"]])
            out["payment_intent"] = intent
        for hidden in ("payment_intent_data", "customer_creation", "customer_email"):
            out.pop(hidden, None)
        return out

    # -- HTTP --------------------------------------------------------------------------------------
    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/checkout/sessions", self._create_session)
        app.router.add_get("/v1/checkout/sessions/{id}", self._get_session)
        app.router.add_post("/v1/checkout/sessions/{id}/expire", self._expire_session)
        app.router.add_post("/v1/customers", self._create_customer)
        app.router.add_post("/v1/payment_intents", self._create_intent)
        app.router.add_get("/v1/payment_intents/{id}", self._get_intent)
        app.router.add_get("/v1/payment_methods/{id}", self._get_method)
        app.router.add_get("/v1/balance", self._balance)
        app.router.add_post("/v1/refunds", self._create_refund)
        app.router.add_get("/v1/charges/{id}", self._get_charge)

    @staticmethod
    def _error(status: int, kind: str, message: str, **extra: Any) -> web.Response:
        body = {"error": {"type": kind, "message": message, **extra}}
        return web.Response(status=status, body=orjson.dumps(body), content_type="application/json")

    @staticmethod
    def _ok(obj: Any) -> web.Response:
        return web.Response(
            body=orjson.dumps(obj), content_type="application/json", headers={"Request-Id": _id("req")}
        )

    async def _params(self, request: web.Request) -> tuple[dict[str, Any], web.Response | None]:
        await self.record(request)
        if request.headers.get("Authorization") != f"Bearer {SECRET_KEY}":
            return {}, self._error(401, "invalid_request_error", "Invalid API Key provided")
        body = (await request.read()).decode()
        pairs = parse_qsl(body, keep_blank_values=True) + list(request.query.items())
        return parse_form(pairs), None

    async def _idempotent(self, request: web.Request, make: Any) -> web.Response:
        params, refused = await self._params(request)
        if refused is not None:
            return refused
        key = request.headers.get("Idempotency-Key")
        if key and (request.path, key) in self.idempotent:
            status, body = self.idempotent[(request.path, key)]
            return web.Response(
                status=status,
                body=body,
                content_type="application/json",
                headers={"Idempotent-Replayed": "true"},
            )
        response: web.Response = await make(params)
        if key and response.body is not None:
            self.idempotent[(request.path, key)] = (response.status, bytes(response.body))  # type: ignore[arg-type]
        return response

    async def _create_session(self, request: web.Request) -> web.Response:
        async def make(p: dict[str, Any]) -> web.Response:
            sid = _id("cs")
            mode = p.get("mode", "payment")
            amount = None
            currency = p.get("currency")
            if mode == "payment":
                price = p["line_items"][0]["price_data"]
                amount = int(price["unit_amount"]) * int(p["line_items"][0].get("quantity", 1))
                currency = price["currency"]
            session = {
                "id": sid,
                "object": "checkout.session",
                "mode": mode,
                "status": "open",
                "payment_status": "unpaid",
                "amount_total": amount,
                "currency": currency,
                "client_reference_id": p.get("client_reference_id"),
                "metadata": p.get("metadata") or {},
                "customer": p.get("customer"),
                "customer_creation": p.get("customer_creation"),
                "customer_email": p.get("customer_email"),
                "payment_intent": None,
                "setup_intent": None,
                "payment_intent_data": p.get("payment_intent_data") or {},
                "success_url": str(p.get("success_url", "")).replace("{CHECKOUT_SESSION_ID}", sid),
                "cancel_url": p.get("cancel_url"),
                "expires_at": int(p.get("expires_at") or time.time() + 86400),
                "url": f"{self.url}/c/pay/{sid}",
            }
            self.sessions[sid] = session
            return self._ok(self._expanded(session, []))

        return await self._idempotent(request, make)

    async def _get_session(self, request: web.Request) -> web.Response:
        params, refused = await self._params(request)
        if refused is not None:
            return refused
        await self.pause(self.retrieve_delay)
        session = self.sessions.get(request.match_info["id"])
        if session is None:
            return self._error(
                404, "invalid_request_error", "No such checkout.session", code="resource_missing"
            )
        expand = params.get("expand") or []
        return self._ok(self._expanded(session, list(expand) if isinstance(expand, list) else [expand]))

    async def _expire_session(self, request: web.Request) -> web.Response:
        _, refused = await self._params(request)
        if refused is not None:
            return refused
        session = self.sessions[request.match_info["id"]]
        if session["status"] != "open":
            return self._error(
                400, "invalid_request_error", "Only Checkout Sessions with a status of open can be expired."
            )
        session["status"] = "expired"
        return self._ok(self._expanded(session, []))

    async def _create_customer(self, request: web.Request) -> web.Response:
        async def make(p: dict[str, Any]) -> web.Response:
            return self._ok(self._customer(p))

        return await self._idempotent(request, make)

    async def _create_intent(self, request: web.Request) -> web.Response:
        async def make(p: dict[str, Any]) -> web.Response:
            await asyncio.sleep(0.05)  # a card network round trip: lets concurrent claims overlap
            self.off_session_charges += 1
            intent = {
                "id": _id("pi"),
                "object": "payment_intent",
                "amount": int(p["amount"]),
                "currency": p["currency"],
                "customer": p.get("customer"),
                "payment_method": p.get("payment_method"),
                "metadata": p.get("metadata") or {},
                "latest_charge": None,
            }
            if self.decline_off_session:
                intent.update(
                    status="requires_payment_method",
                    amount_received=0,
                    last_payment_error={"code": "card_declined", "decline_code": "insufficient_funds"},
                )
                self.intents[intent["id"]] = intent
                return self._error(
                    402,
                    "card_error",
                    "Your card has insufficient funds.",
                    code="card_declined",
                    decline_code="insufficient_funds",
                    payment_intent=intent,
                )
            intent.update(status="succeeded", amount_received=intent["amount"])
            self.intents[intent["id"]] = intent
            self._charge_for(intent)
            return self._ok(intent)

        return await self._idempotent(request, make)

    async def _get_intent(self, request: web.Request) -> web.Response:
        _, refused = await self._params(request)
        return refused or self._ok(self.intents[request.match_info["id"]])

    async def _get_method(self, request: web.Request) -> web.Response:
        _, refused = await self._params(request)
        return refused or self._ok(self.methods[request.match_info["id"]])

    async def _balance(self, request: web.Request) -> web.Response:
        _, refused = await self._params(request)
        return refused or self._ok(
            {"object": "balance", "available": [{"amount": 0, "currency": "usd"}], "livemode": False}
        )

    async def _create_refund(self, request: web.Request) -> web.Response:
        async def make(p: dict[str, Any]) -> web.Response:
            intent = self.intents.get(p.get("payment_intent", ""))
            if intent is None:
                return self._error(404, "invalid_request_error", "No such payment_intent")
            charge = self.charges[intent["latest_charge"]]
            amount = int(p.get("amount") or charge["amount"] - charge["amount_refunded"])
            if amount > charge["amount"] - charge["amount_refunded"]:
                return self._error(
                    400, "invalid_request_error", "Refund amount is greater than unrefunded amount"
                )
            self.refund(intent["id"], amount)
            refund = {
                "id": _id("re"),
                "object": "refund",
                "amount": amount,
                "charge": charge["id"],
                "payment_intent": intent["id"],
                "currency": charge["currency"],
                "status": "succeeded",
                "metadata": p.get("metadata") or {},
            }
            self.refunds.append(refund)
            return self._ok(refund)

        return await self._idempotent(request, make)

    async def _get_charge(self, request: web.Request) -> web.Response:
        _, refused = await self._params(request)
        return refused or self._ok(self.charges[request.match_info["id"]])
