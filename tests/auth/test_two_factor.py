"""TOTP and recovery codes on both databases: encrypted secret, no replay, single use."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from modelsnest.auth import two_factor
from modelsnest.auth.users import create_user
from modelsnest.crypto import SecretBox, token_hash
from modelsnest.db.base import utcnow
from modelsnest.db.models import RecoveryCode, UserTwoFactor
from modelsnest.errors import Conflict, InvalidRequest
from modelsnest.runtime import Runtime

BOX = SecretBox("two-factor-test-secret-" + "x" * 32)


async def _enrolled(runtime: Runtime) -> tuple[int, str, list[str]]:
    user = await create_user(runtime.sessions, email="mfa@example.com")
    enrolment = await two_factor.begin_enrolment(runtime.sessions, BOX, user.id, user.email)
    codes = await two_factor.confirm_enrolment(
        runtime.sessions, BOX, user.id, pyotp.TOTP(enrolment.secret).now()
    )
    return user.id, enrolment.secret, codes


async def test_the_secret_is_stored_encrypted_and_the_qr_code_is_inline_svg(runtime: Runtime) -> None:
    user = await create_user(runtime.sessions, email="qr@example.com")
    enrolment = await two_factor.begin_enrolment(runtime.sessions, BOX, user.id, user.email)
    assert enrolment.qr_svg.startswith("<svg") and "otpauth" not in enrolment.qr_svg
    assert enrolment.uri.startswith("otpauth://totp/Modelsnest:qr%40example.com?secret=")
    async with runtime.sessions() as session:
        row = await session.get(UserTwoFactor, user.id)
    assert row is not None and enrolment.secret not in row.secret_encrypted
    assert BOX.decrypt(row.secret_encrypted) == enrolment.secret
    assert not (await two_factor.status(runtime.sessions, user.id)).enabled


async def test_confirmation_needs_a_right_code_and_returns_ten_hashed_recovery_codes(
    runtime: Runtime,
) -> None:
    user = await create_user(runtime.sessions, email="confirm@example.com")
    enrolment = await two_factor.begin_enrolment(runtime.sessions, BOX, user.id, user.email)
    with pytest.raises(InvalidRequest):
        await two_factor.confirm_enrolment(runtime.sessions, BOX, user.id, "123456")
    codes = await two_factor.confirm_enrolment(
        runtime.sessions, BOX, user.id, pyotp.TOTP(enrolment.secret).now()
    )
    assert len(codes) == len(set(codes)) == 10
    async with runtime.sessions() as session:
        stored = set(await session.scalars(select(RecoveryCode.code_hash)))
    assert stored == {token_hash(code) for code in codes}
    with pytest.raises(Conflict):
        await two_factor.begin_enrolment(runtime.sessions, BOX, user.id, user.email)


async def test_a_totp_code_is_accepted_once(runtime: Runtime) -> None:
    user_id, secret, _ = await _enrolled(runtime)
    nxt = pyotp.TOTP(secret).at(utcnow() + timedelta(seconds=30))
    results = await asyncio.gather(
        *(two_factor.verify(runtime.sessions, BOX, user_id, nxt) for _ in range(4))
    )
    assert sorted(results) == [False, False, False, True]
    # An older step's code is refused after a newer one was used.
    assert not await two_factor.verify(runtime.sessions, BOX, user_id, pyotp.TOTP(secret).now())
    assert not await two_factor.verify(
        runtime.sessions, BOX, user_id, pyotp.TOTP(secret).at(utcnow() + timedelta(seconds=300))
    )


async def test_recovery_codes_work_once_and_are_typed_loosely(runtime: Runtime) -> None:
    user_id, _, codes = await _enrolled(runtime)
    assert await two_factor.verify(
        runtime.sessions, BOX, user_id, " " + codes[3].upper().replace("-", "  ") + " "
    )
    assert not await two_factor.verify(runtime.sessions, BOX, user_id, codes[3])
    assert (await two_factor.status(runtime.sessions, user_id)).recovery_codes_left == 9
    assert not await two_factor.verify(runtime.sessions, BOX, user_id, "aaaa-bbbb-cccc-dddd")


async def test_disable_removes_the_secret_and_codes(runtime: Runtime) -> None:
    user_id, secret, codes = await _enrolled(runtime)
    await two_factor.disable(runtime.sessions, user_id)
    assert not await two_factor.is_enabled(runtime.sessions, user_id)
    assert not await two_factor.verify(runtime.sessions, BOX, user_id, codes[0])
