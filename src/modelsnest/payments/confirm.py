"""The payer comes back (return or cancel URL), and providers call us (webhooks).

Neither trusts the visit or the request body on its own: a return makes us ask the provider
(PayPal: capture server-side; Stripe, Coinbase: read the session/checkout), and a webhook is
applied only after its signature verifies. Both are idempotent (see ``apply``)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from modelsnest.db.base import utcnow
from modelsnest.errors import ModelsnestError, NotFound
from modelsnest.payments.apply import Applied, EventRecord, apply
from modelsnest.payments.context import Context
from modelsnest.payments.providers.base import InvalidWebhook, Observation, PaymentProvider
from modelsnest.payments.records import Lookup, get_view, payments, token_matches
from modelsnest.payments.types import OPEN_STATUSES, PaymentView

log = logging.getLogger(__name__)


def read_event_id(source: str, checkout_id: str, observation: Observation) -> str:
    """A read of the provider's state, as an event: the same state read twice is one event."""
    return f"{source}:{checkout_id}:{observation.state}:{observation.payment_id or '-'}"


async def observe(
    ctx: Context,
    adapter: PaymentProvider,
    public_id: str,
    checkout_id: str,
    observation: Observation,
    *,
    source: str,
) -> Applied:
    import orjson

    record = EventRecord(
        provider=adapter.name,
        event_id=read_event_id(source, checkout_id, observation),
        event_type=f"read.{observation.state}",
        source=source,
        body=orjson.dumps(observation.raw or {}, default=str).decode(),
    )
    lookup = Lookup(reference=public_id, checkout_id=checkout_id, payment_id=observation.payment_id)
    return await apply(ctx.sessions, record, lookup, observation, seller=ctx.config.seller)


async def _returning(
    ctx: Context, provider: str, public_id: object, token: object
) -> tuple[PaymentProvider, dict[str, Any]]:
    adapter = ctx.provider(provider)
    if isinstance(public_id, str) and public_id.startswith("pay_") and len(public_id) <= 40:
        async with ctx.sessions() as session:
            row = (await session.execute(select(payments).where(payments.c.public_id == public_id))).first()
        if (
            row is not None
            and row.provider == adapter.name
            and token_matches(str(token or ""), row.return_token_hash)
        ):
            return adapter, dict(row._mapping)
    raise NotFound("no such payment for this return link", code="PAYMENT_NOT_FOUND")


async def confirm_return(
    ctx: Context, provider: str, public_id: object, token: object, returned: Mapping[str, str]
) -> PaymentView:
    """The payer is back from the provider: confirm server-side and report the payment.

    Ids in the query string (PayPal's ``token``, Stripe's ``session_id``) are never used: we
    confirm the checkout stored on our own row. A provider that fails or times out leaves the
    payment as it was; the webhook or the reconciler finishes it."""
    adapter, row = await _returning(ctx, provider, public_id, token)
    checkout_id = row["provider_checkout_id"]
    if row["status"] in OPEN_STATUSES and checkout_id:
        try:
            observation = await adapter.confirm(
                checkout_id, request_key=row["request_key"], returned=returned
            )
            await observe(ctx, adapter, row["public_id"], checkout_id, observation, source="return")
        except ModelsnestError as exc:
            log.warning("confirming %s on return failed: %s", row["public_id"], exc.message)
    return await get_view(ctx.sessions, row["public_id"])


async def cancel_return(ctx: Context, provider: str, public_id: object, token: object) -> PaymentView:
    """The payer gave up at the provider. A payment that was still waiting is cancelled (if
    money turns up for it anyway, the provider's word still credits it)."""
    adapter, row = await _returning(ctx, provider, public_id, token)
    if row["status"] == "created":
        async with ctx.sessions.begin() as session:
            await session.execute(
                payments.update()
                .where(payments.c.id == row["id"], payments.c.status == "created")
                .values(
                    status="cancelled",
                    failure_reason="the payer cancelled at the provider",
                    updated_at=utcnow(),
                )
            )
    return await get_view(ctx.sessions, row["public_id"])


async def handle_webhook(ctx: Context, provider: str, body: bytes, headers: Mapping[str, str]) -> Applied:
    """Verify (400 when it does not), store and apply one webhook delivery."""
    if provider not in ctx.providers:
        raise InvalidWebhook(f"{provider} is not configured on this server")
    adapter = ctx.providers[provider]
    event = await adapter.verify_webhook(body, headers)
    lookup = Lookup(reference=event.reference, checkout_id=event.checkout_id, payment_id=event.payment_id)
    observation = event.observation
    if event.confirm and lookup.checkout_id:
        observation = await _confirm_for_webhook(ctx, adapter, lookup) or observation
    if provider == "stripe" and event.event_type == "checkout.session.completed" and observation is None:
        from modelsnest.payments.autorecharge import finish_card_setup_from_webhook

        await finish_card_setup_from_webhook(ctx, event.raw)
    record = EventRecord(
        provider=provider,
        event_id=event.event_id,
        event_type=event.event_type or "unknown",
        source="webhook",
        body=body.decode("utf-8", "replace"),
    )
    result = await apply(ctx.sessions, record, lookup, observation, seller=ctx.config.seller)
    if result.outcome == "unknown_payment":
        log.warning("%s webhook %s (%s) names no payment of ours", provider, event.event_id, event.event_type)
    return result


async def _confirm_for_webhook(ctx: Context, adapter: PaymentProvider, lookup: Lookup) -> Observation | None:
    """PayPal: an approved order waits for our capture; do it now (same request id as the return)."""
    async with ctx.sessions() as session:
        row = (
            await session.execute(
                select(payments.c.status, payments.c.request_key).where(
                    payments.c.provider == adapter.name, payments.c.provider_checkout_id == lookup.checkout_id
                )
            )
        ).first()
    if row is None or row.status not in OPEN_STATUSES:
        return None
    assert lookup.checkout_id is not None
    return await adapter.confirm(lookup.checkout_id, request_key=row.request_key, returned={})
