"""Provider and route administration: validation, conflicts, views without keys, health."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from modelsnest.catalog import providers as svc
from modelsnest.catalog.seed import seed_catalog
from modelsnest.crypto import SecretBox
from modelsnest.db.base import utcnow
from modelsnest.db.models.providers import Provider
from modelsnest.errors import Conflict, InvalidRequest, NotFound
from modelsnest.runtime import Runtime

BOX = SecretBox("providers-test-secret-" + "z" * 30)


async def test_add_provider_defaults_and_hides_the_key(runtime: Runtime) -> None:
    view = await svc.add_provider(runtime.sessions, BOX, name="novita", kind="novita", api_key=" sk_secret ")
    assert view.base_url == "https://api.novita.ai/v3/openai"
    assert view.has_api_key and view.enabled
    assert "sk_secret" not in repr(view)
    assert (view.connect_timeout, view.first_byte_timeout, view.total_timeout) == (5.0, 60.0, 600.0)
    async with runtime.sessions() as session:
        stored = await session.scalar(select(Provider.api_key_encrypted).where(Provider.name == "novita"))
    assert stored and "sk_secret" not in stored and BOX.decrypt(stored) == "sk_secret"

    custom = await svc.add_provider(
        runtime.sessions,
        BOX,
        name="together",
        kind="openai",
        base_url="https://api.together.xyz/v1/",
        connect_timeout=2,
        total_timeout=120.5,
    )
    assert custom.base_url == "https://api.together.xyz/v1"
    assert not custom.has_api_key
    assert (custom.connect_timeout, custom.total_timeout) == (2.0, 120.5)
    sim = await svc.add_provider(runtime.sessions, BOX, name="sim2", kind="simulator")
    assert sim.base_url is None


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"kind": "azure"}, "kind"),
        ({"kind": "openai", "base_url": "ftp://example.com"}, "base_url"),
        ({"kind": "openai", "base_url": "not a url"}, "base_url"),
        ({"kind": "openai", "base_url": "https://"}, "base_url"),
        ({"kind": "openai", "base_url": "http://host:99999"}, "base_url"),
        ({"kind": "openai", "base_url": "https://api.example.com/v1?key=1"}, "base_url"),
        ({"kind": "openai", "connect_timeout": 0}, "connect_timeout"),
        ({"kind": "openai", "name": "Bad Name!"}, "name"),
    ],
)
async def test_add_provider_validation(runtime: Runtime, kwargs: dict[str, object], param: str) -> None:
    arguments: dict[str, object] = {"name": "p1", **kwargs}
    with pytest.raises(InvalidRequest) as info:
        await svc.add_provider(runtime.sessions, BOX, **arguments)  # type: ignore[arg-type]
    assert info.value.param == param
    assert info.value.message.endswith(".")


async def test_duplicate_provider_is_a_conflict(runtime: Runtime) -> None:
    await svc.add_provider(runtime.sessions, BOX, name="openai", kind="openai")
    with pytest.raises(Conflict):
        await svc.add_provider(runtime.sessions, BOX, name="openai", kind="openai")


async def test_update_enable_list_and_remove_provider(runtime: Runtime) -> None:
    await svc.add_provider(runtime.sessions, BOX, name="anthropic", kind="anthropic", api_key="k1")
    updated = await svc.update_provider(
        runtime.sessions, BOX, "anthropic", base_url="https://proxy.example.com", first_byte_timeout=30
    )
    assert updated.base_url == "https://proxy.example.com" and updated.first_byte_timeout == 30.0
    cleared = await svc.update_provider(runtime.sessions, BOX, "anthropic", clear_api_key=True)
    assert not cleared.has_api_key
    with pytest.raises(InvalidRequest):
        await svc.update_provider(runtime.sessions, BOX, "anthropic", base_url="nope")
    with pytest.raises(NotFound):
        await svc.update_provider(runtime.sessions, BOX, "missing", api_key="x")
    disabled = await svc.set_provider_enabled(runtime.sessions, "anthropic", False)
    assert not disabled.enabled
    assert [p.name for p in await svc.list_providers(runtime.sessions)] == ["anthropic"]
    await svc.remove_provider(runtime.sessions, "anthropic")
    assert await svc.list_providers(runtime.sessions) == []
    with pytest.raises(NotFound):
        await svc.remove_provider(runtime.sessions, "anthropic")


async def test_routes(runtime: Runtime) -> None:
    await seed_catalog(runtime.sessions, secret_box=BOX, simulator_enabled=True, provider_keys={})
    await svc.add_provider(runtime.sessions, BOX, name="novita", kind="novita", api_key="k")
    route = await svc.add_route(
        runtime.sessions,
        model_slug="deepseek",
        provider_name="novita",
        upstream_model="deepseek/deepseek-v3-0324",
    )
    assert (route.model_slug, route.provider_name, route.priority, route.weight, route.enabled) == (
        "deepseek",
        "novita",
        100,
        1,
        True,
    )
    backup = await svc.add_route(
        runtime.sessions,
        model_slug="deepseek",
        provider_name="novita",
        upstream_model="deepseek/deepseek-v3",
        priority=5,
    )
    with pytest.raises(Conflict):
        await svc.add_route(
            runtime.sessions,
            model_slug="deepseek",
            provider_name="novita",
            upstream_model="deepseek/deepseek-v3-0324",
        )
    with pytest.raises(NotFound):
        await svc.add_route(runtime.sessions, model_slug="nope", provider_name="novita", upstream_model="x")
    with pytest.raises(NotFound):
        await svc.add_route(runtime.sessions, model_slug="deepseek", provider_name="nope", upstream_model="x")
    with pytest.raises(InvalidRequest):
        await svc.add_route(
            runtime.sessions, model_slug="deepseek", provider_name="novita", upstream_model="y", priority=-1
        )
    with pytest.raises(InvalidRequest):
        await svc.add_route(
            runtime.sessions, model_slug="deepseek", provider_name="novita", upstream_model="y", weight=-2
        )

    listed = await svc.list_routes(runtime.sessions, "deepseek")
    assert [(r.provider_name, r.priority) for r in listed] == [
        ("novita", 5),
        ("novita", 100),
        ("simulator", 1000),
    ]
    everything = await svc.list_routes(runtime.sessions)
    assert [r.model_slug for r in everything] == sorted(r.model_slug for r in everything)
    with pytest.raises(NotFound):
        await svc.list_routes(runtime.sessions, "unknown-model")

    moved = await svc.update_route(runtime.sessions, backup.id, priority=200, enabled=False)
    assert (moved.priority, moved.enabled) == (200, False)
    await svc.remove_route(runtime.sessions, route.id)
    with pytest.raises(NotFound):
        await svc.remove_route(runtime.sessions, route.id)
    counts = {p.name: p.route_count for p in await svc.list_providers(runtime.sessions)}
    assert counts["novita"] == 1


async def test_record_provider_health(runtime: Runtime) -> None:
    view = await svc.add_provider(runtime.sessions, BOX, name="openai", kind="openai")
    until = utcnow() + timedelta(seconds=30)
    assert await svc.record_provider_health(runtime.sessions, view.id, success=False, error="HTTP 503") == 1
    assert (
        await svc.record_provider_health(
            runtime.sessions, view.id, success=False, error="x" * 5000, open_until=until
        )
        == 2
    )
    sick = await svc.get_provider(runtime.sessions, "openai")
    assert sick.consecutive_failures == 2
    assert sick.circuit_open_until is not None and abs((sick.circuit_open_until - until).total_seconds()) < 1
    assert sick.last_error is not None and len(sick.last_error) == 2000 and sick.last_error_at is not None
    assert await svc.record_provider_health(runtime.sessions, view.id, success=True) == 0
    healthy = await svc.get_provider(runtime.sessions, "openai")
    assert healthy.consecutive_failures == 0 and healthy.circuit_open_until is None
    assert healthy.last_success_at is not None and healthy.last_error == sick.last_error
    assert await svc.record_provider_health(runtime.sessions, 999_999, success=True) == 0
