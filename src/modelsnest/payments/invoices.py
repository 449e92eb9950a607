"""Invoices: every completed payment gets one, numbered ``MN-<year>-<6 digits>`` from a counter
row per year that is incremented in the transaction crediting the payment. The counter row
lock serializes issuers and a rollback takes its number back, so numbers have no gaps and no
duplicates under any concurrency (never MAX()+1). Seller and buyer are copied at issue time.

Rendering: ``render_html`` (a Jinja2 fragment, printable on its own or wrapped in the site's
layout by the web pages) and ``render_pdf`` (fpdf2, no browser).
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any, cast

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import Row, Table, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from modelsnest.billing._db import upsert
from modelsnest.db.engine import SessionFactory
from modelsnest.db.models import InvoiceCounter, User
from modelsnest.errors import NotFound
from modelsnest.payments.records import invoices, payments
from modelsnest.payments.types import InvoiceView

counters = cast(Table, InvoiceCounter.__table__)
users = cast(Table, User.__table__)
PROVIDER_NAMES = {"stripe": "Card (Stripe)", "paypal": "PayPal", "coinbase": "Coinbase (USDC)"}


def invoice_number(series: str, sequence: int) -> str:
    return f"MN-{series}-{sequence:06d}"


async def next_number(session: AsyncSession, series: str) -> int:
    """The next number of the series, inside the caller's transaction (the row stays locked)."""
    await session.execute(
        upsert(session, counters)
        .values(series=series, last_number=0)
        .on_conflict_do_nothing(index_elements=["series"])
    )
    statement = (
        update(counters)
        .where(counters.c.series == series)
        .values(last_number=counters.c.last_number + 1)
        .returning(counters.c.last_number)
    )
    return int((await session.execute(statement)).scalar_one())


async def issue_in(
    session: AsyncSession,
    *,
    payment_id: int,
    user_id: int,
    provider: str,
    amount_nanos: int,
    now: datetime,
    seller: dict[str, Any],
) -> str:
    buyer_row = (
        await session.execute(select(users.c.email, users.c.display_name).where(users.c.id == user_id))
    ).one()
    buyer = {"email": buyer_row.email}
    if buyer_row.display_name:
        buyer["name"] = buyer_row.display_name
    series = str(now.year)
    sequence = await next_number(session, series)
    number = invoice_number(series, sequence)
    await session.execute(
        invoices.insert().values(
            number=number,
            series=series,
            sequence=sequence,
            payment_id=payment_id,
            user_id=user_id,
            issued_at=now,
            amount_nanos=amount_nanos,
            currency="USD",
            description=f"Modelsnest prepaid credits, paid with {PROVIDER_NAMES.get(provider, provider)}",
            seller=dict(seller),
            buyer=buyer,
        )
    )
    return number


def _columns() -> Any:
    return select(
        invoices,
        payments.c.public_id,
        payments.c.provider,
        payments.c.refunded_nanos,
    ).select_from(invoices.join(payments, payments.c.id == invoices.c.payment_id))


def _view(row: Row[Any]) -> InvoiceView:
    return InvoiceView(
        number=row.number,
        user_id=row.user_id,
        payment_id=row.public_id,
        provider=row.provider,
        issued_at=row.issued_at,
        amount_nanos=row.amount_nanos,
        currency=row.currency,
        description=row.description,
        seller=row.seller,
        buyer=row.buyer,
        refunded_nanos=row.refunded_nanos,
    )


async def list_invoices(sessions: SessionFactory, user_id: int, *, limit: int = 100) -> list[InvoiceView]:
    async with sessions() as session:
        rows = (
            await session.execute(
                _columns().where(invoices.c.user_id == user_id).order_by(invoices.c.id.desc()).limit(limit)
            )
        ).all()
    return [_view(row) for row in rows]


async def get_invoice(sessions: SessionFactory, user_id: int, number: object) -> InvoiceView:
    """One of the user's own invoices (another user's number is the same 404)."""
    if isinstance(number, str) and len(number) <= 32:
        async with sessions() as session:
            row = (
                await session.execute(
                    _columns().where(invoices.c.number == number, invoices.c.user_id == user_id)
                )
            ).first()
        if row is not None:
            return _view(row)
    raise NotFound(f"no invoice {number!s:.32}", code="INVOICE_NOT_FOUND")


@lru_cache(maxsize=1)
def _templates() -> Environment:
    return Environment(
        loader=PackageLoader("modelsnest.payments", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(invoice: InvoiceView, *, standalone: bool = False) -> str:
    """The invoice as an ``<article>`` (``standalone``: a whole printable page around it)."""
    return _templates().get_template("invoice.html").render(invoice=invoice, standalone=standalone)


def render_pdf(invoice: InvoiceView) -> bytes:
    from modelsnest.payments.invoice_pdf import invoice_pdf

    return invoice_pdf(invoice)
