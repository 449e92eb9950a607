"""Files we serve ourselves (generated images, audio, video), so no URL we hand out ever points
at an upstream. Each file gets an unguessable id, a row in ``stored_files`` and an expiry.

Layout: ``root_dir/<id[0:2]>/<id[2:4]>/<id>``, written to a temporary file and renamed into
place, so a reader never sees half a file. The row stores the path relative to ``root_dir``.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, select

from modelsnest.db.base import utcnow
from modelsnest.db.engine import SessionFactory
from modelsnest.db.models.media import StoredFile
from modelsnest.errors import NotFound

KINDS = ("image", "audio", "video")
ID_RANDOM_BYTES = 24  # token_urlsafe(24): 32 characters, 192 bits
_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{32}(?:\.[a-z0-9]{1,5})?")
EXTENSIONS = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/webp": ".webp",
    "image/gif": ".gif",
    "audio/mpeg": ".mp3",
    "audio/ogg": ".ogg",
    "audio/opus": ".opus",
    "audio/aac": ".aac",
    "audio/flac": ".flac",
    "audio/wav": ".wav",
    "audio/pcm": ".pcm",
    "video/mp4": ".mp4",
    "video/webm": ".webm",
}
_PURGE_BATCH = 500


@dataclass(frozen=True, slots=True)
class StoredFileView:
    id: str
    url: str
    content_type: str
    size_bytes: int
    expires_at: datetime


def is_valid_file_id(file_id: str) -> bool:
    return _ID_PATTERN.fullmatch(file_id) is not None


def _relative_path(file_id: str) -> str:
    return f"{file_id[0:2]}/{file_id[2:4]}/{file_id}"


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _unlink(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


class MediaStore:
    def __init__(
        self, sessions: SessionFactory, root_dir: Path, base_url: str, ttl_seconds: int = 24 * 3600
    ) -> None:
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive")
        self._sessions = sessions
        self._root = Path(root_dir).resolve()
        self._base_url = base_url.rstrip("/")
        self._ttl = timedelta(seconds=ttl_seconds)

    def url_for(self, file_id: str) -> str:
        return f"{self._base_url}/files/{file_id}"

    def _path(self, relative: str) -> Path:
        path = self._contained(relative)
        if path is None:
            raise NotFound("File not found.")
        return path

    def _contained(self, relative: str) -> Path | None:
        """``root_dir/relative`` if it stays inside ``root_dir`` (defence in depth: ids are
        validated and paths are ours, but a row is data, not code)."""
        path = (self._root / relative).resolve()
        return path if path.is_relative_to(self._root) and path != self._root else None

    async def save(self, user_id: int, data: bytes, content_type: str, kind: str) -> StoredFileView:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")
        file_id = secrets.token_urlsafe(ID_RANDOM_BYTES) + EXTENSIONS.get(content_type.split(";")[0], "")
        relative = _relative_path(file_id)
        path = self._path(relative)
        await asyncio.to_thread(_write_atomically, path, data)
        now = utcnow()
        row = StoredFile(
            id=file_id,
            user_id=user_id,
            kind=kind,
            content_type=content_type,
            size_bytes=len(data),
            storage_path=relative,
            created_at=now,
            expires_at=now + self._ttl,
        )
        try:
            async with self._sessions() as session, session.begin():
                session.add(row)
        except BaseException:
            await asyncio.to_thread(_unlink, [path])
            raise
        return StoredFileView(file_id, self.url_for(file_id), content_type, len(data), row.expires_at)

    async def open(self, file_id: str) -> tuple[Path, str]:
        """The file's path and content type; ``NotFound`` for unknown, expired or malformed ids."""
        if not is_valid_file_id(file_id):
            raise NotFound("File not found.")
        async with self._sessions() as session:
            row = await session.get(StoredFile, file_id)
        if row is None or row.expires_at <= utcnow():
            raise NotFound("File not found.")
        path = self._path(row.storage_path)
        if not await asyncio.to_thread(path.is_file):
            raise NotFound("File not found.")
        return path, row.content_type

    async def purge_expired(self, now: datetime | None = None) -> int:
        """Delete expired files, then their rows; returns how many rows were removed.

        Files go first: a crash in between leaves rows whose file is gone (``open`` answers
        404 and the next purge removes them), never files that no row points to.
        """
        now = now or utcnow()
        removed = 0
        while True:
            async with self._sessions() as session:
                result = await session.execute(
                    select(StoredFile.id, StoredFile.storage_path)
                    .where(StoredFile.expires_at <= now)
                    .order_by(StoredFile.expires_at)
                    .limit(_PURGE_BATCH)
                )
                batch = [(str(file_id), str(relative)) for file_id, relative in result.all()]
            if not batch:
                return removed
            paths = [path for _, relative in batch if (path := self._contained(relative)) is not None]
            await asyncio.to_thread(_unlink, paths)
            async with self._sessions() as session, session.begin():
                deleted = await session.execute(
                    delete(StoredFile).where(StoredFile.id.in_([file_id for file_id, _ in batch]))
                )
            removed += int(getattr(deleted, "rowcount", 0) or 0)
            if len(batch) < _PURGE_BATCH:
                return removed
