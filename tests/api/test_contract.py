"""The OpenAPI document is the contract, checked against live answers.

Schemathesis generates requests for every ``/api/v1`` operation from the document the app
serves (its examples, then the coverage phase's boundaries, missing fields and wrong types,
then random valid and invalid bodies) and checks each answer: no 5xx, a documented status, a
documented content type, a body matching its schema (each event of a stream too) and the
documented headers. The answers it cannot provoke (402, 403, 409, 413, 429, 502, a replay, a
misconfigured price) are provoked below and checked the same way.

The app runs in-process (schemathesis drives it over ASGI, through the fast lane as in
production) on a seeded database with the built-in simulator, called with real ``ptr_`` keys.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.python.asgi import ASGIClient, shutdown_lifespans
from sqlalchemy import delete, select, update

from modelsnest.app import create_app
from modelsnest.db.models import AiModel, AiModelPricing, Provider
from tests import services
from tests.conftest import make_settings
from tests.gateway.conftest import _seed
from tests.live import SECRET_KEY, Platform, free_port

pytestmark = pytest.mark.slow

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
# Provoked errors include 5xx answers, which must still be documented ones.
ERROR_CHECKS = CHECKS[1:]
# Only the fuzzing phase reads it; the examples and coverage phases run whole.
EXAMPLES_PER_OPERATION = 10
MAX_JSON_BODY = 256 * 1024
MAX_UPLOAD = 512 * 1024


def _document() -> dict[str, Any]:
    """The document the app serves: it comes from the code alone (no database is opened)."""
    with tempfile.TemporaryDirectory() as directory:
        return create_app(make_settings("sqlite+aiosqlite:///unused.db", Path(directory))).openapi()


def _config(*, coverage: bool) -> schemathesis.Config:
    """Hermetic (no schemathesis.toml is read) and deterministic. The coverage phase runs on
    SQLite; PostgreSQL gets the examples and the generated cases (the run stays short)."""
    return schemathesis.Config.from_dict(
        {
            "seed": 20261201,
            "generation": {"deterministic": True, "database": "none"},
            "phases": {
                # A method a path does not have answers 405; no check reads those answers.
                "coverage": {"enabled": coverage, "unexpected-methods": []},
                "stateful": {"enabled": False},
            },
            # The alias is declared with the very same contract as /images/generations.
            "operations": [
                {"include-path": "/api/v1/images/generate", "phases": {"coverage": {"enabled": False}}}
            ],
        }
    )


DOCUMENT = _document()
everything = schemathesis.openapi.from_dict(DOCUMENT, config=_config(coverage=True))
generated = schemathesis.openapi.from_dict(DOCUMENT, config=_config(coverage=False))
bounded = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


@dataclass(frozen=True)
class Keys:
    rich: str  # $1000 of credits
    broke: str  # no credits
    deepseek_only: str  # may use deepseek only
    one_per_minute: str  # rpm limit 1
    dead_model: str  # routed to a provider that refuses connections
    unpriced_model: str  # has no price


@dataclass(frozen=True)
class LiveApp:
    client: ASGIClient
    keys: Keys

    def auth(self, key: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.keys.rich}"}


async def _prepare(database_url: str) -> Keys:
    """Seed the catalog, make the simulator answer without its streaming pauses, and create
    the keys and models the cases need (before the app caches the catalog)."""
    await _seed(database_url)
    platform = Platform(database_url)
    try:
        async with platform.sessions.begin() as session:
            await session.execute(
                update(Provider)
                .where(Provider.kind == "simulator")
                .values(config={"chunk_delay_ms": 0, "video_seconds_to_finish": 0, "video_max_side": 32})
            )
        dead = await platform.provider("openai", f"http://127.0.0.1:{free_port()}/v1", connect_timeout=0.5)
        unpriced = await platform.model([("simulator", "deepseek")])
        async with platform.sessions.begin() as session:
            model_id = (
                await session.execute(select(AiModel.id).where(AiModel.slug == unpriced))
            ).scalar_one()
            await session.execute(delete(AiModelPricing).where(AiModelPricing.model_id == model_id))
        return Keys(
            rich=(await platform.account("1000")).token,
            broke=(await platform.account("0")).token,
            deepseek_only=(await platform.account("10", allowed_models=["deepseek"])).token,
            one_per_minute=(await platform.account("10", rpm_limit=1)).token,
            dead_model=await platform.model([(dead, "m")]),
            unpriced_model=unpriced,
        )
    finally:
        await platform.close()


@contextmanager
def _running(database_url: str, directory: Path) -> Iterator[LiveApp]:
    keys = asyncio.run(_prepare(database_url))
    app = create_app(
        make_settings(
            database_url,
            directory,
            secret_key=SECRET_KEY,
            cache_ttl_seconds=60,
            max_json_body_bytes=MAX_JSON_BODY,
            max_upload_bytes=MAX_UPLOAD,
            video_poll_seconds=0.2,
        )
    )
    try:
        # The app's lifespan runs in schemathesis' event-loop thread, started with the client.
        with ASGIClient(app) as client:
            yield LiveApp(client, keys)
    finally:
        shutdown_lifespans()


@pytest.fixture(scope="module")
def sqlite_app(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    directory = tmp_path_factory.mktemp("contract-sqlite")
    with _running(services.clone_sqlite_database(sqlite_template, directory), directory) as live:
        yield live


@pytest.fixture(scope="module")
def postgres_app(postgres_template: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    name = services.clone_pg_database(postgres_template)
    try:
        with _running(services.pg_database_url(name), tmp_path_factory.mktemp("contract-pg")) as live:
            yield live
    finally:
        services.drop_pg_database(name)


def call_and_check(case: Any, live: LiveApp, **headers: str) -> Any:
    sent = {**live.auth(), **headers}
    if case.headers and "Idempotency-Key" in case.headers and "Idempotency-Key" not in headers:
        # Generated keys repeat across cases, which would turn most of them into 409s.
        sent["Idempotency-Key"] = f"contract-{uuid.uuid4().hex}"
    return case.call_and_validate(session=live.client, headers=sent, checks=CHECKS)


def test_the_app_serves_the_document_under_test(sqlite_app: LiveApp) -> None:
    served = sqlite_app.client.get("/api/openapi.json")
    assert served.status_code == 200
    assert served.json() == DOCUMENT


@everything.parametrize()
@bounded
def test_every_operation_answers_as_documented_on_sqlite(case: Any, sqlite_app: LiveApp) -> None:
    call_and_check(case, sqlite_app)


@generated.parametrize()
@bounded
def test_every_operation_answers_as_documented_on_postgres(case: Any, postgres_app: LiveApp) -> None:
    call_and_check(case, postgres_app)


CHAT = ("/api/v1/chat/completions", "POST")


def _chat(model: str = "deepseek", text: str = "Hello there") -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": text}]}


def _answer(
    live: LiveApp, where: tuple[str, str], body: Any = None, key: str | None = None, **parts: Any
) -> Any:
    """``where``'s answer to this request, checked against the document."""
    path, method = where
    headers = {**live.auth(key), **parts.pop("headers", {})}
    case = everything[path][method].Case(**({"body": body} if body is not None else {}), **parts)
    response = case.call(session=live.client, headers=headers)
    case.validate_response(response, checks=ERROR_CHECKS)
    return response


