"""Wire details of the adapters that the end-to-end tests cannot see: Hook0's signature
(against Hook0's own published test vector), the Coinbase JWT, PayPal's byte-exact
verification request, and how provider objects read."""

from __future__ import annotations

import base64
import uuid
import zlib
from datetime import UTC, datetime
from decimal import Decimal

import jwt
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from modelsnest.payments.providers.base import InvalidWebhook
from modelsnest.payments.providers.coinbase import CoinbaseProvider, checkout_observation, hook0_signature
from modelsnest.payments.providers.paypal import PayPalProvider, order_observation
from modelsnest.payments.providers.stripe import session_observation
from tests.fakes import coinbase_api
from tests.fakes.coinbase_api import FakeCoinbase
from tests.fakes.paypal_api import CLIENT_ID, CLIENT_SECRET, WEBHOOK_ID, FakePayPal


def test_hook0_v1_signature_matches_hook0s_test_vector() -> None:
    # hook0 output-worker test `create_signature_v1`: secret "secret", t=1636936200, body "hello !".
    signature = hook0_signature(
        "secret",
        timestamp=1636936200,
        header_names=["x-event-id", "x-event-type"],
        header_values=["1a01cb48-5142-4d9b-8f90-d20cca61f0ee", "service.resource.verb"],
        body=b"hello !",
    )
    assert signature == "bc521546ba5de381b12f135782d2008b028c3065c191760b12b76850a8fc8f51"


def test_the_coinbase_jwt_names_the_request_without_its_query() -> None:
    provider = CoinbaseProvider(
        key_id=coinbase_api.KEY_ID,
        key_secret=coinbase_api.KEY_SECRET,
        webhook_secret=None,
        api_base="https://business.coinbase.com",
    )
    token = provider.bearer("GET", "/api/v1/checkouts?pageSize=1")
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert (header["alg"], header["kid"], header["typ"]) == ("ES256", coinbase_api.KEY_ID, "JWT")
    assert claims["uris"] == ["GET business.coinbase.com/api/v1/checkouts"]
    assert claims["iss"] == "cdp" and claims["exp"] - claims["nbf"] == 120


async def test_a_coinbase_webhook_with_an_unsigned_header_claimed_in_h_is_refused() -> None:
    async with FakeCoinbase() as fake:
        provider = CoinbaseProvider(
            key_id=coinbase_api.KEY_ID,
            key_secret=coinbase_api.KEY_SECRET,
            webhook_secret=coinbase_api.WEBHOOK_SECRET,
            api_base=fake.url,
        )
        body, headers = fake.signed("checkout.payment.success", {"id": "a" * 24, "status": "COMPLETED"})
        event = await provider.verify_webhook(body, headers)
        assert event.observation is not None and event.observation.state == "paid"
        del headers["x-event-id"]
        with pytest.raises(InvalidWebhook):
            await provider.verify_webhook(body, headers)
        await provider.close()


async def test_paypal_verification_sends_the_event_byte_for_byte() -> None:
    async with FakePayPal() as fake:
        provider = PayPalProvider(
            client_id=CLIENT_ID, client_secret=CLIENT_SECRET, webhook_id=WEBHOOK_ID, api_base=fake.url
        )
        # Unusual spacing and key order survive: re-serialising would break PayPal's CRC.
        body = b'{"resource": {"id": "X1", "status": "PENDING"},   "event_type": "PAYMENT.CAPTURE.PENDING", "id": "WH-1"}'
        event = await provider.verify_webhook(body, _signed_headers(fake, body))
        assert (event.event_id, event.observation.state if event.observation else None) == ("WH-1", "pending")
        sent = fake.requests[-1].raw
        assert sent.endswith(b'"webhook_event":' + body + b"}")
        await provider.close()


def _signed_headers(fake: FakePayPal, body: bytes) -> dict[str, str]:
    """PayPal's headers for exactly these bytes (the fake's ``signed`` serialises a dict)."""
    tid, when = str(uuid.uuid4()), datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    message = f"{tid}|{when}|{WEBHOOK_ID}|{zlib.crc32(body) & 0xFFFFFFFF}".encode()
    signature = fake._key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    return {
        "PAYPAL-TRANSMISSION-ID": tid,
        "PAYPAL-TRANSMISSION-TIME": when,
        "PAYPAL-TRANSMISSION-SIG": base64.b64encode(signature).decode(),
        "PAYPAL-CERT-URL": f"{fake.url}/v1/notifications/certs/CERT",
        "PAYPAL-AUTH-ALGO": "SHA256withRSA",
    }


def test_an_order_completed_with_a_pending_capture_is_not_paid() -> None:
    order = {
        "id": "O1",
        "status": "COMPLETED",
        "purchase_units": [
            {
                "custom_id": "pay_x",
                "payments": {
                    "captures": [
                        {
                            "id": "C1",
                            "status": "PENDING",
                            "amount": {"currency_code": "USD", "value": "10.00"},
                            "custom_id": "pay_x",
                        }
                    ]
                },
            }
        ],
    }
    observation = order_observation(order)
    assert (observation.state, observation.payment_id, observation.amount) == (
        "pending",
        "C1",
        Decimal("10.00"),
    )
    assert order_observation({"id": "O2", "status": "APPROVED", "purchase_units": [{}]}).state == "open"


def test_a_completed_stripe_session_is_paid_only_when_its_payment_status_says_so() -> None:
    base = {
        "id": "cs_1",
        "status": "complete",
        "amount_total": 1000,
        "currency": "usd",
        "client_reference_id": "pay_x",
        "payment_intent": "pi_1",
    }
    assert session_observation({**base, "payment_status": "paid"}).state == "paid"
    assert session_observation({**base, "payment_status": "unpaid"}).state == "pending"
    assert session_observation({**base, "status": "open", "payment_status": "unpaid"}).state == "open"
    paid = session_observation({**base, "payment_status": "paid"})
    assert (paid.amount, paid.currency, paid.payment_id) == (Decimal("10"), "USD", "pi_1")


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("ACTIVE", "open"),
        ("PROCESSING", "pending"),
        ("COMPLETED", "paid"),
        ("EXPIRED", "expired"),
        ("FAILED", "failed"),
        ("DEACTIVATED", "cancelled"),
    ],
)
def test_coinbase_statuses(status: str, state: str) -> None:
    assert (
        checkout_observation({"id": "c", "status": status, "amount": "5.00", "currency": "USDC"}).state
        == state
    )
