"""``/admin/payment-providers``: each configured payment provider checked live — credentials
accepted by its API, webhook secret present, return URLs well formed (what ``modelsnest
doctor`` prints, for the operator who runs the platform from the panel)."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from modelsnest.admin.routes._base import AdminActor, page, section
from modelsnest.web import context as web

router = section()


@router.get("/payment-providers")
async def payment_providers_page(request: Request, admin: AdminActor) -> Response:
    payments = web.services(request).payments
    configured = [option.label for option in payments.providers()]
    checks = await payments.checks() if configured else []
    failing = sum(1 for check in checks if check.status == "FAIL")
    return await page(
        request, "payment_providers.html", {"checks": checks, "failing": failing, "configured": configured}
    )
