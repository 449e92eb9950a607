"""``/contact``: the contact page's text and its form (``name``, ``email``, ``topic``,
``message``; ``website`` is the honeypot a person never sees). CSRF-checked, throttled per
IP, stored and mailed to the operator by ``contact.ContactDesk``; a confirmation page after."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from modelsnest.contact import MAX_MESSAGE_LENGTH, TOPICS
from modelsnest.errors import InvalidRequest, RateLimited
from modelsnest.web import context as web
from modelsnest.web import seo
from modelsnest.web.deps import CsrfChecked, CurrentUser
from modelsnest.web.errors import PageError
from modelsnest.web.forms import Form
from modelsnest.web.render import render

router = APIRouter(include_in_schema=False)
FIELDS = ("name", "email", "topic", "message")
HONEYPOT = "website"


def _values(request: Request, form: dict[str, str], errors: dict[str, str]) -> dict[str, Any]:
    page = web.services(request).content.get_page("pages", "contact", base_url=web.site_url(request))
    if page is None:
        raise PageError(404)
    return {
        "doc": page,
        "form": form,
        "errors": errors,
        "topics": list(TOPICS.items()),
        "max_message": MAX_MESSAGE_LENGTH,
        "meta": seo.page_meta(request, page.title, page.description, path="/contact"),
    }


@router.get("/contact")
async def contact_page(request: Request, user: CurrentUser) -> Response:
    form: dict[str, str] = {"topic": request.query_params.get("topic", "")}
    if user is not None:
        form.update(name=user.user.display_name or "", email=user.user.email)
    return await render(request, "pages/site/contact.html", _values(request, form, {}))


@router.post("/contact")
async def contact_submit(request: Request, _: CsrfChecked) -> Response:
    form = await Form.read(request)
    current = await web.signed_in(request)
    try:
        sent = await web.services(request).contact.submit(
            name=form.get("name"),
            email=form.get("email"),
            topic=form.get("topic"),
            message=form.get("message"),
            trap=form.get(HONEYPOT),
            client_ip=web.client(request).ip,
            site_url=web.site_url(request),
            user_id=current.user_id if current is not None else None,
            account_email=current.user.email if current is not None else None,
        )
    except InvalidRequest as exc:
        form.fail_with(exc, fields=FIELDS)
        return await render(
            request, "pages/site/contact.html", _values(request, form.shown(), form.errors), status_code=400
        )
    except RateLimited as exc:
        form.fail(
            "_form",
            f"you have sent several messages just now: wait {exc.retry_after} seconds and send it again",
        )
        return await render(
            request,
            "pages/site/contact.html",
            _values(request, form.shown(), form.errors),
            status_code=429,
            headers={"Retry-After": str(exc.retry_after)},
        )
    return await render(
        request,
        "pages/site/contact_sent.html",
        {
            "sent": sent,
            "topic_label": TOPICS[sent.topic],
            "meta": seo.page_meta(request, "Message sent", "", path="/contact"),
        },
    )
