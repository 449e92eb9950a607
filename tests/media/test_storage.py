"""MediaStore on SQLite and PostgreSQL: save, open, expiry, purge, unguessable ids."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from modelsnest.db.base import utcnow
from modelsnest.db.models.media import StoredFile
from modelsnest.errors import NotFound
from modelsnest.media import png_image
from modelsnest.media.storage import MediaStore, is_valid_file_id
from modelsnest.runtime import Runtime
from tests.media.conftest import MakeUser

BASE_URL = "https://gateway.example.com"


@pytest.fixture
def store(runtime: Runtime, tmp_path: Path) -> MediaStore:
    return MediaStore(runtime.sessions, tmp_path / "files", BASE_URL + "/", ttl_seconds=3600)


async def _count(runtime: Runtime) -> int:
    async with runtime.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(StoredFile))).scalar_one())


async def test_save_then_open(
    store: MediaStore, make_user: MakeUser, runtime: Runtime, tmp_path: Path
) -> None:
    user_id = await make_user("saver@example.com")
    data = png_image(16, 16, seed=1)
    before = utcnow()
    view = await store.save(user_id, data, "image/png", "image")

    assert re.fullmatch(r"[A-Za-z0-9_-]{32}\.png", view.id)
    assert view.url == f"{BASE_URL}/files/{view.id}"
    assert (view.content_type, view.size_bytes) == ("image/png", len(data))
    assert before + timedelta(seconds=3599) < view.expires_at <= utcnow() + timedelta(seconds=3600)

    path, content_type = await store.open(view.id)
    assert (path.read_bytes(), content_type) == (data, "image/png")
    assert path.is_relative_to(tmp_path / "files") and path.parent.parent.parent == tmp_path / "files"
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".tmp-")]

    async with runtime.sessions() as session:
        row = await session.get(StoredFile, view.id)
    assert row is not None and (row.user_id, row.kind, row.size_bytes) == (user_id, "image", len(data))
    assert not Path(row.storage_path).is_absolute()


async def test_ids_are_unguessable_and_unique(store: MediaStore, make_user: MakeUser) -> None:
    user_id = await make_user("ids@example.com")
    ids = [(await store.save(user_id, b"x", "audio/mpeg", "audio")).id for _ in range(40)]
    assert len(set(ids)) == 40
    for file_id in ids:
        token, ext = file_id.rsplit(".", 1)
        assert ext == "mp3" and len(token) >= 32 and is_valid_file_id(file_id)
    # 40 tokens of 32 url-safe characters share no common prefix beyond chance.
    assert len({file_id[:3] for file_id in ids}) > 30


async def test_unknown_content_type_gets_no_extension(store: MediaStore, make_user: MakeUser) -> None:
    view = await store.save(await make_user("ext@example.com"), b"\x00\x01", "application/x-thing", "video")
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", view.id)
    with pytest.raises(ValueError):
        await store.save(await make_user("kind@example.com"), b"x", "image/png", "document")


@pytest.mark.parametrize(
    "file_id",
    [
        "../../etc/passwd",
        "..%2F..%2Fetc%2Fpasswd",
        "/etc/passwd",
        "A" * 31,
        "A" * 33 + "/x",
        "A" * 30 + "/..",
        "A" * 32 + ".png/../../x",
        "A" * 32 + "\x00.png",
        "",
        "A" * 32 + ".toolong",
    ],
)
async def test_malformed_and_traversal_ids_are_not_found(store: MediaStore, file_id: str) -> None:
    with pytest.raises(NotFound):
        await store.open(file_id)


async def test_unknown_id_is_not_found(store: MediaStore) -> None:
    with pytest.raises(NotFound):
        await store.open("B" * 32 + ".png")


async def test_tampered_storage_path_cannot_escape_the_root(
    store: MediaStore, make_user: MakeUser, runtime: Runtime, tmp_path: Path
) -> None:
    (tmp_path / "secret.txt").write_text("secret")
    view = await store.save(await make_user("tamper@example.com"), b"data", "audio/wav", "audio")
    async with runtime.sessions() as session, session.begin():
        await session.execute(
            update(StoredFile).where(StoredFile.id == view.id).values(storage_path="../secret.txt")
        )
    with pytest.raises(NotFound):
        await store.open(view.id)
    assert await store.purge_expired(utcnow() + timedelta(days=2)) == 1
    assert (tmp_path / "secret.txt").exists()


async def test_expired_files_are_not_served_and_are_purged(
    store: MediaStore, make_user: MakeUser, runtime: Runtime
) -> None:
    user_id = await make_user("purge@example.com")
    old = await store.save(user_id, b"old", "audio/wav", "audio")
    fresh = await store.save(user_id, b"fresh", "audio/wav", "audio")
    old_path, _ = await store.open(old.id)
    async with runtime.sessions() as session, session.begin():
        await session.execute(
            update(StoredFile)
            .where(StoredFile.id == old.id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    with pytest.raises(NotFound):
        await store.open(old.id)

    assert await store.purge_expired() == 1
    assert not old_path.exists()
    assert await _count(runtime) == 1
    assert (await store.open(fresh.id))[0].read_bytes() == b"fresh"
    assert await store.purge_expired() == 0

    # Everything expires in the end; a file already gone from disk is no obstacle.
    fresh_path, _ = await store.open(fresh.id)
    fresh_path.unlink()
    with pytest.raises(NotFound):
        await store.open(fresh.id)
    assert await store.purge_expired(utcnow() + timedelta(hours=2)) == 1
    assert await _count(runtime) == 0


async def test_failed_row_insert_leaves_no_file(store: MediaStore, tmp_path: Path) -> None:
    with pytest.raises(Exception, match="(?i)foreign key|constraint"):
        await store.save(987654, b"orphan", "image/png", "image")  # no such user
    assert not [p for p in (tmp_path / "files").rglob("*") if p.is_file()]
