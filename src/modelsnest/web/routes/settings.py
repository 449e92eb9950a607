"""``/dashboard/settings``: profile, password, two-factor sign-in, sessions, account deletion."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from modelsnest.errors import ModelsnestError, NotFound, RateLimited
from modelsnest.web import context as web
from modelsnest.web.deps import RequireUser
from modelsnest.web.errors import PageError, redirect
from modelsnest.web.forms import Form
from modelsnest.web.render import flash, render, with_toast
from modelsnest.web.user_agents import describe_user_agent

router = APIRouter(prefix="/dashboard/settings", include_in_schema=False)

PROFILE = "pages/dashboard/settings/profile.html"
SECURITY = "pages/dashboard/settings/security.html"
SESSIONS = "pages/dashboard/settings/sessions.html"
TWO_FACTOR_SETUP = "pages/dashboard/settings/two_factor_setup.html"
RECOVERY_CODES = "pages/dashboard/settings/recovery_codes.html"
DELETE = "pages/dashboard/settings/delete.html"


def _failed(form: Form, exc: ModelsnestError, fields: tuple[str, ...]) -> int:
    if isinstance(exc, RateLimited):
        form.fail("_form", f"too many attempts: wait {exc.retry_after} seconds and try again")
        return 429
    form.fail_with(exc, fields=fields)
    return 400


# --- profile ---------------------------------------------------------------------------------


@router.get("")
async def profile_page(request: Request, user: RequireUser) -> Response:
    return await render(request, PROFILE)


@router.post("/profile")
async def update_profile(request: Request, user: RequireUser) -> Response:
    form = await Form.read(request)
    try:
        await web.accounts(request).update_profile(user, form.get("name"))
    except ModelsnestError as exc:
        status = _failed(form, exc, ("name",))
        return await render(
            request, PROFILE, {"form": form.shown(), "errors": form.errors}, status_code=status
        )
    flash(request, "Profile saved.")
    return redirect(request, "/dashboard/settings")


@router.get("/delete")
async def delete_page(request: Request, user: RequireUser) -> Response:
    """The confirmation without JavaScript (with it, a dialog on the profile page)."""
    return await render(request, DELETE)


@router.post("/delete")
async def delete_account(request: Request, user: RequireUser) -> Response:
    form = await Form.read(request)
    try:
        await web.accounts(request).delete_account(user, form.get("password"))
    except ModelsnestError as exc:
        status = _failed(form, exc, ("password",))
        return await render(request, DELETE, {"errors": form.errors}, status_code=status)
    web.end_session_cookie(request)
    flash(request, "Your account is deleted. Thank you for having used Modelsnest.", "info")
    return redirect(request, "/login")


# --- security: password and two-factor sign-in -----------------------------------------------


async def _security(request: Request, user: Any, status: int = 200, **values: Any) -> Response:
    two_factor = await web.accounts(request).two_factor_status(user)
    return await render(request, SECURITY, {"two_factor": two_factor, **values}, status_code=status)


@router.get("/security")
async def security_page(request: Request, user: RequireUser) -> Response:
    return await _security(request, user)


@router.post("/password")
async def change_password(request: Request, user: RequireUser) -> Response:
    form = await Form.read(request)
    try:
        token = await web.accounts(request).change_password(
            user,
            form.get("current_password"),
            form.get("new_password"),
            web.client(request),
            web.site_url(request),
        )
    except ModelsnestError as exc:
        status = _failed(form, exc, ("current_password", "new_password", "password"))
        if "password" in form.errors:  # the strength check names the new password "password"
            form.errors["new_password"] = form.errors.pop("password")
        return await _security(request, user, status, errors=form.errors)
    await web.start_session(request, token)
    flash(request, "Password changed. Every other session was signed out.")
    return redirect(request, "/dashboard/settings/security")


@router.get("/two-factor")
async def two_factor_setup(request: Request, user: RequireUser) -> Response:
    accounts = web.accounts(request)
    if (await accounts.two_factor_status(user)).enabled:
        return redirect(request, "/dashboard/settings/security")
    enrolment = await accounts.begin_two_factor(user)
    required = request.query_params.get("required") == "admin"
    return await render(request, TWO_FACTOR_SETUP, {"enrolment": enrolment, "required": required})


@router.post("/two-factor")
async def two_factor_confirm(request: Request, user: RequireUser) -> Response:
    form = await Form.read(request)
    accounts = web.accounts(request)
    try:
        codes, token = await accounts.confirm_two_factor(user, form.get("code"), web.client(request))
    except ModelsnestError as exc:
        status = _failed(form, exc, ("code",))
        enrolment = await accounts.begin_two_factor(user)
        return await render(
            request,
            TWO_FACTOR_SETUP,
            {"enrolment": enrolment, "required": False, "errors": form.errors},
            status_code=status,
        )
    await web.start_session(request, token)
    return await render(request, RECOVERY_CODES, {"codes": codes, "first_time": True})


@router.post("/two-factor/disable")
async def two_factor_disable(request: Request, user: RequireUser) -> Response:
    form = await Form.read(request)
    try:
        token = await web.accounts(request).disable_two_factor(
            user, form.get("password"), web.client(request)
        )
    except ModelsnestError as exc:
        status = _failed(form, exc, ("password",))
        return await _security(
            request,
            user,
            status,
            errors={"disable_password": form.errors.get("password") or form.errors.get("_form", "")},
        )
    await web.start_session(request, token)
    flash(request, "Two-factor sign-in is off.", "warning")
    return redirect(request, "/dashboard/settings/security")


@router.post("/two-factor/recovery-codes")
async def recovery_codes(request: Request, user: RequireUser) -> Response:
    form = await Form.read(request)
    try:
        codes = await web.accounts(request).regenerate_recovery_codes(user, form.get("password"))
    except ModelsnestError as exc:
        status = _failed(form, exc, ("password",))
        return await _security(
            request,
            user,
            status,
            errors={"codes_password": form.errors.get("password") or form.errors.get("_form", "")},
        )
    return await render(request, RECOVERY_CODES, {"codes": codes, "first_time": False})


# --- sessions --------------------------------------------------------------------------------


@router.get("/sessions")
async def sessions_page(request: Request, user: RequireUser) -> Response:
    sessions = await web.accounts(request).list_sessions(user)
    rows = [
        {"info": s, "device": describe_user_agent(s.user_agent), "current": s.id == user.session_id}
        for s in sessions
    ]
    policy = web.accounts(request).policy.sessions
    lifetime = {
        "idle": _duration(policy.idle.total_seconds()),
        "max": _duration(policy.lifetime.total_seconds()),
    }
    return await render(request, SESSIONS, {"sessions": rows, "lifetime": lifetime})


def _duration(seconds: float) -> str:
    if seconds >= 86400 and seconds % 86400 == 0:
        days = int(seconds // 86400)
        return f"{days} day{'s' if days != 1 else ''}"
    hours = round(seconds / 3600)
    return f"{hours} hour{'s' if hours != 1 else ''}"


@router.post("/sessions/{session_id}/revoke")
async def revoke_session(request: Request, session_id: int, user: RequireUser) -> Response:
    try:
        await web.accounts(request).revoke_session(user, session_id)
    except NotFound as exc:
        raise PageError(
            404, "Session not found", "This session does not exist or has already ended."
        ) from exc
    except ModelsnestError as exc:
        raise PageError(
            400, "This session cannot be ended here", "It is the session you are using: sign out instead."
        ) from exc
    if request.headers.get("hx-request") == "true":
        return with_toast(Response(""), "Session ended.")
    flash(request, "Session ended.")
    return redirect(request, "/dashboard/settings/sessions")


@router.post("/sessions/revoke-others")
async def revoke_other_sessions(request: Request, user: RequireUser) -> Response:
    count = await web.accounts(request).revoke_other_sessions(user)
    flash(
        request,
        f"Signed out {count} other session{'s' if count != 1 else ''}."
        if count
        else "There were no other sessions.",
    )
    return redirect(request, "/dashboard/settings/sessions")
