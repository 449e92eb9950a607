"""Compose a message from ``templates/<name>.txt`` and ``templates/<name>.html``.

The text template sets its subject: ``{% set subject = "…" %}``. Both bodies get the same
context; the HTML one is autoescaped. A link is read away from the site, in a mail client:
every ``url`` / ``…_url`` value of the context must be absolute (``http(s)://host/…``), else
composing fails (a bug in the caller, never a mail with a dead link).
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape


@cache
def _environment() -> Environment:
    # Templates are package files and never change at run time: one environment per process.
    return Environment(
        loader=PackageLoader("modelsnest.mail", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def is_absolute_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _check_links(template: str, context: dict[str, Any]) -> None:
    for name, value in context.items():
        link = name == "url" or name.endswith("_url")
        if link and value is not None and not (isinstance(value, str) and is_absolute_url(value)):
            raise ValueError(f"mail template {template}: {name} must be an absolute URL, not {value!r}")


def compose(
    template: str, *, to: str, sender: str, context: dict[str, Any], reply_to: str | None = None
) -> EmailMessage:
    _check_links(template, context)
    env = _environment()
    text_template = env.get_template(f"{template}.txt")
    module = text_template.make_module(context)
    subject = str(getattr(module, "subject", "")).strip()
    if not subject:
        raise ValueError(f"mail template {template}.txt sets no subject")
    html = env.get_template(f"{template}.html").render(subject=subject, **context)
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    if reply_to:
        message["Reply-To"] = reply_to
    message["Date"] = formatdate(usegmt=True)
    domain = sender.rpartition("@")[2].rstrip(">").strip() or "modelsnest.local"
    message["Message-ID"] = make_msgid(domain=domain)
    message.set_content(str(module).strip() + "\n")
    message.add_alternative(html, subtype="html")
    return message
