"""Stripe Checkout through the official SDK (``stripe.StripeClient`` on its async httpx client).

* A top-up is a Checkout Session in ``payment`` mode with our amount as ad-hoc ``price_data``,
  our payment id as ``client_reference_id`` and in the metadata of the session and of its
  PaymentIntent. Its PaymentIntent id is the provider payment id we credit once.
* A webhook is verified with the SDK's ``WebhookSignature.verify_header`` (HMAC over
  ``t.payload``, timestamp tolerance). For ``checkout.session.completed`` and
  ``checkout.session.async_payment_succeeded`` the session is fetched again from Stripe and
  only what Stripe says now counts (``payment_status=paid``, amount, currency).
* ``charge.refunded`` carries the cumulative ``amount_refunded``, so an old refund event
  arriving late never takes back twice.
* Auto-recharge: a Checkout Session in ``setup`` mode (or ``setup_future_usage`` on a top-up)
  saves a card on a Customer; ``charge_saved_card`` confirms a PaymentIntent off-session.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, cast

import orjson
import stripe

from modelsnest.payments.providers.base import (
    CheckoutRequest,
    CreatedCheckout,
    InvalidWebhook,
    Observation,
    ProviderCheck,
    ProviderError,
    ProviderTimeout,
    Refund,
    SavedCard,
    WebhookEvent,
    header,
)

_CENTS = Decimal(100)
_SESSION_EXPAND = ["payment_intent", "payment_intent.payment_method", "setup_intent"]


def _dict(value: Any) -> dict[str, Any]:
    if isinstance(value, stripe.StripeObject):
        return value.to_dict()
    return dict(value) if isinstance(value, Mapping) else {}


def _id(value: Any) -> str | None:
    """An expandable field: the id string, or the id of the expanded object."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        found = value.get("id")
        return found if isinstance(found, str) else None
    return None


def _money(cents: Any) -> Decimal | None:
    return Decimal(cents) / _CENTS if isinstance(cents, int) and not isinstance(cents, bool) else None


def _card(customer: str | None, method: Any) -> SavedCard | None:
    method_id = _id(method)
    if not customer or not method_id:
        return None
    card = method.get("card") if isinstance(method, Mapping) else None
    label = None
    if isinstance(card, Mapping) and card.get("last4"):
        label = f"{card.get('brand') or 'card'} •••• {card['last4']}"
    return SavedCard(customer_id=customer, payment_method_id=method_id, label=label)


def session_observation(session: Mapping[str, Any]) -> Observation:
    """What a Checkout Session (payment mode, payment_intent expanded or not) says."""
    metadata = session.get("metadata") or {}
    reference = session.get("client_reference_id") or metadata.get("payment_id")
    intent = session.get("payment_intent")
    common: dict[str, Any] = {
        "payment_id": _id(intent),
        "amount": _money(session.get("amount_total")),
        "currency": str(session.get("currency") or "").upper() or None,
        "reference": reference,
        "raw": dict(session),
    }
    status, paid = session.get("status"), session.get("payment_status")
    if status == "expired":
        return Observation("expired", reason="the checkout session expired", **common)
    if status == "complete" and paid == "paid":
        card = None
        if isinstance(intent, Mapping) and intent.get("setup_future_usage"):
            customer = _id(intent.get("customer")) or _id(session.get("customer"))
            card = _card(customer, intent.get("payment_method"))
        return Observation("paid", card=card, **common)
    if status == "complete":
        return Observation("pending", reason="the payment is processing", **common)
    return Observation("open", **common)


def intent_observation(intent: Mapping[str, Any]) -> Observation:
    """An off-session PaymentIntent (auto-recharge)."""
    status = intent.get("status")
    common: dict[str, Any] = {
        "payment_id": intent.get("id"),
        "amount": _money(intent.get("amount_received") or intent.get("amount")),
        "currency": str(intent.get("currency") or "").upper() or None,
        "reference": (intent.get("metadata") or {}).get("payment_id"),
        "raw": dict(intent),
    }
    if status == "succeeded":
        return Observation("paid", **common)
    if status in ("processing", "requires_capture"):
        return Observation("pending", **common)
    error = intent.get("last_payment_error") or {}
    reason = error.get("decline_code") or error.get("code") or status
    if status == "canceled":
        return Observation("cancelled", reason=str(reason), **common)
    return Observation("failed", reason=f"card charge failed: {reason}", **common)


