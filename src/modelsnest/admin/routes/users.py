"""``/admin/users``: find an account; on its page, adjust its credits, change its role or
status, send it a password-reset link, revoke its keys."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.responses import Response

from modelsnest.admin import users as service
from modelsnest.admin.routes._base import AdminActor, done, failed, int_param, page, section
from modelsnest.errors import ModelsnestError, NotFound
from modelsnest.money import format_usd
from modelsnest.web import context as web
from modelsnest.web.errors import PageError
from modelsnest.web.forms import Form

router = section()

CREDIT_KINDS = {"topup": "Top up credits", "deduct": "Deduct credits"}
USER_NOT_FOUND = PageError(404, "User not found", "There is no account with this id. Search the users list.")


@router.get("/users")
async def users_page(request: Request, admin: AdminActor) -> Response:
    params = request.query_params
    listing = await service.search_users(
        web.services(request).sessions,
        query=params.get("q", ""),
        sort=params.get("sort", "id"),
        direction=params.get("dir", "desc"),
        page=int_param(request, "page"),
    )
    query = params.get("q", "").strip()
    template = "users/_table.html" if request.headers.get("hx-request") == "true" else "users/index.html"
    return await page(request, template, {"listing": listing, "q": query, "sorts": service.SORTS})


async def _detail_values(request: Request, user_id: int) -> dict[str, Any]:
    try:
        detail = await service.user_detail(web.services(request).sessions, user_id)
    except NotFound as exc:
        raise USER_NOT_FOUND from exc
    return {"detail": detail, "action_key": service.new_action_key()}


@router.get("/users/{user_id}")
async def user_page(request: Request, user_id: int, admin: AdminActor) -> Response:
    return await page(request, "users/detail.html", await _detail_values(request, user_id))


@router.get("/users/{user_id}/credits")
async def credits_page(request: Request, user_id: int, admin: AdminActor) -> Response:
    """The top-up / deduction form without JavaScript (with it, a dialog on the user page),
    and where a refused submission comes back with its errors."""
    kind = request.query_params.get("kind", "topup")
    values = await _detail_values(request, user_id)
    return await page(
        request, "users/credits.html", {**values, "kind": kind if kind in CREDIT_KINDS else "topup"}
    )


@router.post("/users/{user_id}/credits")
async def adjust_credits(request: Request, user_id: int, admin: AdminActor) -> Response:
    form = await Form.read(request)
    kind = form.get("kind") if form.get("kind") in CREDIT_KINDS else "topup"
    sessions = web.services(request).sessions
    try:
        amount = service.parse_amount(form.get("amount_usd"))
        reason = service.clean_reason(form.get("reason"))
        result = await service.adjust_credits(
            sessions,
            admin,
            user_id,
            amount_nanos=amount if kind == "topup" else -amount,
            reason=reason,
            idempotency_key=form.get("idempotency_key"),
            allow_negative=kind == "deduct" and form.checked("allow_negative"),
        )
    except NotFound as exc:
        raise USER_NOT_FOUND from exc
    except ModelsnestError as exc:
        form.fail_with(exc, fields=("amount_usd", "reason"))
        values = await _detail_values(request, user_id)
        values["action_key"] = form.get("idempotency_key") or values["action_key"]
        return await page(
            request,
            "users/credits.html",
            {**values, "kind": kind, "form": form.shown(), "errors": form.errors},
            status_code=400,
        )
    verb = "Added" if kind == "topup" else "Deducted"
    return done(
        request,
        f"/admin/users/{user_id}",
        f"{verb} {format_usd(amount)}. The balance is now {format_usd(result.balance_after_nanos)}.",
    )


@router.post("/users/{user_id}/role")
async def change_role(request: Request, user_id: int, admin: AdminActor) -> Response:
    form = await Form.read(request)
    url = f"/admin/users/{user_id}"
    try:
        user = await service.set_role(web.services(request).sessions, admin, user_id, form.get("role"))
    except NotFound as exc:
        raise USER_NOT_FOUND from exc
    except ModelsnestError as exc:
        return failed(request, url, exc)
    return done(request, url, f"{user.email} now has the role {user.role}.")


@router.post("/users/{user_id}/status")
async def change_status(request: Request, user_id: int, admin: AdminActor) -> Response:
    form = await Form.read(request)
    url = f"/admin/users/{user_id}"
    services = web.services(request)
    try:
        user = await service.set_status(services.sessions, admin, user_id, form.get("status"))
    except NotFound as exc:
        raise USER_NOT_FOUND from exc
    except ModelsnestError as exc:
        return failed(request, url, exc)
    services.keys.invalidate()  # this replica at once; the others within the key cache TTL
    if user.status == "disabled":
        return done(
            request, url, f"{user.email} is disabled: signed out everywhere, API keys refused within seconds."
        )
    return done(request, url, f"{user.email} is enabled again.")


@router.post("/users/{user_id}/password-reset")
async def send_reset(request: Request, user_id: int, admin: AdminActor) -> Response:
    services = web.services(request)
    url = f"/admin/users/{user_id}"
    values = await _detail_values(request, user_id)
    user = values["detail"].user
    if user.status != "active":
        return done(request, url, "Enable the account first: disabled accounts get no reset link.", "warning")
    try:
        await services.accounts.request_password_reset(user.email, web.client(request), web.site_url(request))
    except ModelsnestError as exc:
        return failed(request, url, exc)
    await service.record_reset_link(services.sessions, admin, user)
    return done(request, url, f"A password-reset link is on its way to {user.email}.")


@router.post("/users/{user_id}/keys/{key_id}/revoke")
async def revoke_key(request: Request, user_id: int, key_id: int, admin: AdminActor) -> Response:
    services = web.services(request)
    url = f"/admin/users/{user_id}"
    try:
        key = await service.revoke_user_key(services.sessions, admin, user_id, key_id)
    except NotFound as exc:
        raise PageError(404, "API key not found", "This account has no such key.") from exc
    services.keys.invalidate()
    return done(request, url, f"Key “{key.name}” revoked. Requests with it are refused from now on.")
