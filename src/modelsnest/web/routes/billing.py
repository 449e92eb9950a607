"""``/dashboard/billing``: balance, top-ups (through the configured payment providers), the
ledger, payments, invoices, auto-recharge with a saved card, and the pages providers send the
payer back to.

Everything is scoped to the signed-in user: another user's payment, invoice or card setup is a
404, the same as one that does not exist. Money reaches the templates as integer nanos."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from modelsnest import billing
from modelsnest.auth.caller import Caller
from modelsnest.auth.web_sessions import SignedIn
from modelsnest.billing import history
from modelsnest.errors import InvalidRequest, ModelsnestError, NotFound
from modelsnest.money import format_usd
from modelsnest.payments import PaymentView
from modelsnest.web import context as web
from modelsnest.web.deps import CurrentUser, RequireUser
from modelsnest.web.errors import PageError, redirect
from modelsnest.web.forms import Form
from modelsnest.web.render import flash, render

router = APIRouter(prefix="/dashboard/billing", include_in_schema=False)

OVERVIEW = "pages/dashboard/billing/index.html"
TOP_UP = "pages/dashboard/billing/top_up.html"
TRANSACTIONS = "pages/dashboard/billing/transactions.html"
PAYMENTS = "pages/dashboard/billing/payments.html"
PAYMENT = "pages/dashboard/billing/payment.html"
INVOICES = "pages/dashboard/billing/invoices.html"
INVOICE = "pages/dashboard/billing/invoice.html"
RESULT = "pages/dashboard/billing/result.html"
LEAVING = "pages/dashboard/billing/leaving.html"
PROVIDER_LABELS = {"stripe": "Stripe", "paypal": "PayPal", "coinbase": "Coinbase"}
PAGE_SIZE = 25
TOP_UP_PRESETS = ("10", "25", "50", "100")
TYPE_LABELS = {
    "topup": "Top-up",
    "usage": "Usage",
    "refund": "Refund",
    "adjustment": "Adjustment",
    "bonus": "Bonus",
    "payment_refund": "Payment refund",
}
PAYMENT_NOT_FOUND = PageError(
    404,
    "Payment not found",
    "There is no such payment in your account. Check the link, or open it from your payments list.",
)
INVOICE_NOT_FOUND = PageError(
    404,
    "Invoice not found",
    "There is no such invoice in your account. Check the link, or open it from your invoices list.",
)
RETURN_NOT_FOUND = PageError(
    404,
    "Payment not found",
    "This payment link is not valid. Open your payments list to see where it stands.",
)
RESULTS: dict[str, tuple[str, str, str]] = {  # status → (tone, title, message with {amount})
    "completed": (
        "success",
        "Payment received",
        "Payment received: ${amount} has been added to your credits.",
    ),
    "pending": (
        "info",
        "Payment processing",
        "Your payment of ${amount} is being processed. Your credits will appear as soon as it clears.",
    ),
    "created": (
        "info",
        "Waiting for your payment",
        "We have not received your payment of ${amount} yet. If you paid, it will appear shortly.",
    ),
    "cancelled": ("warning", "Payment cancelled", "The payment was cancelled. No money was taken."),
    "failed": ("danger", "Payment failed", "The payment did not go through. No credits were added."),
    "expired": ("warning", "Payment expired", "The payment window expired. No money was taken."),
    "refunded": ("info", "Payment refunded", "This payment was refunded."),
    "partially_refunded": ("info", "Payment partly refunded", "This payment was partly refunded."),
}


def _human(exc: ModelsnestError) -> ModelsnestError:
    """The payments service names its JSON fields; a page names its boxes."""
    message = exc.message.replace("amount_usd", "the amount").replace("threshold_usd", "the threshold")
    return InvalidRequest(message[:1].upper() + message[1:], code=exc.code, param=exc.param)


def _caller(user: SignedIn) -> Caller:
    return Caller.signed_in(user.user_id, user.user.role)


def _base(request: Request) -> str:
    return str(request.base_url)


async def _overview(
    request: Request,
    user: SignedIn,
    *,
    topup: Form | None = None,
    recharge: Form | None = None,
    status: int = 200,
    template: str = OVERVIEW,
) -> Response:
    services = web.services(request)
    payments = services.payments
    caller = _caller(user)
    balance = await billing.get_balance(services.sessions, user.user_id)
    recent = await history.transactions_page(services.sessions, user.user_id, limit=5)
    values: dict[str, Any] = {
        "balance": balance,
        "providers": payments.providers(),
        "presets": TOP_UP_PRESETS,
        "min_usd": payments.ctx.config.min_usd,
        "max_usd": payments.ctx.config.max_usd,
        "stripe": "stripe" in payments.ctx.providers,
        "auto": await payments.auto_recharge(caller),
        "recent": recent.rows,
        "payments": (await payments.list_payments(caller, limit=5)),
        "type_labels": TYPE_LABELS,
        "topup_form": topup.shown() if topup is not None else {},
        "topup_errors": topup.errors if topup is not None else {},
        "recharge_form": recharge.shown() if recharge is not None else {},
        "recharge_errors": recharge.errors if recharge is not None else {},
        "open_dialog": topup is not None and not topup.ok and template == OVERVIEW,
    }
    return await render(request, template, values, status_code=status)


@router.get("")
async def billing_page(request: Request, user: RequireUser) -> Response:
    return await _overview(request, user)


@router.get("/top-up")
async def top_up_page(request: Request, user: RequireUser) -> Response:
    """The top-up form on its own page (without JavaScript; with it, a dialog on the overview)."""
    return await _overview(request, user, template=TOP_UP)


@router.post("/top-up")
async def top_up(request: Request, user: RequireUser) -> Response:
    form = await Form.read(request)
    services = web.services(request)
    if not services.payments.providers():
        form.fail(
            "_form", "no payment provider is configured on this server, so credits cannot be bought here yet"
        )
        return await _overview(request, user, topup=form, status=400, template=TOP_UP)
    amount = form.get("amount_usd").strip().lstrip("$").replace(",", "")
    if not amount:
        form.fail("amount_usd", "enter the amount to add, in dollars (for example 25)")
        return await _overview(request, user, topup=form, status=400, template=TOP_UP)
    try:
        payment = await services.payments.create_checkout(
            _caller(user),
            provider=form.get("provider"),
            amount_usd=amount,
            request_base=_base(request),
            save_card=form.checked("save_card"),
        )
    except ModelsnestError as exc:
        form.fail_with(_human(exc), fields=("amount_usd", "provider"))
        return await _overview(request, user, topup=form, status=400, template=TOP_UP)
    if not payment.checkout_url:
        raise PageError(
            502, "The payment provider did not answer", "Try again in a moment, or choose another way to pay."
        )
    return await _leave(
        request,
        payment.checkout_url,
        PROVIDER_LABELS.get(payment.provider, payment.provider),
        f"Pay {format_usd(payment.amount_nanos)} there; you will come back here when it is done.",
    )


async def _leave(request: Request, url: str, provider_label: str, reason: str) -> Response:
    """Continue at the provider: htmx moves the whole page; a form gets a page that moves on
    by itself (a redirect would break the form-action 'self' CSP)."""
    if request.headers.get("hx-request") == "true":
        return Response(status_code=204, headers={"HX-Redirect": url})
    return await render(
        request,
        LEAVING,
        {"url": url, "provider_label": provider_label, "reason": reason},
        headers={"Cache-Control": "no-store"},
    )


# -- where providers send the payer back ---------------------------------------------------------


async def _result(request: Request, payment: PaymentView) -> Response:
    tone, title, message = RESULTS.get(
        payment.status, ("info", "Payment " + payment.status.replace("_", " "), payment.status)
    )
    waiting = payment.status in ("created", "pending")
    return await render(
        request,
        RESULT,
        {
            "payment": payment,
            "tone": tone,
            "heading": title,
            "message": message.replace("{amount}", payment.amount_usd),
            "waiting": waiting,
        },
        headers={"Refresh": "5"} if waiting else None,
    )


@router.get("/return/{provider}")
async def payment_return(provider: str, request: Request, user: CurrentUser) -> Response:
    query = request.query_params
    try:
        payment = await web.services(request).payments.confirm_return(
            provider, query.get("payment"), query.get("rt"), dict(query)
        )
    except NotFound as exc:
        raise RETURN_NOT_FOUND from exc
    return await _result(request, payment)


@router.get("/cancel/{provider}")
async def payment_cancel(provider: str, request: Request, user: CurrentUser) -> Response:
    query = request.query_params
    try:
        payment = await web.services(request).payments.cancel_return(
            provider, query.get("payment"), query.get("rt")
        )
    except NotFound as exc:
        raise RETURN_NOT_FOUND from exc
    return await _result(request, payment)


# -- the ledger, payments, invoices --------------------------------------------------------------


def _day(value: str, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidRequest(f"enter the {name} date as YYYY-MM-DD", param=name) from None


@router.get("/transactions")
async def transactions(request: Request, user: RequireUser) -> Response:
    query = request.query_params
    chosen = query.get("type", "")
    error = None
    before = query.get("before", "")
    try:
        start, end = _day(query.get("from", ""), "from"), _day(query.get("to", ""), "to")
        page = await history.transactions_page(
            web.services(request).sessions,
            user.user_id,
            type=chosen or None,
            start=start,
            end=end,
            before_id=int(before) if before.isdigit() else None,
            limit=PAGE_SIZE,
        )
    except InvalidRequest as exc:
        error, start, end = exc.message, None, None
        page = await history.transactions_page(web.services(request).sessions, user.user_id, limit=PAGE_SIZE)
    filters = {
        k: v for k, v in (("type", chosen), ("from", query.get("from", "")), ("to", query.get("to", ""))) if v
    }
    values = {
        "page": page,
        "error": error,
        "chosen": chosen,
        "start": start,
        "end": end,
        "filters": filters,
        "before": before,
        "type_labels": TYPE_LABELS,
    }
    return await render(request, TRANSACTIONS, values, status_code=400 if error else 200)


@router.get("/payments")
async def payments_page(request: Request, user: RequireUser) -> Response:
    before = request.query_params.get("before") or None
    rows = await web.services(request).payments.list_payments(
        _caller(user), limit=PAGE_SIZE + 1, before=before
    )
    return await render(
        request,
        PAYMENTS,
        {"payments": rows[:PAGE_SIZE], "has_more": len(rows) > PAGE_SIZE, "before": before},
    )


@router.get("/payments/{payment_id}")
async def payment_page(request: Request, payment_id: str, user: RequireUser) -> Response:
    try:
        payment = await web.services(request).payments.get_payment(_caller(user), payment_id)
    except NotFound as exc:
        raise PAYMENT_NOT_FOUND from exc
    return await render(request, PAYMENT, {"payment": payment})


@router.get("/invoices")
async def invoices_page(request: Request, user: RequireUser) -> Response:
    invoices = await web.services(request).payments.list_invoices(_caller(user))
    return await render(request, INVOICES, {"invoices": invoices})


@router.get("/invoices/{number}.pdf")
async def invoice_pdf(request: Request, number: str, user: RequireUser) -> Response:
    payments = web.services(request).payments
    try:
        invoice = await payments.get_invoice(_caller(user), number)
    except NotFound as exc:
        raise INVOICE_NOT_FOUND from exc
    return Response(
        payments.invoice_pdf(invoice),
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="invoice-{invoice.number}.pdf"',
            "Cache-Control": "private, no-store",
        },
    )


@router.get("/invoices/{number}")
async def invoice_page(request: Request, number: str, user: RequireUser) -> Response:
    payments = web.services(request).payments
    try:
        invoice = await payments.get_invoice(_caller(user), number)
    except NotFound as exc:
        raise INVOICE_NOT_FOUND from exc
    return await render(
        request, INVOICE, {"invoice": invoice, "invoice_html": payments.invoice_html(invoice)}
    )


# -- auto-recharge and the saved card ------------------------------------------------------------


@router.post("/auto-recharge")
async def save_auto_recharge(request: Request, user: RequireUser) -> Response:
    form = await Form.read(request)
    try:
        await web.services(request).payments.set_auto_recharge(
            _caller(user),
            enabled=form.checked("enabled"),
            threshold_usd=form.get("threshold_usd").strip().lstrip("$").replace(",", ""),
            amount_usd=form.get("amount_usd").strip().lstrip("$").replace(",", ""),
        )
    except ModelsnestError as exc:
        form.fail_with(
            _human(exc),
            fields=("threshold_usd", "amount_usd", "enabled"),
            rename={"threshold": "threshold_usd", "amount": "amount_usd"},
        )
        return await _overview(request, user, recharge=form, status=400)
    flash(request, "Auto-recharge turned on." if form.checked("enabled") else "Auto-recharge settings saved.")
    return redirect(request, "/dashboard/billing#auto-recharge")


@router.post("/card")
async def start_card_setup(request: Request, user: RequireUser) -> Response:
    payments = web.services(request).payments
    if "stripe" not in payments.ctx.providers:
        raise PageError(
            400,
            "Cards cannot be saved here",
            "Auto-recharge needs card payments (Stripe), and they are not configured on this server.",
        )
    url = await payments.start_card_setup(_caller(user), request_base=_base(request))
    return await _leave(request, url, "Stripe", "Save your card there; nothing is charged now.")


@router.get("/card/return")
async def card_return(request: Request, user: RequireUser) -> Response:
    try:
        view = await web.services(request).payments.finish_card_setup(
            _caller(user), request.query_params.get("session_id")
        )
    except NotFound as exc:
        raise PageError(
            404,
            "Card setup not found",
            "This card setup link is not valid for your account. Start again from the billing page.",
        ) from exc
    if view.has_card:
        flash(request, f"Card saved: {view.card_label or 'your card'}. Turn auto-recharge on below.")
    else:
        flash(
            request,
            "The card was not saved yet. If you finished on Stripe's page, reload in a moment.",
            "warning",
        )
    return redirect(request, "/dashboard/billing#auto-recharge")


@router.post("/card/remove")
async def remove_card(request: Request, user: RequireUser) -> Response:
    await web.services(request).payments.remove_card(_caller(user))
    flash(request, "Card removed. Auto-recharge is off until you save another.")
    return redirect(request, "/dashboard/billing#auto-recharge")
