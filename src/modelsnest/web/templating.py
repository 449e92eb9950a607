"""The one Jinja2 environment of every page (dashboard, admin, site), with its filters and
globals registered here and nowhere else.

Filters (``{{ value|name }}``):
  usd       exact amount of nanos, '$12.345678', '$0.000123456', '$1,234.56' (costs, prices)
  balance   whole cents cut toward zero, '$1,234.56', exact amount on hover (balances)
  datetime  <time> in UTC, shown in the viewer's time zone by app.js, UTC on hover
  date      the same, date only
  ago       <time> as '3 min ago' (server-rendered, refreshed by app.js), exact time on hover
  number    1,234,567
  sentence  'too many attempts' → 'Too many attempts.' (domain messages in a page)
  inline_markdown  one line of Markdown as sanitised HTML (landing copy's plain fields)
  prose     a content page's sanitised HTML, wide blocks made keyboard-scrollable
Globals: static(path), csrf_field(), nav links (SITE_NAV, FOOTER, DASHBOARD_NAV, ADMIN_NAV,
SETTINGS_TABS), is_active(link), dev_pages, company_name, price_lines(price, endpoint) and
unit_label(price) (``web.pricing``: how every page shows a price).
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from modelsnest.content.markdown import render_inline
from modelsnest.money import format_balance, format_usd
from modelsnest.settings import Settings
from modelsnest.web import navigation
from modelsnest.web.pricing import price_lines, unit_label
from modelsnest.web.static import StaticAssets


@dataclass(frozen=True)
class Pages:
    """The page renderer's long-lived parts: the environment and the static assets."""

    env: Environment
    assets: StaticAssets


def create_pages(settings: Settings, assets: StaticAssets | None = None) -> Pages:
    assets = assets or StaticAssets()
    env = Environment(
        loader=PackageLoader("modelsnest.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=settings.environment != "production",
    )
    env.filters.update(
        usd=usd,
        balance=balance,
        datetime=datetime_tag,
        date=date_tag,
        ago=ago_tag,
        number=number,
        sentence=sentence,
        inline_markdown=inline_markdown,
        prose=prose,
    )
    env.globals.update(
        static=assets.url,
        csrf_field=csrf_field,
        is_active=is_active,
        dev_pages=settings.dev_pages_enabled,
        product_name="Modelsnest",
        company_name=settings.company_name,
        price_lines=price_lines,
        unit_label=unit_label,
        current_year=lambda: datetime.now(UTC).year,
        SITE_NAV=navigation.SITE_NAV,
        FOOTER=navigation.FOOTER,
        DASHBOARD_NAV=navigation.DASHBOARD_NAV,
        ADMIN_NAV=navigation.ADMIN_NAV,
        SETTINGS_TABS=navigation.SETTINGS_TABS,
    )
    return Pages(env=env, assets=assets)


def usd(nanos: int | None) -> str:
    if nanos is None:
        return "—"
    _require_int(nanos)
    return format_usd(nanos)


def balance(nanos: int | None) -> Markup:
    if nanos is None:
        return Markup("—")
    _require_int(nanos)
    shown, exact = format_balance(nanos), format_usd(nanos)
    if shown == exact:
        return Markup("<span>{}</span>").format(shown)
    return Markup('<span title="{}">{}</span>').format(f"Exactly {exact}", shown)


def _require_int(nanos: object) -> None:
    # Money reaches templates as integer nanos only: a float here is a bug upstream.
    if isinstance(nanos, bool) or not isinstance(nanos, int):
        raise TypeError(f"money must be integer nano-dollars, got {type(nanos).__name__}")


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a template: use timezone-aware UTC")
    return value.astimezone(UTC)


def _iso(value: datetime) -> str:
    return _utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")


def datetime_tag(value: datetime | None) -> Markup:
    if value is None:
        return Markup('<span class="muted">—</span>')
    moment = _utc(value)
    return Markup('<time datetime="{}" title="{}" data-local="datetime">{}</time>').format(
        _iso(moment), moment.strftime("%Y-%m-%d %H:%M:%S UTC"), moment.strftime("%Y-%m-%d %H:%M UTC")
    )


def date_tag(value: datetime | None) -> Markup:
    if value is None:
        return Markup('<span class="muted">—</span>')
    moment = _utc(value)
    return Markup('<time datetime="{}" title="{}" data-local="date">{}</time>').format(
        _iso(moment), moment.strftime("%Y-%m-%d %H:%M:%S UTC"), moment.strftime("%b %-d, %Y")
    )


def relative(value: datetime, now: datetime | None = None) -> str:
    """'just now', '3 min ago', '5 h ago', '2 days ago', 'in 4 days'; a date past 30 days."""
    seconds = ((now or datetime.now(UTC)) - _utc(value)).total_seconds()
    future, seconds = seconds < 0, abs(seconds)
    if seconds < 45:
        return "just now"
    if seconds >= 30 * 86400:
        return _utc(value).strftime("%b %-d, %Y")
    if seconds < 3600:
        label = f"{max(1, round(seconds / 60))} min"
    elif seconds < 86400:
        label = f"{round(seconds / 3600)} h"
    else:
        days = round(seconds / 86400)
        label = f"{days} day{'s' if days != 1 else ''}"
    return f"in {label}" if future else f"{label} ago"


def ago_tag(value: datetime | None) -> Markup:
    if value is None:
        return Markup('<span class="muted">Never</span>')
    moment = _utc(value)
    return Markup('<time datetime="{}" title="{}" data-relative>{}</time>').format(
        _iso(moment), moment.strftime("%Y-%m-%d %H:%M:%S UTC"), relative(moment)
    )


def prose(html: str) -> Markup:
    """A content page's sanitised HTML, with what keyboard users need around wide blocks:
    code blocks and tables scroll inside a focusable frame. The sanitiser leaves ``<pre>`` and
    ``<table>`` without attributes, so these exact tags are the only ones to find."""
    html = html.replace("<pre>", '<pre tabindex="0">')
    html = html.replace(
        "<table>", '<div class="table-scroll" tabindex="0" role="region" aria-label="Table"><table>'
    )
    return Markup(html.replace("</table>", "</table></div>"))


def inline_markdown(text: str) -> Markup:
    """One line of Markdown (code, emphasis, links), sanitised like the content's pages."""
    return Markup(render_inline(text))


def number(value: int | None) -> str:
    if value is None:
        return "—"
    return f"{value:,}"


def sentence(message: object) -> str:
    text = str(message).strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


# The token of the page being rendered: set by ``web.render.render`` around each render, so
# ``csrf_field()`` works in any template or macro, imported with or without context.
current_csrf_token: ContextVar[str | None] = ContextVar("current_csrf_token", default=None)
current_path: ContextVar[str] = ContextVar("current_path", default="")


def csrf_field() -> Markup:
    token = current_csrf_token.get()
    if token is None:
        raise RuntimeError("csrf_field() outside of a page render (use web.render.render)")
    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(token)


def is_active(link: navigation.Link) -> bool:
    """Whether ``link`` is the page being rendered (or its section), in any template or macro."""
    return link.active(current_path.get())
