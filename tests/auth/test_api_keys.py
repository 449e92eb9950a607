from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from modelsnest.auth.api_keys import create_key, list_keys, revoke_key
from modelsnest.crypto import token_hash
from modelsnest.db.base import Base, utcnow
from modelsnest.db.models import ApiToken
from modelsnest.errors import Conflict, InvalidRequest, NotFound
from modelsnest.runtime import Runtime
from tests.auth.conftest import MakeUser


async def _all_rows_as_text(runtime: Runtime) -> str:
    parts = []
    async with runtime.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in await connection.execute(table.select()):
                parts.append(repr(tuple(row)))
    return "\n".join(parts)


async def test_token_format_and_only_hash_and_prefix_are_stored(
    runtime: Runtime, make_user: MakeUser
) -> None:
    user_id = await make_user()
    view, token = await create_key(runtime.sessions, user_id=user_id, name="ci")
    assert re.fullmatch(r"ptr_[A-Za-z0-9_-]{43,}", token)
    assert view.prefix == token[:12] and view.name == "ci" and view.status == "active"
    async with runtime.sessions() as session:
        row = await session.scalar(select(ApiToken).where(ApiToken.id == view.id))
    assert row is not None and row.token_hash == token_hash(token)
    dump = await _all_rows_as_text(runtime)
    assert token not in dump
    assert token[12:] not in dump  # not even the secret part on its own


async def test_every_key_is_different(runtime: Runtime, make_user: MakeUser) -> None:
    user_id = await make_user()
    tokens = {(await create_key(runtime.sessions, user_id=user_id))[1] for _ in range(5)}
    assert len(tokens) == 5


async def test_create_validates_its_input(runtime: Runtime, make_user: MakeUser) -> None:
    user_id = await make_user()
    disabled = await make_user("off@example.com", status="disabled")
    with pytest.raises(NotFound):
        await create_key(runtime.sessions, user_id=user_id + 1000)
    with pytest.raises(InvalidRequest, match="disabled"):
        await create_key(runtime.sessions, user_id=disabled)
    with pytest.raises(InvalidRequest, match="name"):
        await create_key(runtime.sessions, user_id=user_id, name="   ")
    with pytest.raises(InvalidRequest, match="future"):
        await create_key(runtime.sessions, user_id=user_id, expires_at=utcnow() - timedelta(seconds=1))
    with pytest.raises(InvalidRequest, match="rpm_limit"):
        await create_key(runtime.sessions, user_id=user_id, rpm_limit=0)
    with pytest.raises(InvalidRequest, match="spend_limit"):
        await create_key(runtime.sessions, user_id=user_id, spend_limit_nanos=-1)
    with pytest.raises(InvalidRequest, match="allowed_models"):
        await create_key(runtime.sessions, user_id=user_id, allowed_models=[" "])
    assert await list_keys(runtime.sessions, user_id) == []


async def test_limits_round_trip(runtime: Runtime, make_user: MakeUser) -> None:
    user_id = await make_user()
    expires = utcnow() + timedelta(days=30)
    view, _ = await create_key(
        runtime.sessions,
        user_id=user_id,
        name="  limited   key ",
        expires_at=expires,
        spend_limit_nanos=5_000_000_000,
        rpm_limit=60,
        tpm_limit=10_000,
        allowed_models=["deepseek", "gpt-4o", "deepseek"],
    )
    [listed] = await list_keys(runtime.sessions, user_id)
    assert listed == view
    assert listed.name == "limited key"
    assert listed.allowed_models == ["deepseek", "gpt-4o"]
    assert listed.expires_at is not None and abs(listed.expires_at - expires) < timedelta(seconds=1)
    assert (listed.spend_limit_nanos, listed.rpm_limit, listed.tpm_limit, listed.spent_nanos) == (
        5_000_000_000,
        60,
        10_000,
        0,
    )


async def test_revoke_by_id_prefix_or_token(runtime: Runtime, make_user: MakeUser) -> None:
    user_id = await make_user()
    by_id, _ = await create_key(runtime.sessions, user_id=user_id)
    by_prefix, _ = await create_key(runtime.sessions, user_id=user_id)
    by_token, token = await create_key(runtime.sessions, user_id=user_id)
    keep, _ = await create_key(runtime.sessions, user_id=user_id)

    assert (await revoke_key(runtime.sessions, by_id.id)).status == "revoked"
    assert (await revoke_key(runtime.sessions, by_prefix.prefix)).status == "revoked"
    assert (await revoke_key(runtime.sessions, token)).status == "revoked"
    again = await revoke_key(runtime.sessions, str(by_id.id))  # idempotent
    statuses = {k.id: k.status for k in await list_keys(runtime.sessions, user_id)}
    assert statuses == {
        by_id.id: "revoked",
        by_prefix.id: "revoked",
        by_token.id: "revoked",
        keep.id: "active",
    }
    assert again.revoked_at is not None


async def test_revoke_errors(runtime: Runtime, make_user: MakeUser) -> None:
    user_id = await make_user()
    other = await make_user("other@example.com")
    mine, _ = await create_key(runtime.sessions, user_id=user_id)
    with pytest.raises(NotFound):
        await revoke_key(runtime.sessions, "ptr_zzzzzzzz")
    with pytest.raises(NotFound):
        await revoke_key(runtime.sessions, "ptr_" + "z" * 43)
    with pytest.raises(NotFound):
        await revoke_key(runtime.sessions, str(mine.id + 100))
    with pytest.raises(NotFound):  # scoped to another user
        await revoke_key(runtime.sessions, mine.id, user_id=other)
    with pytest.raises(InvalidRequest):
        await revoke_key(runtime.sessions, "ptr_")
    with pytest.raises(InvalidRequest):
        await revoke_key(runtime.sessions, "hello")
    [still] = await list_keys(runtime.sessions, user_id)
    assert still.status == "active"


async def test_ambiguous_prefix_is_a_conflict(runtime: Runtime, make_user: MakeUser) -> None:
    user_id = await make_user()
    first, _ = await create_key(runtime.sessions, user_id=user_id)
    second, _ = await create_key(runtime.sessions, user_id=user_id)
    async with runtime.sessions() as session, session.begin():
        row = await session.get(ApiToken, second.id)
        assert row is not None
        row.prefix = first.prefix  # force a collision on the displayed prefix
    with pytest.raises(Conflict, match="more than one"):
        await revoke_key(runtime.sessions, first.prefix)
    # A LIKE wildcard in the prefix is matched literally.
    with pytest.raises(NotFound):
        await revoke_key(runtime.sessions, "ptr_%%%%")
    assert {k.status for k in await list_keys(runtime.sessions, user_id)} == {"active"}