def test_the_answers_generation_cannot_reach_are_documented_too(sqlite_app: LiveApp) -> None:
    live, keys = sqlite_app, sqlite_app.keys
    idempotency = {"Idempotency-Key": f"contract-{uuid.uuid4().hex}"}
    first = _answer(live, CHAT, _chat(text="first"), headers=idempotency)
    replay = _answer(live, CHAT, _chat(text="first"), headers=idempotency)
    reused = _answer(live, CHAT, _chat(text="another body"), headers=idempotency)
    assert (first.status_code, replay.status_code, reused.status_code) == (200, 200, 409)
    # schemathesis' responses list each header's values under its lower-case name
    assert replay.headers["idempotent-replayed"] == ["true"] and replay.content == first.content

    limited = [_answer(live, CHAT, _chat(), key=keys.one_per_minute) for _ in range(2)]
    assert [r.status_code for r in limited] == [200, 429]
    assert limited[0].headers["x-ratelimit-limit-requests"] == ["1"]
    assert limited[1].headers["retry-after"][0].isdigit()

    statuses = {
        "broke": _answer(live, CHAT, _chat(), key=keys.broke).status_code,
        "not allowed": _answer(live, CHAT, _chat("gpt-4o-mini"), key=keys.deepseek_only).status_code,
        "too large": _answer(live, CHAT, _chat(text="x" * MAX_JSON_BODY)).status_code,
        "upstream down": _answer(live, CHAT, _chat(keys.dead_model)).status_code,
        "no price": _answer(live, CHAT, _chat(keys.unpriced_model)).status_code,
    }
    assert statuses == {
        "broke": 402,
        "not allowed": 403,
        "too large": 413,
        "upstream down": 502,
        "no price": 500,
    }


def test_an_upload_over_the_limit_is_a_documented_413(sqlite_app: LiveApp) -> None:
    path, method = "/api/v1/audio/transcriptions", "POST"
    case = everything[path][method].Case(
        body={"model": "whisper-1", "file": "x" * (MAX_UPLOAD + 1)}, media_type="multipart/form-data"
    )
    response = case.call(session=sqlite_app.client, headers=sqlite_app.auth())
    case.validate_response(response, checks=CHECKS)
    assert response.status_code == 413


def test_a_requests_record_and_a_finished_video_job_are_answered_as_documented(sqlite_app: LiveApp) -> None:
    live = sqlite_app
    chat = _answer(live, CHAT, _chat())
    record = _answer(live, ("/api/v1/generation", "GET"), query={"id": chat.headers["x-request-id"][0]})
    assert record.status_code == 200 and record.json()["status"] == "success"

    submitted = _answer(
        live, ("/api/v1/video/generations", "POST"), {"model": "sora-2", "prompt": "Rain", "duration": 1}
    )
    assert submitted.status_code == 202
    job = ("/api/v1/video/generations/{job_id}", "GET")
    deadline = time.monotonic() + 20
    while (polled := _answer(live, job, path_parameters={"job_id": submitted.json()["id"]})).json()[
        "status"
    ] != "succeeded":
        assert polled.json()["status"] in ("queued", "running") and time.monotonic() < deadline
        time.sleep(0.1)
    assert polled.json()["video_url"] and polled.json()["billing"]["billed_unit"] == "second"
