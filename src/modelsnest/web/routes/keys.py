"""``/dashboard/keys``: create API keys (the token is shown once), list them, revoke them.

A user only ever sees their own keys: every lookup is scoped to the signed-in user, and
another user's key id is a 404, the same as a key that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from modelsnest.auth.api_keys import ApiKeyView, create_key, list_keys, revoke_key
from modelsnest.auth.web_sessions import SignedIn
from modelsnest.db.base import utcnow
from modelsnest.errors import InvalidRequest, ModelsnestError, NotFound
from modelsnest.money import InvalidAmount, usd_to_nanos
from modelsnest.web import context as web
from modelsnest.web.deps import RequireUser
from modelsnest.web.errors import PageError, redirect
from modelsnest.web.forms import Form
from modelsnest.web.render import flash, render, with_toast

router = APIRouter(prefix="/dashboard/keys", include_in_schema=False)

PAGE = "pages/dashboard/keys/index.html"
ROW = "pages/dashboard/keys/_row.html"
CONFIRM = "pages/dashboard/keys/revoke.html"
PAGE_SIZE = 20
EXPIRY_CHOICES = (
    ("", "Never"),
    ("7", "In 7 days"),
    ("30", "In 30 days"),
    ("90", "In 90 days"),
    ("365", "In 1 year"),
)
SORTS = {
    "name": lambda k: k.name.lower(),
    "created": lambda k: k.created_at,
    "last_used": lambda k: (k.last_used_at is not None, k.last_used_at or k.created_at),
    "spent": lambda k: k.spent_nanos,
}
FIELDS = ("name", "expires_in_days", "spend_limit_usd", "rpm_limit", "allowed_models")
KEY_NOT_FOUND = PageError(
    404,
    "API key not found",
    "There is no such key in your account. It may have been deleted, or the link is wrong.",
)


@dataclass(frozen=True)
class ModelChoice:
    slug: str
    name: str
    category: str


async def _model_choices(request: Request) -> list[ModelChoice]:
    snapshot = await web.services(request).gateway.catalog.get()
    models = [m for m in snapshot.models.values() if m.available]
    return [
        ModelChoice(m.slug, m.name, m.category)
        for m in sorted(models, key=lambda m: (m.category, m.name.lower()))
    ]


async def _page(
    request: Request,
    user: SignedIn,
    *,
    form: Form | None = None,
    new_token: str | None = None,
    status: int = 200,
) -> Response:
    keys = await list_keys(web.services(request).sessions, user.user_id)
    sort = request.query_params.get("sort", "created")
    sort = sort if sort in SORTS else "created"
    direction = "asc" if request.query_params.get("dir") == "asc" else "desc"
    ordered = sorted(keys, key=SORTS[sort], reverse=direction == "desc")
    pages = max(1, -(-len(ordered) // PAGE_SIZE))
    try:
        page = min(max(1, int(request.query_params.get("page", "1"))), pages)
    except ValueError:
        page = 1
    active = [k for k in keys if k.status == "active"]
    used = [k.last_used_at for k in keys if k.last_used_at is not None]
    values: dict[str, Any] = {
        "keys": ordered[(page - 1) * PAGE_SIZE : page * PAGE_SIZE],
        "total": len(keys),
        "page": page,
        "pages": pages,
        "sort": sort,
        "direction": direction,
        "stats": {
            "active": len(active),
            "spent_nanos": sum(k.spent_nanos for k in keys),
            "last_used_at": max(used) if used else None,
        },
        "models": await _model_choices(request),
        "expiry_choices": EXPIRY_CHOICES,
        "new_token": new_token,
        "api_base": web.site_url(request) + "/api/v1",
        "can_create": _can_create(request, user),
        "form": form.shown() if form is not None else {},
        "selected_models": form.getlist("allowed_models") if form is not None else [],
        "errors": form.errors if form is not None else {},
    }
    return await render(request, PAGE, values, status_code=status)


def _can_create(request: Request, user: SignedIn) -> bool:
    return (
        not web.services(request).settings.email_verification_required
        or user.user.email_verified_at is not None
    )


@router.get("")
async def keys_page(request: Request, user: RequireUser) -> Response:
    return await _page(request, user)


@router.post("")
async def create(request: Request, user: RequireUser) -> Response:
    form = await Form.read(request)
    if not _can_create(request, user):
        form.fail("_form", "confirm your e-mail address before creating API keys")
        return await _page(request, user, form=form, status=403)
    try:
        options = await _key_options(request, form)
        _, token = await create_key(web.services(request).sessions, user_id=user.user_id, **options)
    except ModelsnestError as exc:
        form.fail_with(
            exc,
            fields=FIELDS,
            rename={"spend_limit_nanos": "spend_limit_usd", "expires_at": "expires_in_days"},
        )
        return await _page(request, user, form=form, status=400)
    return await _page(request, user, new_token=token)


async def _key_options(request: Request, form: Form) -> dict[str, Any]:
    name = form.get("name").strip() or "default"
    days = form.get("expires_in_days")
    if days and days not in {value for value, _ in EXPIRY_CHOICES}:
        raise InvalidRequest("choose one of the expiry options", param="expires_in_days")
    spend = form.get("spend_limit_usd").strip().lstrip("$").replace(",", "")
    try:
        spend_nanos = usd_to_nanos(spend) if spend else None
    except InvalidAmount as exc:
        raise InvalidRequest(
            "enter the spend limit in dollars, like 25 or 12.50", param="spend_limit_usd"
        ) from exc
    if spend_nanos is not None and spend_nanos <= 0:
        raise InvalidRequest("the spend limit must be more than $0", param="spend_limit_usd")
    rpm = form.get("rpm_limit").strip()
    if rpm and (not rpm.isdigit() or int(rpm) <= 0 or int(rpm) > 1_000_000):
        raise InvalidRequest(
            "requests per minute must be a whole number from 1 to 1,000,000", param="rpm_limit"
        )
    chosen = [slug for slug in form.getlist("allowed_models") if slug]
    known = {m.slug for m in await _model_choices(request)}
    unknown = [slug for slug in chosen if slug not in known]
    if unknown:
        raise InvalidRequest(f"unknown model {unknown[0]!r}", param="allowed_models")
    return {
        "name": name,
        "expires_at": utcnow() + timedelta(days=int(days)) if days else None,
        "spend_limit_nanos": spend_nanos,
        "rpm_limit": int(rpm) if rpm else None,
        "allowed_models": chosen or None,
    }


async def _own_key(request: Request, user: SignedIn, key_id: int) -> ApiKeyView:
    for key in await list_keys(web.services(request).sessions, user.user_id):
        if key.id == key_id:
            return key
    raise KEY_NOT_FOUND


@router.get("/{key_id}/revoke")
async def revoke_page(request: Request, key_id: int, user: RequireUser) -> Response:
    """The confirmation without JavaScript (with it, a dialog on the keys page)."""
    return await render(request, CONFIRM, {"key": await _own_key(request, user, key_id)})


@router.post("/{key_id}/revoke")
async def revoke(request: Request, key_id: int, user: RequireUser) -> Response:
    services = web.services(request)
    try:
        key = await revoke_key(services.sessions, key_id, user_id=user.user_id)
    except NotFound as exc:
        raise KEY_NOT_FOUND from exc
    services.keys.invalidate()  # this replica forgets it now; others within the cache TTL
    message = f"Key “{key.name}” revoked. Requests with it are refused from now on."
    if request.headers.get("hx-request") == "true":
        return with_toast(await render(request, ROW, {"key": key}), message)
    flash(request, message)
    return redirect(request, "/dashboard/keys")
