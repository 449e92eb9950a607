"""The layering rules hold: the contracts in pyproject.toml (``[tool.importlinter]``) are kept,
they cover every package, and the provider registry loads no database code at run time."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import modelsnest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = Path(modelsnest.__file__).parent


def _contracts() -> dict[str, dict[str, Any]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    return {contract["id"]: contract for contract in config["contracts"]}


def _top_level_packages() -> set[str]:
    return {path.parent.name for path in PACKAGE.glob("*/__init__.py")}


def test_import_contracts_are_kept() -> None:
    code = (
        "import sys\n"
        "from importlinter.cli import lint_imports\n"
        "sys.exit(lint_imports(config_filename='pyproject.toml', no_cache=True, no_logo=True))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {len(_contracts())} kept, 0 broken." in result.stdout


def test_the_database_layer_may_import_no_other_package() -> None:
    """A new package (mail, notifications, store …) is a service: db must not import it."""
    forbidden = set(_contracts()["db-imports-no-service"]["forbidden_modules"])
    missing = {f"modelsnest.{name}" for name in _top_level_packages() - {"db"}} - forbidden
    assert missing == set(), f"add {sorted(missing)} to the db contract's forbidden_modules"


def test_providers_may_use_only_media_among_the_packages() -> None:
    forbidden = set(_contracts()["providers-standalone"]["forbidden_modules"])
    allowed = {"providers", "media"}  # media's measurement and generation, not its storage
    missing = {f"modelsnest.{name}" for name in _top_level_packages() - allowed} - forbidden
    assert missing == set(), f"add {sorted(missing)} to the providers contract's forbidden_modules"
    assert {"modelsnest.media.storage", "modelsnest.settings", "sqlalchemy"} <= forbidden


def test_only_the_http_edge_and_its_starters_may_import_fastapi_or_starlette() -> None:
    """Written as an allow-list, so every other package — a future one too — is covered."""
    contract = _contracts()["services-no-http"]
    assert contract["type"] == "protected"
    assert set(contract["protected_modules"]) == {"fastapi", "starlette"}
    edge = {"modelsnest.api", "modelsnest.web", "modelsnest.admin", "modelsnest.app", "modelsnest.cli"}
    assert set(contract["allowed_importers"]) == edge


def test_importing_the_provider_registry_loads_no_database_code() -> None:
    # Every module of the providers package, and every built-in adapter built.
    code = (
        "import asyncio, json, pkgutil, importlib, sys\n"
        "import modelsnest.providers as package\n"
        "from modelsnest.providers.registry import build_provider, default_registry\n"
        "from modelsnest.providers.types import ProviderConfig\n"
        "for module in pkgutil.iter_modules(package.__path__):\n"
        "    importlib.import_module(f'modelsnest.providers.{module.name}')\n"
        "async def build_all():\n"
        "    for kind in default_registry:\n"
        "        await build_provider(ProviderConfig(name=kind.name, kind=kind.name)).close()\n"
        "asyncio.run(build_all())\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('sqlalchemy', 'alembic', 'fastapi', 'starlette') or m.startswith(('modelsnest.db', "
        "'modelsnest.settings', 'modelsnest.media.storage')))))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(result.stdout) == []


def test_the_api_store_is_a_service_package() -> None:
    """``modelsnest.store`` holds no HTTP code (its route lives in ``api/v1/store.py``), the
    database layer does not import it, and provider adapters know nothing of it."""
    contracts = _contracts()
    assert "modelsnest.store" in contracts["db-imports-no-service"]["forbidden_modules"]
    assert "modelsnest.store" in contracts["providers-standalone"]["forbidden_modules"]
    assert "modelsnest.store" not in contracts["services-no-http"]["allowed_importers"]
    sources = "\n".join(path.read_text() for path in (PACKAGE / "store").rglob("*.py"))
    assert "fastapi" not in sources and "starlette" not in sources


def test_the_admin_panels_services_import_no_http() -> None:
    """``modelsnest.admin``'s services are plain functions; only ``admin.routes`` is HTTP."""
    contract = _contracts()["admin-services-no-http"]
    services = {
        f"modelsnest.admin.{path.stem}"
        for path in (PACKAGE / "admin").glob("*.py")
        if path.stem != "__init__"
    }
    assert services <= set(contract["source_modules"]), "add the new admin service module to the contract"
    assert {"fastapi", "starlette", "modelsnest.web"} <= set(contract["forbidden_modules"])
