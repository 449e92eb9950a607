"""The document at ``/api/openapi.json`` is valid OpenAPI 3.1, and no ``/api/v1`` route can be
added without declaring its body, its success and its errors (``tests/api/test_contract.py``
checks the declarations against live answers)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from modelsnest.api.openapi import api_routes
from modelsnest.api.schemas.chat import Role
from modelsnest.api.schemas.common import MONEY_DESCRIPTION
from modelsnest.api.v1 import LANE_ROUTES, PREFIX
from modelsnest.app import create_app
from modelsnest.gateway.chat_request import ROLES
from tests.api.conftest import AppClient
from tests.conftest import make_settings

ERROR_REF = "#/components/schemas/ErrorResponse"
ANTHROPIC_ERROR_REF = "#/components/schemas/AnthropicErrorResponse"
PAID_STATUSES = {"400", "401", "402", "403", "409", "413", "429", "500", "502", "504"}


@pytest.fixture(scope="module")
def app() -> Iterator[Any]:
    with tempfile.TemporaryDirectory() as directory:
        yield create_app(make_settings("sqlite+aiosqlite:///unused.db", Path(directory)))


@pytest.fixture(scope="module")
def document(app: Any) -> dict[str, Any]:
    return dict(app.openapi())


def _operations(app: Any, document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for route in api_routes(app):
        if route.path_format.startswith(PREFIX):
            for method in sorted(route.methods):
                yield method, route.path_format, document["paths"][route.path_format][method.lower()]


def _validator(document: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    """A validator for a schema of the document (its ``$ref``s resolve to the components)."""
    return Draft202012Validator({**schema, "components": document["components"]})


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_every_api_route_declares_its_body_its_success_and_its_errors(
    app: Any, document: dict[str, Any]
) -> None:
    operations = list(_operations(app, document))
    assert len(operations) >= 14  # every route below /api/v1 is in the document
    names = [operation["operationId"] for _, _, operation in operations]
    assert len(set(names)) == len(names) and not [n for n in names if "api_v1" in n]  # chosen, not derived
    for method, path, operation in operations:
        where = f"{method} {path}"
        responses = operation["responses"]
        if method == "POST":
            body = operation["requestBody"]
            assert body["required"] and all(c["schema"] for c in body["content"].values()), where
            assert all(c.get("examples") for c in body["content"].values()), where
        successes = [s for s in responses if s.startswith("2")]
        assert successes, where
        for status in successes:
            content = responses[status]["content"]
            assert content and all(media["schema"] for media in content.values()), where
        errors = {status for status in responses if status[0] in "45"}
        assert "500" in errors, where
        if operation.get("security") or operation.get("parameters") or "requestBody" in operation:
            assert any(status.startswith("4") for status in errors), where  # it can be asked wrong
        for status in errors:
            media = responses[status]["content"]["application/json"]
            # Anthropic's Messages API answers errors in Anthropic's shape.
            expected = ANTHROPIC_ERROR_REF if path.startswith("/api/v1/messages") else ERROR_REF
            assert media["schema"] == {"$ref": expected} and media["examples"], f"{where} {status}"
        if operation.get("security"):
            assert "401" in errors, where
        for status, response in responses.items():
            assert "X-Request-Id" in response["headers"], f"{where} {status}"
        assert "422" not in responses, where  # validation errors are 400s in our error shape


def test_every_paid_route_declares_every_error_it_can_answer(document: dict[str, Any]) -> None:
    for route in LANE_ROUTES:
        operation = document["paths"][PREFIX + route.path][route.method.lower()]
        assert set(operation["responses"]) >= PAID_STATUSES, route.path
        assert "Retry-After" in operation["responses"]["429"]["headers"]
        assert any(p["name"] == "Idempotency-Key" for p in operation["parameters"])
        assert operation["security"] == [{"bearerAuth": []}]


def test_every_example_matches_its_schema(app: Any, document: dict[str, Any]) -> None:
    checked = 0
    for method, path, operation in _operations(app, document):
        bodies = [("request", operation.get("requestBody", {}))] + list(operation["responses"].items())
        for where, part in bodies:
            for media_type, media in part.get("content", {}).items():
                for name, example in media.get("examples", {}).items():
                    errors = list(_validator(document, media["schema"]).iter_errors(example["value"]))
                    assert not errors, f"{method} {path} {where} {media_type} {name}: {errors[0].message}"
                    checked += 1
    assert checked > 100


def test_money_is_described_as_an_exact_decimal_number(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    cost = schemas["ChatUsage"]["properties"]["cost"]
    assert (cost["type"], cost["format"]) == ("number", "decimal")
    assert cost["description"].endswith(MONEY_DESCRIPTION)
    price = schemas["Billing"]["properties"]["input_price_per_1k"]
    assert {"type": "number", "format": "decimal", "description": MONEY_DESCRIPTION} in price["anyOf"]
    assert schemas["Credits"]["properties"]["available"]["type"] == "number"


def test_the_documented_chat_roles_are_those_the_gateway_accepts() -> None:
    assert set(get_args(Role)) == ROLES


def test_the_document_declares_the_bearer_scheme_and_the_shared_headers(document: dict[str, Any]) -> None:
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "ptr_…",
        "description": "An API key (`ptr_…`) sent as `Authorization: Bearer ptr_…`.",
    }
    assert document["components"]["headers"]["X-Request-Id"]["required"] is True


async def test_the_document_and_the_explorer_are_served(
    app_client: AppClient, document: dict[str, Any]
) -> None:
    async with app_client() as client:
        served = await client.get("/api/openapi.json")
        old_explorer = await client.get("/api/docs")
        explorer = await client.get("/api-docs")
        script = await client.get("/static/js/api-docs.js")
    assert served.status_code == 200 and served.json() == document
    # Our vendored explorer (nothing from a CDN); FastAPI's old path leads to it.
    assert old_explorer.status_code == 308 and old_explorer.headers["location"].endswith("/api-docs")
    assert explorer.status_code == 200 and 'data-spec-url="/api/openapi.json"' in explorer.text
    assert script.status_code == 200 and "SwaggerUIBundle" in script.text


def test_the_api_store_route_is_documented_for_every_method_it_serves(document: dict[str, Any]) -> None:
    from modelsnest.api.v1.store import METHODS

    path = document["paths"]["/api/v1/store/{slug}/{path}"]
    assert sorted(path) == sorted(m.lower() for m in METHODS)
    for method, operation in path.items():
        where = f"{method} store"
        assert operation["operationId"] == f"store_call_{method}" and operation["tags"] == ["API Store"]
        assert operation["security"] == [{"bearerAuth": []}], where
        assert [(p["name"], p["in"], p["required"]) for p in operation["parameters"]] == [
            ("slug", "path", True),
            ("path", "path", True),
        ], where
        responses = operation["responses"]
        assert {"200", "400", "401", "402", "403", "404", "405", "413", "429", "500", "502", "504"} <= set(
            responses
        ), where
        assert "Retry-After" in responses["429"]["headers"]
        not_found = responses["404"]["content"]["application/json"]["examples"]
        assert not_found["no_product"]["value"]["error"]["code"] == "PRODUCT_NOT_FOUND"
        assert ("requestBody" in operation) == (method in ("post", "put", "patch", "delete")), where
    assert path["post"]["requestBody"]["required"] is True
