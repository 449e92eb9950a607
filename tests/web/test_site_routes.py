"""The site's paths and the API's, held against the router: every path the content may link
to is served, every endpoint the docs, the content and the model docs name exists, and every
``/api/v1`` route of the router is documented in the API reference."""

from __future__ import annotations

import re

from fastapi import FastAPI
from starlette.routing import Match

from modelsnest.catalog.docs_render import model_docs
from modelsnest.content import API_ENDPOINTS, SITE_PATHS
from modelsnest.content.paths import api_endpoint
from tests.web.helpers import Browser

# Dashboard pages other branches build; linked from the site already. When one lands, the
# test below fails until it is removed from here (so this list cannot rot).
BUILT_ELSEWHERE: frozenset[str] = frozenset()
_PARAM = re.compile(r"\{[^}]+\}")
_API_MENTION = re.compile(
    r"\b(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS)\s+(?:https?://[^\s/]+)?(/api/v1/[A-Za-z0-9_./{}-]+)"
)


def routed(app: FastAPI, method: str, path: str) -> bool:
    """Whether the router has a route for ``method path`` (a ``{param}`` filled with ``x1``)."""
    concrete = _PARAM.sub("x1", path)
    scope = {
        "type": "http",
        "method": method,
        "path": concrete,
        "root_path": "",
        "query_string": b"",
        "headers": [],
    }
    for route in app.router.routes:
        match, _ = route.matches(scope)
        if match == Match.FULL:
            return True
    return False


def api_routes(app: FastAPI) -> set[tuple[str, str]]:
    """Every (method, path) the application serves under /api/v1, from its OpenAPI schema."""
    schema = app.openapi()
    return {
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        if path.startswith("/api/v1/")
        for method in operations
    }


def same_template(a: str, b: str) -> bool:
    return _PARAM.sub("{}", a.rstrip("/")) == _PARAM.sub("{}", b.rstrip("/"))


async def test_every_site_path_is_routed(site: Browser) -> None:
    missing = [p for p in SITE_PATHS if p not in BUILT_ELSEWHERE and not routed(site.app, "GET", p)]
    assert missing == []


def test_pages_built_elsewhere_are_still_missing_here(site: Browser) -> None:
    arrived = [p for p in BUILT_ELSEWHERE if routed(site.app, "GET", p)]
    assert arrived == [], f"{arrived} now exist: remove them from BUILT_ELSEWHERE"


async def test_every_live_endpoint_named_by_the_content_exists(site: Browser) -> None:
    for endpoint in API_ENDPOINTS:
        if endpoint.availability == "live":
            assert routed(site.app, endpoint.method, endpoint.path), f"{endpoint.method} {endpoint.path}"


async def test_every_api_path_in_the_rendered_pages_is_a_live_route(site: Browser) -> None:
    library = site.services.content
    texts = [doc.html for doc in library.documents(base_url="http://testserver", include_drafts=False)]
    directory = await site.services.directory.get()
    for model in directory.models:
        docs = await model_docs(site.services.sessions, model.slug, base_url="http://testserver/api/v1")
        texts.append(f"{docs.method} {docs.path}")
        texts.extend(example.code for example in docs.examples)
        assert routed(site.app, docs.method, docs.path), f"{model.slug}: {docs.method} {docs.path}"
    for page in ("/", "/docs", "/pricing", "/models/deepseek", "/reference"):
        texts.append((await site.get(page)).text)
    named = {
        path.rstrip(".,)`'\"") for text in texts for path in re.findall(r"/api/v1/[A-Za-z0-9_./{}-]*", text)
    }
    assert len(named) > 10
    for path in named:
        found = api_endpoint(path)
        assert found is not None and found.availability == "live", f"{path} is named but not a live endpoint"
        assert any(routed(site.app, m, found.path) for m in ("GET", "POST")), path


async def test_every_api_route_is_documented_in_the_reference(site: Browser) -> None:
    library = site.services.content
    reference = " ".join(
        page.html for page in library.list_section("reference", base_url="http://testserver")
    ) + " ".join(
        str(page.front_matter.get("endpoint", ""))
        for page in library.list_section("reference", base_url="http://testserver")
    )
    documented = {(method, path.rstrip(".,)`")) for method, path in _API_MENTION.findall(reference)}
    for method, path in sorted(api_routes(site.app)):
        assert any(m == method and same_template(p, path) for m, p in documented), (
            f"{method} {path} is not in /reference"
        )
