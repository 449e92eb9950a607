"""``/dashboard/notifications``: the user's notifications (read and unread), marking them read,
and the preferences of the automatic ones (low-balance threshold, e-mail copies)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from modelsnest import notifications
from modelsnest.auth.web_sessions import SignedIn
from modelsnest.errors import InvalidRequest, ModelsnestError
from modelsnest.money import InvalidAmount, usd_to_nanos
from modelsnest.notifications import alerts
from modelsnest.web import context as web
from modelsnest.web.deps import RequireUser
from modelsnest.web.errors import PageError, redirect
from modelsnest.web.forms import Form
from modelsnest.web.render import flash, render, with_toast

router = APIRouter(prefix="/dashboard/notifications", include_in_schema=False)

PAGE = "pages/dashboard/notifications/index.html"
ROW = "pages/dashboard/notifications/_item.html"
PAGE_SIZE = 30
NOT_FOUND = PageError(404, "Notification not found", "There is no such notification in your account.")


async def _page(request: Request, user: SignedIn, *, form: Form | None = None, status: int = 200) -> Response:
    services = web.services(request)
    show = "unread" if request.query_params.get("show") == "unread" else "all"
    before = request.query_params.get("before", "")
    rows = await notifications.list_notifications(
        services.sessions,
        user.user_id,
        limit=PAGE_SIZE + 1,
        before_id=int(before) if before.isdigit() else None,
        unread_only=show == "unread",
    )
    values: dict[str, Any] = {
        "items": rows[:PAGE_SIZE],
        "has_more": len(rows) > PAGE_SIZE,
        "before": before,
        "show": show,
        "prefs": await alerts.get_preferences(services.sessions, user.user_id),
        "form": form.shown() if form is not None else {},
        "errors": form.errors if form is not None else {},
    }
    return await render(request, PAGE, values, status_code=status)


@router.get("")
async def notifications_page(request: Request, user: RequireUser) -> Response:
    return await _page(request, user)


@router.post("/{notification_id}/read")
async def mark_read(request: Request, notification_id: int, user: RequireUser) -> Response:
    services = web.services(request)
    if not await notifications.mark_read(services.sessions, user.user_id, notification_id):
        raise NOT_FOUND
    if request.headers.get("hx-request") == "true":
        found = [
            n
            for n in await notifications.list_notifications(services.sessions, user.user_id, limit=200)
            if n.id == notification_id
        ]
        if found:
            unread = await notifications.unread_count(services.sessions, user.user_id)
            response = await render(request, ROW, {"item": found[0], "unread_after": unread})
            return with_toast(response, "Marked as read.")
    return redirect(request, "/dashboard/notifications")


@router.post("/read-all")
async def mark_all_read(request: Request, user: RequireUser) -> Response:
    count = await notifications.mark_all_read(web.services(request).sessions, user.user_id)
    flash(
        request,
        f"{count} notification{'s' if count != 1 else ''} marked as read."
        if count
        else "Nothing was unread.",
    )
    return redirect(request, "/dashboard/notifications")


@router.post("/preferences")
async def save_preferences(request: Request, user: RequireUser) -> Response:
    form = await Form.read(request)
    text = form.get("low_balance_threshold_usd").strip().lstrip("$").replace(",", "")
    try:
        try:
            threshold = usd_to_nanos(text or "0")
        except InvalidAmount as exc:
            raise InvalidRequest(
                "enter the threshold in dollars, like 5 or 12.50 (0 turns the alert off)",
                param="low_balance_threshold_usd",
            ) from exc
        await alerts.set_preferences(
            web.services(request).sessions,
            user.user_id,
            low_balance_threshold_nanos=threshold,
            email_copies=form.checked("email_copies"),
        )
    except ModelsnestError as exc:
        form.fail_with(exc, fields=("low_balance_threshold_usd",))
        return await _page(request, user, form=form, status=400)
    flash(request, "Notification preferences saved.")
    return redirect(request, "/dashboard/notifications#preferences")
