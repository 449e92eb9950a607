"""The content package is a service: no HTTP framework, a curated public API, and its files
ship inside the package."""

from __future__ import annotations

import ast
from importlib import resources

import modelsnest.content as content


def test_the_content_package_knows_no_http_framework() -> None:
    root = resources.files("modelsnest.content")
    for entry in root.iterdir():
        if not entry.name.endswith(".py"):
            continue
        tree = ast.parse(entry.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                assert name.split(".")[0] not in {"fastapi", "starlette"}, f"{entry.name} imports {name}"


def test_the_public_api_is_exported() -> None:
    for name in content.__all__:
        assert hasattr(content, name), name


def test_the_content_files_are_package_data() -> None:
    root = resources.files("modelsnest.content")
    assert (root / "landing.yaml").is_file()
    for section in content.SECTIONS:
        assert any(e.name.endswith(".md") for e in (root / section).iterdir()), section
