from __future__ import annotations

import pytest
from sqlalchemy import func, select

from modelsnest.auth.users import (
    authenticate,
    create_user,
    get_user,
    get_user_by_email,
    grant_credits,
    initial_grant_key,
    list_users,
    normalize_email,
    set_user_status,
)
from modelsnest.billing import get_balance, list_transactions
from modelsnest.db.models import CreditTransaction, User, UserCredits
from modelsnest.errors import Conflict, InvalidRequest, NotFound
from modelsnest.runtime import Runtime


async def _count(runtime: Runtime, model: type) -> int:
    async with runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ann@example.com", "ann@example.com"),
        ("  Ann.Lee+ms@Example.COM \n", "Ann.Lee+ms@example.com"),
        ("demo@modelsnest.local", "demo@modelsnest.local"),
    ],
)
def test_normalize_email(raw: str, expected: str) -> None:
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "ann",
        "ann@",
        "@example.com",
        "ann@example",
        "ann example@x.com",
        "a@b@c.com",
        "ann..lee@example.com",
        ".ann@example.com",
        "ann@-example.com",
        "ann@exa_mple.com",
        "a" * 65 + "@x.com",
    ],
)
def test_invalid_emails_are_refused(raw: str) -> None:
    with pytest.raises(InvalidRequest, match="e-mail"):
        normalize_email(raw)


async def test_create_user_creates_the_credit_account_and_grants_once(runtime: Runtime) -> None:
    user = await create_user(
        runtime.sessions, email=" Ann@Example.com ", password="s3cret-pass", credits_nanos=25 * 10**9
    )
    assert (user.email, user.role, user.status, user.has_password) == (
        "Ann@example.com",
        "user",
        "active",
        True,
    )
    balance = await get_balance(runtime.sessions, user.id)
    assert balance.balance_nanos == 25 * 10**9
    [grant] = await list_transactions(runtime.sessions, user.id)
    assert (grant.type, grant.reference_type, grant.amount_nanos, grant.actor) == (
        "bonus",
        "grant",
        25 * 10**9,
        "system",
    )

    # The grant is idempotent on its key: granting again with it changes nothing.
    replay = await grant_credits(
        runtime.sessions,
        user_id=user.id,
        amount_nanos=25 * 10**9,
        actor="system",
        idempotency_key=initial_grant_key(user.id),
    )
    assert replay.replayed
    assert (await get_balance(runtime.sessions, user.id)).balance_nanos == 25 * 10**9
    assert await _count(runtime, CreditTransaction) == 1


async def test_create_user_without_credits_still_has_an_account(runtime: Runtime) -> None:
    user = await create_user(runtime.sessions, email="bob@example.com", role="admin", actor="cli")
    assert user.role == "admin" and not user.has_password
    async with runtime.sessions() as session:
        assert await session.get(UserCredits, user.id) is not None
    assert await _count(runtime, CreditTransaction) == 0


async def test_duplicate_email_is_a_conflict_whatever_the_case(runtime: Runtime) -> None:
    await create_user(runtime.sessions, email="ann@example.com")
    with pytest.raises(Conflict, match="already exists"):
        await create_user(runtime.sessions, email="ANN@example.COM", credits_nanos=10**9)
    assert await _count(runtime, User) == 1
    assert await _count(runtime, CreditTransaction) == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"email": "nope"}, "e-mail"),
        ({"email": "a@example.com", "password": "short"}, "at least 8"),
        ({"email": "a@example.com", "role": "root"}, "role"),
        ({"email": "a@example.com", "credits_nanos": -1}, "negative"),
    ],
)
async def test_bad_input_writes_nothing(runtime: Runtime, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        await create_user(runtime.sessions, **kwargs)  # type: ignore[arg-type]
    assert await _count(runtime, User) == 0


async def test_a_refused_grant_leaves_no_user_behind(runtime: Runtime) -> None:
    with pytest.raises(InvalidRequest):
        await create_user(runtime.sessions, email="rich@example.com", credits_nanos=10**30)
    assert await _count(runtime, User) == 0
    assert await _count(runtime, UserCredits) == 0


async def test_lookups(runtime: Runtime) -> None:
    ann = await create_user(runtime.sessions, email="Ann@example.com")
    assert await get_user_by_email(runtime.sessions, "  aNN@EXAMPLE.com") == ann
    assert await get_user(runtime.sessions, ann.id) == ann
    assert await get_user_by_email(runtime.sessions, "nobody@example.com") is None
    assert await get_user(runtime.sessions, ann.id + 1) is None
    bob = await create_user(runtime.sessions, email="bob@example.com")
    assert await list_users(runtime.sessions) == [ann, bob]


async def test_grant_credits_validates_the_amount(runtime: Runtime) -> None:
    ann = await create_user(runtime.sessions, email="ann@example.com")
    for amount in (0, -5):
        with pytest.raises(InvalidRequest, match="positive"):
            await grant_credits(runtime.sessions, user_id=ann.id, amount_nanos=amount, actor="cli")
    first = await grant_credits(
        runtime.sessions, user_id=ann.id, amount_nanos=10, actor="cli", reason="thanks"
    )
    second = await grant_credits(runtime.sessions, user_id=ann.id, amount_nanos=10, actor="cli")
    assert first.transaction_id != second.transaction_id  # no key given: two separate grants
    assert (await get_balance(runtime.sessions, ann.id)).balance_nanos == 20


async def test_authenticate(runtime: Runtime) -> None:
    ann = await create_user(runtime.sessions, email="ann@example.com", password="correct horse")
    await create_user(runtime.sessions, email="nopass@example.com")
    signed_in = await authenticate(runtime.sessions, "ANN@example.com ", "correct horse")
    assert signed_in is not None and signed_in.id == ann.id and signed_in.last_login_at is not None
    assert await authenticate(runtime.sessions, "ann@example.com", "wrong horse") is None
    assert await authenticate(runtime.sessions, "ghost@example.com", "correct horse") is None
    assert await authenticate(runtime.sessions, "nopass@example.com", "") is None
    await set_user_status(runtime.sessions, ann.id, "disabled")
    assert await authenticate(runtime.sessions, "ann@example.com", "correct horse") is None


async def test_authenticate_upgrades_an_outdated_hash(runtime: Runtime) -> None:
    from argon2 import PasswordHasher

    ann = await create_user(runtime.sessions, email="ann@example.com")
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("correct horse")
    async with runtime.sessions() as session, session.begin():
        row = await session.get(User, ann.id)
        assert row is not None
        row.password_hash = weak
    assert await authenticate(runtime.sessions, "ann@example.com", "correct horse") is not None
    async with runtime.sessions() as session:
        stored = await session.scalar(select(User.password_hash).where(User.id == ann.id))
    assert stored is not None and stored != weak and stored.startswith("$argon2id$v=19$m=65536")


async def test_set_user_status(runtime: Runtime) -> None:
    ann = await create_user(runtime.sessions, email="ann@example.com")
    assert (await set_user_status(runtime.sessions, ann.id, "disabled")).status == "disabled"
    assert (await set_user_status(runtime.sessions, ann.id, "active")).status == "active"
    with pytest.raises(InvalidRequest):
        await set_user_status(runtime.sessions, ann.id, "banned")
    with pytest.raises(NotFound):
        await set_user_status(runtime.sessions, ann.id + 1, "active")