class _HTTPXClient(stripe.HTTPXClient):
    """The SDK's httpx client, handing the encoded form over as ``content=``: it passes
    ``data=<str>``, which httpx deprecates (and will drop) for raw bodies."""

    def _get_request_args_kwargs(
        self, method: str, url: str, headers: Mapping[str, str], post_data: Any
    ) -> Any:
        args, kwargs = super()._get_request_args_kwargs(method, url, headers, post_data)
        kwargs["content"] = kwargs.pop("data", None) or None
        return [args, kwargs]


class StripeProvider:
    name = "stripe"
    label = "Card (Stripe)"
    currency = "USD"

    def __init__(
        self,
        *,
        secret_key: str,
        webhook_secret: str | None,
        api_base: str = "https://api.stripe.com",
        timeout_seconds: float = 20.0,
        tolerance_seconds: int = 300,
        max_network_retries: int = 1,
    ) -> None:
        self._webhook_secret = webhook_secret
        self._tolerance = tolerance_seconds
        self._http = _HTTPXClient(timeout=timeout_seconds)
        self.client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base.rstrip("/")},
            http_client=self._http,
            max_network_retries=max_network_retries,
        )

    async def close(self) -> None:
        await self._http.close_async()  # type: ignore[no-untyped-call]

    async def _call(self, coroutine: Any) -> Any:
        try:
            return await coroutine
        except stripe.APIConnectionError as exc:
            raise ProviderTimeout(f"Stripe did not answer: {exc.user_message or exc}") from exc
        except stripe.StripeError as exc:
            raise ProviderError(f"Stripe refused the call: {exc.user_message or exc}") from exc

    # -- top-ups ---------------------------------------------------------------------------
    async def create_checkout(self, request: CheckoutRequest) -> CreatedCheckout:
        metadata = {"payment_id": request.reference, "user_id": str(request.user_id)}
        intent_data: dict[str, Any] = {"metadata": metadata, "description": request.description}
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": request.currency.lower(),
                        "unit_amount": int(request.amount * _CENTS),
                        "product_data": {"name": request.description},
                    },
                }
            ],
            "client_reference_id": request.reference,
            "metadata": metadata,
            "success_url": request.return_url + "&session_id={CHECKOUT_SESSION_ID}",
            "cancel_url": request.cancel_url,
            "expires_at": int(request.expires_at.timestamp()),
            "payment_intent_data": intent_data,
        }
        if request.customer_id:
            params["customer"] = request.customer_id
        elif request.email:
            params["customer_email"] = request.email
        if request.save_card:
            intent_data["setup_future_usage"] = "off_session"
            if not request.customer_id:
                params["customer_creation"] = "always"
        session = await self._call(
            self.client.v1.checkout.sessions.create_async(
                cast(Any, params), {"idempotency_key": request.request_key}
            )
        )
        data = _dict(session)
        expires = data.get("expires_at")
        return CreatedCheckout(
            checkout_id=data["id"],
            url=data["url"],
            expires_at=datetime.fromtimestamp(expires, UTC) if isinstance(expires, int) else None,
            raw=data,
        )

    async def read_session(self, session_id: str) -> dict[str, Any]:
        session = await self._call(
            self.client.v1.checkout.sessions.retrieve_async(session_id, {"expand": _SESSION_EXPAND})
        )
        return _dict(session)

    async def confirm(
        self, checkout_id: str, *, request_key: str, returned: Mapping[str, str]
    ) -> Observation:
        return session_observation(await self.read_session(checkout_id))

    async def poll(self, checkout_id: str, *, request_key: str) -> Observation:
        if checkout_id.startswith("pi_"):  # an auto-recharge charge
            intent = await self._call(self.client.v1.payment_intents.retrieve_async(checkout_id))
            return intent_observation(_dict(intent))
        return session_observation(await self.read_session(checkout_id))

    async def expire(self, checkout_id: str) -> Observation:
        """Close an open session we gave up on (the reconciler), then report what it is."""
        with contextlib.suppress(ProviderError):  # already complete or expired: the read says which
            await self._call(self.client.v1.checkout.sessions.expire_async(checkout_id))
        return session_observation(await self.read_session(checkout_id))

    # -- refunds (the admin panel) ------------------------------------------------------------
    async def refund(self, payment_id: str, amount: Decimal, *, request_key: str, reason: str) -> Refund:
        """Refund ``amount`` of a PaymentIntent; the answer carries the charge's cumulative
        refunded amount, so the ledger key is the one ``charge.refunded`` later names."""
        params: dict[str, Any] = {
            "payment_intent": payment_id,
            "amount": int(amount * _CENTS),
            "metadata": {"reason": reason[:500]},
        }
        created = _dict(
            await self._call(
                self.client.v1.refunds.create_async(cast(Any, params), {"idempotency_key": request_key})
            )
        )
        charge_id = _id(created.get("charge"))
        if charge_id is None:
            raise ProviderError("Stripe's refund names no charge.")
        charge = _dict(await self._call(self.client.v1.charges.retrieve_async(charge_id)))
        currency = str(charge.get("currency") or "").upper() or None
        return Refund(
            refund_id=created.get("id"), total=_money(charge.get("amount_refunded")), currency=currency
        )

    # -- webhooks ----------------------------------------------------------------------------
    async def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        if not self._webhook_secret:
            raise InvalidWebhook("Stripe webhooks are not configured (MODELSNEST_STRIPE_WEBHOOK_SECRET)")
        try:
            stripe.WebhookSignature.verify_header(
                body, header(headers, "Stripe-Signature"), self._webhook_secret, self._tolerance
            )
            event = orjson.loads(body)
        except stripe.SignatureVerificationError as exc:
            raise InvalidWebhook(f"Stripe signature does not verify: {exc.user_message or exc}") from exc
        except orjson.JSONDecodeError as exc:
            raise InvalidWebhook("the webhook body is not JSON") from exc
        if not isinstance(event, dict) or not isinstance(event.get("id"), str):
            raise InvalidWebhook("the webhook body is not a Stripe event")
        return await self._resolve(event)

    async def _resolve(self, event: dict[str, Any]) -> WebhookEvent:
        kind = str(event.get("type") or "")
        obj = (event.get("data") or {}).get("object") or {}
        base: dict[str, Any] = {"event_id": event["id"], "event_type": kind, "raw": event}
        if kind.startswith("checkout.session."):
            metadata = obj.get("metadata") or {}
            ids: dict[str, Any] = {
                "checkout_id": obj.get("id"),
                "reference": obj.get("client_reference_id") or metadata.get("payment_id"),
            }
            if obj.get("mode") == "setup":
                return WebhookEvent(**base, **ids)  # a saved card: finished by the card-setup flow
            if kind in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
                # Never the event's copy: what Stripe says about the session now.
                observation = session_observation(await self.read_session(obj["id"]))
            elif kind == "checkout.session.async_payment_failed":
                observation = Observation("failed", reason="the delayed payment failed", raw=obj)
            elif kind == "checkout.session.expired":
                observation = Observation("expired", reason="the checkout session expired", raw=obj)
            else:
                return WebhookEvent(**base, **ids)
            return WebhookEvent(**base, **ids, payment_id=observation.payment_id, observation=observation)
        if kind == "charge.refunded":
            intent = _id(obj.get("payment_intent"))
            observation = Observation(
                "paid",
                payment_id=intent,
                amount=_money(obj.get("amount")),
                currency=str(obj.get("currency") or "").upper() or None,
                reference=(obj.get("metadata") or {}).get("payment_id"),
                refund=Refund(
                    refund_id=None,
                    total=_money(obj.get("amount_refunded")),
                    currency=str(obj.get("currency") or "").upper() or None,
                ),
                raw=obj,
            )
            return WebhookEvent(**base, payment_id=intent, observation=observation)
        if kind in ("payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.processing"):
            if (obj.get("metadata") or {}).get("kind") != "auto_recharge":
                return WebhookEvent(**base)  # a Checkout payment: its session events decide
            observation = intent_observation(obj)
            return WebhookEvent(
                **base, checkout_id=obj.get("id"), reference=observation.reference, observation=observation
            )
        return WebhookEvent(**base)

    # -- saved cards and off-session charges -------------------------------------------------
    async def ensure_customer(self, *, user_id: int, email: str | None, request_key: str) -> str:
        params: dict[str, Any] = {"metadata": {"user_id": str(user_id)}}
        if email:
            params["email"] = email
        customer = await self._call(
            self.client.v1.customers.create_async(cast(Any, params), {"idempotency_key": request_key})
        )
        return str(_dict(customer)["id"])

    async def create_card_setup(
        self, *, customer_id: str, user_id: int, return_url: str, cancel_url: str, request_key: str
    ) -> CreatedCheckout:
        params: dict[str, Any] = {
            "mode": "setup",
            "currency": "usd",
            "customer": customer_id,
            "metadata": {"purpose": "card_setup", "user_id": str(user_id)},
            "success_url": return_url + "?session_id={CHECKOUT_SESSION_ID}",
            "cancel_url": cancel_url,
        }
        session = _dict(
            await self._call(
                self.client.v1.checkout.sessions.create_async(
                    cast(Any, params), {"idempotency_key": request_key}
                )
            )
        )
        return CreatedCheckout(checkout_id=session["id"], url=session["url"], expires_at=None, raw=session)

    async def read_card_setup(self, session_id: str) -> tuple[dict[str, Any], SavedCard | None]:
        """The setup session and the card it saved (None until the payer finished it)."""
        session = await self.read_session(session_id)
        setup = session.get("setup_intent")
        if session.get("status") != "complete" or not isinstance(setup, Mapping):
            return session, None
        method = setup.get("payment_method")
        if isinstance(method, str):
            method = _dict(await self._call(self.client.v1.payment_methods.retrieve_async(method)))
        return session, _card(_id(session.get("customer")), method)

    async def charge_saved_card(
        self,
        *,
        card: SavedCard,
        amount: Decimal,
        currency: str,
        reference: str,
        user_id: int,
        request_key: str,
    ) -> Observation:
        params: dict[str, Any] = {
            "amount": int(amount * _CENTS),
            "currency": currency.lower(),
            "customer": card.customer_id,
            "payment_method": card.payment_method_id,
            "off_session": True,
            "confirm": True,
            "description": "Modelsnest credits (auto-recharge)",
            "metadata": {"payment_id": reference, "user_id": str(user_id), "kind": "auto_recharge"},
        }
        try:
            intent = await self.client.v1.payment_intents.create_async(
                cast(Any, params), {"idempotency_key": request_key}
            )
        except stripe.CardError as exc:
            body = exc.json_body if isinstance(exc.json_body, dict) else {}
            error = body.get("error") or {}
            failed = error.get("payment_intent") or {}
            reason = error.get("decline_code") or error.get("code") or "card_declined"
            return Observation(
                "failed",
                payment_id=failed.get("id"),
                reason=f"card charge failed: {reason}",
                reference=reference,
                raw=body,
            )
        except stripe.APIConnectionError as exc:
            raise ProviderTimeout(f"Stripe did not answer: {exc.user_message or exc}") from exc
        except stripe.StripeError as exc:
            raise ProviderError(f"Stripe refused the charge: {exc.user_message or exc}") from exc
        return intent_observation(_dict(intent))

    # -- doctor --------------------------------------------------------------------------------
    async def checks(self) -> list[ProviderCheck]:
        try:
            await self._call(self.client.v1.balance.retrieve_async())
            credentials = ProviderCheck("credentials", True, "secret key accepted (GET /v1/balance)")
        except (ProviderError, ProviderTimeout) as exc:
            credentials = ProviderCheck("credentials", False, exc.message)
        secret = ProviderCheck(
            "webhook secret",
            bool(self._webhook_secret),
            "set"
            if self._webhook_secret
            else "MODELSNEST_STRIPE_WEBHOOK_SECRET is not set: payments would "
            "be confirmed only when the payer returns or by the reconciler",
        )
        return [credentials, secret]
