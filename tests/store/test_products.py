"""The product list as operators manage it (CLI, admin panel) and the dashboard reads it:
validated fields, secrets encrypted at rest and never shown, seeded built-ins that seeding
again never changes, and an unbilled test call."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from modelsnest.crypto import SecretBox
from modelsnest.db.models import StoreProduct
from modelsnest.errors import Conflict, InvalidRequest, NotFound
from modelsnest.store import products
from modelsnest.store.seed import sync_store_products
from modelsnest.store.tester import probe_product
from modelsnest.store.types import ProductSpec
from tests.fakes.http_api import FakeHttpApi
from tests.live import SECRET_KEY, Platform

BOX = SecretBox(SECRET_KEY)


def _spec(**fields: object) -> ProductSpec:
    values: dict[str, object] = {"name": "Search", "upstream_base_url": "https://api.example.com/v1"}
    values.update(fields)
    return ProductSpec(**values)  # type: ignore[arg-type]


async def test_a_product_is_created_listed_updated_and_disabled(platform: Platform) -> None:
    view = await products.create_product(
        platform.sessions,
        BOX,
        "search",
        _spec(
            category="search",
            auth_location="header",
            auth_name="X-Key",
            auth_secret="top-secret",
            allowed_methods=("get", "POST"),
            path_patterns=("/search/*",),
            price_per_call_nanos=5_000_000,
        ),
    )
    assert view.upstream_base_url == "https://api.example.com/v1/"
    assert view.allowed_methods == ("GET", "POST") and view.path_patterns == ("search/*",)
    assert view.has_secret and view.model_slug == "store/search" and view.max_cost_nanos == 5_000_000
    async with platform.sessions() as session:
        stored = await session.scalar(
            select(StoreProduct.auth_secret_encrypted).where(StoreProduct.slug == "search")
        )
    assert stored is not None and "top-secret" not in stored and BOX.decrypt(stored) == "top-secret"

    updated = await products.update_product(
        platform.sessions, BOX, "search", ProductSpec(price_per_mb_nanos=1000)
    )
    assert updated.price_per_mb_nanos == 1000 and updated.price_per_call_nanos == 5_000_000
    disabled = await products.set_active(platform.sessions, "search", False)
    assert not disabled.active
    listed = await products.list_products(platform.sessions, active_only=True)
    assert "search" not in [p.slug for p in listed]
    assert {"qr-code", "html-to-markdown", "pdf-to-text"} <= {p.slug for p in listed}
    assert (await products.get_product(platform.sessions, "search")).slug == "search"


@pytest.mark.parametrize(
    ("slug", "fields"),
    [
        ("Bad Slug", {}),
        ("ok", {"upstream_base_url": "http://user:pw@x.example/"}),
        ("ok", {"category": "nope"}),
        ("ok", {"allowed_methods": ("TRACE",)}),
        ("ok", {"path_patterns": ("../*",)}),
        ("ok", {"price_per_call_nanos": -1}),
        ("ok", {"billing_policy": "sometimes"}),
        ("ok", {"timeout_seconds": 0.0}),
        ("ok", {"max_response_bytes": 0}),
        ("ok", {"auth_location": "header"}),  # no name, no secret
        ("ok", {"auth_location": "header", "auth_name": "X-Key"}),  # no secret
        ("ok", {"auth_location": "header", "auth_name": "X-Key", "auth_secret": "a\r\nb"}),
        ("ok", {"handler": "qr-code"}),  # both an upstream and a handler
        ("ok", {"name": ""}),
    ],
)
async def test_invalid_products_are_refused(platform: Platform, slug: str, fields: dict[str, object]) -> None:
    with pytest.raises(InvalidRequest):
        await products.create_product(platform.sessions, BOX, slug, _spec(**fields))


async def test_slugs_are_unique_and_unknown_ones_are_not_found(platform: Platform) -> None:
    await products.create_product(platform.sessions, BOX, "dup", _spec())
    with pytest.raises(Conflict):
        await products.create_product(platform.sessions, BOX, "dup", _spec())
    with pytest.raises(NotFound):
        await products.get_product(platform.sessions, "missing")
    with pytest.raises(NotFound):
        await products.set_active(platform.sessions, "missing", False)


async def test_seeding_again_keeps_the_operators_edits(platform: Platform) -> None:
    await products.update_product(platform.sessions, BOX, "qr-code", ProductSpec(price_per_call_nanos=1))
    created: dict[str, int] = {}
    async with platform.sessions() as session, session.begin():
        await sync_store_products(session, created)
    assert created == {}
    assert (await products.get_product(platform.sessions, "qr-code")).price_per_call_nanos == 1


async def test_the_test_call_reports_the_upstreams_answer_unbilled(platform: Platform) -> None:
    async with FakeHttpApi() as fake:
        await products.create_product(
            platform.sessions,
            BOX,
            "probe",
            _spec(
                upstream_base_url=fake.url + "/v1/",
                allow_private_network=True,
                auth_location="query",
                auth_name="key",
                auth_secret="k",
            ),
        )
        ok = await probe_product(platform.sessions, BOX, "probe", path="health")
        assert ok.ok and ok.status == 200 and ok.bytes == len(b"echo:")
        assert fake.requests[-1].raw_path == "/v1/health?key=k"
        failing = await probe_product(platform.sessions, BOX, "probe", path="status/500")
        assert not failing.ok and failing.status == 500
    builtin = await probe_product(platform.sessions, BOX, "pdf-to-text")
    assert builtin.ok and builtin.status == 200
    await products.update_product(platform.sessions, BOX, "probe", ProductSpec(allow_private_network=False))
    refused = await probe_product(platform.sessions, BOX, "probe")
    assert not refused.ok and "private network" in refused.detail


async def test_the_public_fields_never_show_the_upstream_or_its_secret(platform: Platform) -> None:
    view = await products.create_product(
        platform.sessions,
        BOX,
        "shown",
        _spec(auth_location="query", auth_name="key", auth_secret="hidden", price_per_call_nanos=1_500_000),
    )
    public = view.public_fields()
    assert public["price_per_call_usd"] == "0.0015" and public["price_per_mb_usd"] is None
    assert public["endpoint"] == "/api/v1/store/shown/"
    text = repr(public)
    assert "api.example.com" not in text and "hidden" not in text and "key" not in public
