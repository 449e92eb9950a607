from __future__ import annotations

import pytest

from modelsnest.web.paths import is_page_path, safe_next


@pytest.mark.parametrize(
    "value", ["/dashboard", "/dashboard/keys?sort=name&dir=asc", "/admin/users/3#top", "/docs/a%20b"]
)
def test_same_site_paths_are_kept(value: str) -> None:
    assert safe_next(value) == value


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "dashboard",
        "https://evil.example",
        "//evil.example",
        "///evil.example",
        "/\\evil.example",
        "\\/evil.example",
        "/x\nSet-Cookie: a=b",
        "/x\t",
        "javascript:alert(1)",
        "http:/evil",
        "/login",
        "/logout",
        "/signup",
        "/" + "a" * 3000,
    ],
)
def test_anything_else_falls_back_to_the_dashboard(value: str | None) -> None:
    assert safe_next(value) == "/dashboard"


def test_machine_paths_are_not_pages() -> None:
    assert not is_page_path("/api/v1/chat/completions")
    assert not is_page_path("/healthz")
    assert not is_page_path("/static/css/app.css")
    assert is_page_path("/dashboard/keys") and is_page_path("/") and is_page_path("/apiary")
