"""Static files shipped inside the package, served under ``/static`` with versioned URLs:
``static_url("css/app.css")`` is ``/static/css/app.css?v=<first 12 hex of its SHA-256>``. A
request whose ``v`` matches the file's digest is cacheable for a year (``immutable``); any
other is revalidated. The files never change while a process runs, so digests are computed
once, on first use."""

from __future__ import annotations

import hashlib
from pathlib import Path

from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC_DIR = Path(__file__).parent / "static"
URL_PREFIX = "/static"
IMMUTABLE = "public, max-age=31536000, immutable"


class StaticAssets:
    def __init__(self, directory: Path = STATIC_DIR) -> None:
        self.directory = directory
        self._digests: dict[str, str] = {}

    def digest(self, path: str) -> str:
        found = self._digests.get(path)
        if found is None:
            target = (self.directory / path).resolve()
            if self.directory.resolve() not in target.parents or not target.is_file():
                raise FileNotFoundError(f"no static file {path!r} in {self.directory}")
            found = hashlib.sha256(target.read_bytes()).hexdigest()[:12]
            self._digests[path] = found
        return found

    def url(self, path: str) -> str:
        return f"{URL_PREFIX}/{path}?v={self.digest(path)}"


class VersionedStaticFiles(StaticFiles):
    def __init__(self, assets: StaticAssets) -> None:
        super().__init__(directory=assets.directory)
        self.assets = assets

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code in (200, 304):
            version = _query_value(scope, "v")
            try:
                current = self.assets.digest(path)
            except FileNotFoundError:
                current = None
            response.headers["Cache-Control"] = IMMUTABLE if version and version == current else "no-cache"
            response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def _query_value(scope: Scope, name: str) -> str | None:
    raw: bytes = scope.get("query_string", b"")
    query = raw.decode("latin-1")
    for pair in query.split("&"):
        key, _, value = pair.partition("=")
        if key == name:
            return value
    return None
