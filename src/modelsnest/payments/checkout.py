"""Starting a top-up: validate, record the attempt, create the provider's checkout.

The payment row is written before the provider is called (so a crash in between leaves a
trace, never an unrecorded checkout), with a fresh idempotency key that every create call
for it reuses. If the provider refuses or times out, the payer never got a URL, so the row is
closed as failed and the error goes back to the caller.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from datetime import timedelta

from modelsnest.auth.caller import Caller
from modelsnest.db.base import utcnow
from modelsnest.db.models import User
from modelsnest.errors import ModelsnestError
from modelsnest.payments.amounts import parse_amount_usd, usd_nanos
from modelsnest.payments.context import Context
from modelsnest.payments.providers.base import CheckoutRequest
from modelsnest.payments.records import get_view, payments, token_hash
from modelsnest.payments.types import PaymentView

log = logging.getLogger(__name__)


def new_public_id() -> str:
    return f"pay_{secrets.token_hex(12)}"


def return_urls(base: str, provider: str, public_id: str, token: str) -> tuple[str, str]:
    query = f"?payment={public_id}&rt={token}"
    return (
        f"{base}/dashboard/billing/return/{provider}{query}",
        f"{base}/dashboard/billing/cancel/{provider}{query}",
    )


async def create_checkout(
    ctx: Context,
    caller: Caller,
    *,
    provider: object,
    amount_usd: object,
    request_base: str | None = None,
    save_card: bool = False,
) -> PaymentView:
    adapter = ctx.provider(provider)
    amount = parse_amount_usd(amount_usd, minimum=ctx.config.min_usd, maximum=ctx.config.max_usd)
    base = ctx.base_url(request_base)
    public_id, token, request_key = new_public_id(), secrets.token_urlsafe(24), str(uuid.uuid4())
    now = utcnow()
    expires = now + timedelta(seconds=ctx.config.checkout_ttl_seconds)
    async with ctx.sessions.begin() as session:
        email = await session.scalar(
            User.__table__.select().with_only_columns(User.email).where(User.id == caller.user_id)
        )
        customer = None
        if adapter.name == "stripe" and save_card:
            from modelsnest.payments.autorecharge import stripe_customer_in

            customer = await stripe_customer_in(session, caller.user_id)
        await session.execute(
            payments.insert().values(
                public_id=public_id,
                user_id=caller.user_id,
                provider=adapter.name,
                kind="checkout",
                status="created",
                amount_nanos=usd_nanos(amount),
                currency=adapter.currency,
                request_key=request_key,
                return_token_hash=token_hash(token),
                save_card=bool(save_card and adapter.name == "stripe"),
                refunded_nanos=0,
                expires_at=expires,
                created_at=now,
                updated_at=now,
            )
        )
    return_url, cancel_url = return_urls(base, adapter.name, public_id, token)
    request = CheckoutRequest(
        reference=public_id,
        user_id=caller.user_id,
        amount=amount,
        currency=adapter.currency,
        description=f"Modelsnest credits ${amount:.2f}",
        return_url=return_url,
        cancel_url=cancel_url,
        request_key=request_key,
        expires_at=expires,
        email=email,
        save_card=bool(save_card and adapter.name == "stripe"),
        customer_id=customer,
    )
    try:
        created = await adapter.create_checkout(request)
    except ModelsnestError as exc:
        log.warning("%s checkout for %s failed: %s", adapter.name, public_id, exc.message)
        await _close_failed(ctx, public_id, f"the provider did not create the checkout: {exc.message}")
        raise
    async with ctx.sessions.begin() as session:
        await session.execute(
            payments.update()
            .where(payments.c.public_id == public_id)
            .values(
                provider_checkout_id=created.checkout_id,
                checkout_url=created.url,
                expires_at=created.expires_at or expires,
                raw=created.raw,
                updated_at=utcnow(),
            )
        )
    return await get_view(ctx.sessions, public_id)


async def _close_failed(ctx: Context, public_id: str, reason: str) -> None:
    async with ctx.sessions.begin() as session:
        await session.execute(
            payments.update()
            .where(payments.c.public_id == public_id, payments.c.status == "created")
            .values(status="failed", failure_reason=reason, updated_at=utcnow())
        )
