"""``/dashboard/usage``: charts from the daily rollups, the recent requests (each opening its
``/generation`` record, own requests only) and the CSV export with the page's filters."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from modelsnest.db.models import UsageDaily
from modelsnest.money import usd_str
from tests.web.dashboard_data import chat, customer, new_key
from tests.web.helpers import Browser, second_browser

_CHART = re.compile(
    r'<div class="chart-frame" data-chart id="(chart-[a-z]+)">\s*<script type="application/json">(.*?)</script>',
    re.S,
)


def charts_of(html: str) -> dict[str, dict[str, object]]:
    return {name: json.loads(body) for name, body in _CHART.findall(html)}


async def _rollup_totals(browser: Browser, user_id: int) -> tuple[int, int, int, int]:
    d = UsageDaily
    async with browser.services.sessions() as session:
        row = (
            await session.execute(
                select(
                    func.sum(d.requests),
                    func.sum(d.prompt_tokens),
                    func.sum(d.completion_tokens),
                    func.sum(d.cost_nanos),
                ).where(d.user_id == user_id)
            )
        ).one()
    return tuple(int(v or 0) for v in row)  # type: ignore[return-value]


async def test_anonymous_visitors_are_sent_to_sign_in(site: Browser) -> None:
    for path in ("/dashboard/usage", "/dashboard/usage.csv", "/dashboard/usage/requests/req_x"):
        response = await site.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next="), path


async def test_an_empty_account_shows_empty_states(site: Browser) -> None:
    await customer(site, "nousage@example.com", credits_usd=0)
    page = await site.get("/dashboard/usage")
    assert page.status_code == 200
    assert "No requests in this range" in page.text and "No usage in this range" in page.text
    charts = charts_of(page.text)
    assert set(charts) == {"chart-requests", "chart-tokens", "chart-cost"}
    assert len(charts["chart-requests"]["x"]) == 30  # type: ignore[arg-type]


async def test_the_charts_equal_the_rollups_split_by_model_and_key(site: Browser) -> None:
    user_id = await customer(site, "usage@example.com")
    prod_id, prod = await new_key(site, user_id, "production")
    _, batch = await new_key(site, user_id, "batch jobs")
    for token, text in ((prod, "one"), (prod, "two two"), (batch, "three three three")):
        await chat(site, token, text=text)

    page = await site.get("/dashboard/usage?range=7")
    assert page.status_code == 200
    charts = charts_of(page.text)
    requests, prompt, completion, cost = await _rollup_totals(site, user_id)
    assert requests == 3 and cost > 0
    series = {s["label"]: s["values"] for s in charts["chart-requests"]["series"]}  # type: ignore[index, union-attr]
    assert sum(series["Requests"]) == requests and series["Requests"][-1] == 3  # today is the last day
    tokens = {s["label"]: s["values"] for s in charts["chart-tokens"]["series"]}  # type: ignore[index, union-attr]
    assert sum(tokens["Prompt"]) == prompt and sum(tokens["Completion"]) == completion
    cost_chart = charts["chart-cost"]
    assert cost_chart["yDivisor"] == 10**9
    assert sum(sum(s["values"]) for s in cost_chart["series"]) == cost  # type: ignore[union-attr, misc]
    assert [s["label"] for s in cost_chart["series"]] == ["deepseek"]  # type: ignore[union-attr, index]
    assert len(cost_chart["x"]) == 7  # type: ignore[arg-type]

    by_key = charts_of((await site.get("/dashboard/usage?range=7&split=key")).text)["chart-cost"]
    assert sorted(s["label"] for s in by_key["series"]) == ["batch jobs", "production"]  # type: ignore[union-attr, index]

    only_prod = await site.get(f"/dashboard/usage?range=7&key={prod_id}")
    prod_series = charts_of(only_prod.text)["chart-requests"]["series"]
    assert sum(prod_series[0]["values"]) == 2  # type: ignore[index]
    # The money on the page is the exact amount of the rollups.
    from modelsnest.money import format_usd

    assert format_usd(cost) in page.text


async def test_a_request_row_opens_its_generation_record_for_its_owner_only(site: Browser) -> None:
    user_id = await customer(site, "detail@example.com")
    _, token = await new_key(site, user_id, "app")
    reply = await chat(site, token)
    request_id = reply["id"] if str(reply["id"]).startswith("req") else None
    page = await site.get("/dashboard/usage")
    links = re.findall(r'href="/dashboard/usage/requests/([^"]+)"', page.text)
    assert len(links) == 1
    if request_id is not None:
        assert links == [request_id]
    detail = await site.get(f"/dashboard/usage/requests/{links[0]}")
    assert detail.status_code == 200
    record = await site.client.get(
        f"/api/v1/generation?id={links[0]}", headers={"Authorization": f"Bearer {token}"}
    )
    assert record.status_code == 200
    block = re.search(r'<code id="generation-record" class="language-json">(.*?)</code>', detail.text, re.S)
    assert block is not None
    assert json.loads(html.unescape(block.group(1))) == record.json()  # the same record, field for field
    assert "deepseek" in detail.text and "app" in detail.text

    async with await second_browser(site) as other_client:
        other = Browser(other_client, site.app)
        await customer(other, "snoop@example.com", credits_usd=0)
        snooped = await other.get(f"/dashboard/usage/requests/{links[0]}")
        assert snooped.status_code == 404 and "Request not found" in snooped.text
        assert "No requests in this range" in (await other.get("/dashboard/usage")).text
    assert (await site.get("/dashboard/usage/requests/req_does_not_exist")).status_code == 404


async def test_csv_export_is_exact_and_follows_the_filters(site: Browser) -> None:
    user_id = await customer(site, "csv@example.com")
    key_id, token = await new_key(site, user_id, "reports, daily")
    await chat(site, token, text="a")
    await chat(site, token, text="b c")
    d = UsageDaily
    async with site.services.sessions() as session:
        row = (
            await session.execute(
                select(
                    d.day,
                    func.sum(d.requests),
                    func.sum(d.errors),
                    func.sum(d.prompt_tokens),
                    func.sum(d.completion_tokens),
                    func.sum(d.units),
                    func.sum(d.cost_nanos),
                )
                .where(d.user_id == user_id)
                .group_by(d.day)
            )
        ).one()
    day, requests, errors, prompt, completion, units, cost = row
    response = await site.get("/dashboard/usage.csv?range=7")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert response.text == (
        "date,model,key_id,key_name,requests,errors,prompt_tokens,completion_tokens,units,cost_usd\n"
        f'{day.isoformat()},deepseek,{key_id},"reports, daily",{requests},{errors},{prompt},{completion},{units},{usd_str(int(cost))}\n'
    )
    other_model = await site.get("/dashboard/usage.csv?range=7&model=no-such-model")
    assert other_model.text.count("\n") == 1  # the header only
    past = (datetime.now(UTC).date() - timedelta(days=40)).isoformat()
    old = await site.get(f"/dashboard/usage.csv?range=custom&from={past}&to={past}")
    assert old.text.count("\n") == 1


async def test_a_bad_range_is_a_clear_error(site: Browser) -> None:
    await customer(site, "range@example.com", credits_usd=0)
    backwards = await site.get("/dashboard/usage?range=custom&from=2026-12-10&to=2026-12-01")
    assert backwards.status_code == 400 and "The end date is before the start date." in backwards.text
    nonsense = await site.get("/dashboard/usage?range=custom&from=yesterday")
    assert nonsense.status_code == 400 and "YYYY-MM-DD" in nonsense.text
    too_long = await site.get("/dashboard/usage.csv?range=custom&from=2020-01-01&to=2026-01-01")
    assert too_long.status_code == 400 and "at most 366 days" in too_long.text


async def test_recent_requests_are_paginated_newest_first(site: Browser) -> None:
    user_id = await customer(site, "pages@example.com")
    _, token = await new_key(site, user_id, "busy")
    for i in range(27):
        await chat(site, token, text=f"message {i}")
    first = await site.get("/dashboard/usage")
    rows = re.findall(r'href="/dashboard/usage/requests/([^"]+)"', first.text)
    assert len(rows) == 25 and "25 requests on this page" in first.text
    older = re.search(r'<a class="btn btn-secondary btn-sm" rel="next" href="([^"]+)"', first.text)
    assert older is not None
    second = await site.get(html.unescape(older.group(1)))
    more = re.findall(r'href="/dashboard/usage/requests/([^"]+)"', second.text)
    assert len(more) == 2 and not set(more) & set(rows)
    assert 'rel="next"' not in second.text and ">Newest<" in second.text
