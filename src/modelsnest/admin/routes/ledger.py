"""``/admin/ledger`` (with CSV export), ``/admin/payments``, ``/admin/usage`` and
``/admin/consistency``: read-only views of the money."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from urllib.parse import urlencode

from fastapi import Request
from starlette.responses import Response, StreamingResponse

from modelsnest.admin import audit
from modelsnest.admin import ledger as service
from modelsnest.admin.routes._base import AdminActor, done, int_param, page, section
from modelsnest.db.models.payments import PAYMENT_STATUSES
from modelsnest.errors import ModelsnestError, NotFound
from modelsnest.payments.amounts import usd_text
from modelsnest.payments.refunds import refundable
from modelsnest.web import context as web
from modelsnest.web.errors import PageError
from modelsnest.web.forms import Form

router = section()

USAGE_STATUSES = ("success", "error", "cancelled", "partial")


def _options(values: tuple[str, ...], anything: str) -> list[tuple[str, str]]:
    return [("", anything), *((v, v.replace("_", " ").capitalize()) for v in values)]


@router.get("/ledger")
async def ledger_page(request: Request, admin: AdminActor) -> Response:
    filters = service.Filters.of(request.query_params)
    listing = await service.transactions(web.services(request).sessions, filters, int_param(request, "page"))
    query = urlencode(filters.query())
    return await page(
        request,
        "ledger.html",
        {
            "listing": listing,
            "filters": filters,
            "query": query,
            "type_options": _options(service.TRANSACTION_TYPES, "Any type"),
        },
    )


@router.get("/ledger.csv")
async def ledger_csv(request: Request, admin: AdminActor) -> Response:
    filters = service.Filters.of(request.query_params)
    sessions = web.services(request).sessions
    await audit.record(sessions, admin, "ledger.export", "ledger", "csv", after=filters.query() or None)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return StreamingResponse(
        service.transactions_csv(sessions, filters),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="modelsnest-ledger-{stamp}.csv"'},
    )


@router.get("/payments")
async def payments_page(request: Request, admin: AdminActor) -> Response:
    filters = service.Filters.of(request.query_params)
    listing = await service.payments(web.services(request).sessions, filters, int_param(request, "page"))
    return await page(
        request,
        "payments/index.html",
        {
            "listing": listing,
            "filters": filters,
            "query": urlencode(filters.query()),
            "status_options": _options(PAYMENT_STATUSES, "Any status"),
        },
    )


@router.get("/payments/{public_id}")
async def payment_page(request: Request, public_id: str, admin: AdminActor) -> Response:
    try:
        detail = await service.payment_detail(web.services(request).sessions, public_id)
    except NotFound as exc:
        raise PageError(404, "Payment not found", "There is no payment with this id.") from exc
    return await _payment_page(request, detail)


async def _payment_page(
    request: Request, detail: service.PaymentDetail, form: Form | None = None, status: int = 200
) -> Response:
    state = refundable(detail.payment)
    values = {
        "d": detail,
        "refund": state,
        "refund_default": usd_text(state.remaining_nanos) if state.remaining_nanos > 0 else "",
        "refund_key": secrets.token_urlsafe(18),
        "form": form.shown() if form else {},
        "errors": form.errors if form else {},
    }
    return await page(request, "payments/detail.html", values, status_code=status)


@router.post("/payments/{public_id}/refund")
async def refund_payment(request: Request, public_id: str, admin: AdminActor) -> Response:
    form = await Form.read(request)
    services = web.services(request)
    try:
        detail = await service.payment_detail(services.sessions, public_id)
    except NotFound as exc:
        raise PageError(404, "Payment not found", "There is no payment with this id.") from exc
    before = {"refunded_nanos": detail.payment.refunded_nanos, "status": detail.payment.status}
    key = form.get("idempotency_key")[:100] or secrets.token_urlsafe(18)
    try:
        result = await services.payments.refund(
            public_id,
            amount_usd=form.get("amount_usd"),
            reason=form.get("reason"),
            request_key=f"admin-refund:{public_id}:{key}",
            actor=admin.label,
        )
    except ModelsnestError as exc:
        form.fail_with(exc, fields=("amount_usd", "reason"))
        return await _payment_page(request, detail, form, 400)
    await audit.record(
        services.sessions,
        admin,
        "payment.refund",
        "payment",
        public_id,
        before=before,
        after={
            "amount_nanos": result.amount_nanos,
            "refunded_nanos": result.refunded_nanos,
            "transaction_id": result.transaction_id,
            "reason": form.get("reason").strip(),
        },
    )
    return done(request, f"/admin/payments/{public_id}", f"Refunded ${usd_text(result.amount_nanos)}.")


@router.get("/usage")
async def usage_page(request: Request, admin: AdminActor) -> Response:
    filters = service.Filters.of(request.query_params)
    listing = await service.usage(web.services(request).sessions, filters, int_param(request, "page"))
    return await page(
        request,
        "usage.html",
        {
            "listing": listing,
            "filters": filters,
            "query": urlencode(filters.query()),
            "status_options": _options(USAGE_STATUSES, "Any status"),
        },
    )


@router.get("/consistency")
async def consistency_page(request: Request, admin: AdminActor) -> Response:
    report = await service.consistency(web.services(request).sessions)
    return await page(request, "consistency.html", {"r": report})
