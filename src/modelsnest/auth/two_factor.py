"""Two-factor sign-in: TOTP authenticators (RFC 6238, via pyotp) and one-time recovery codes.

* Enrolment is two steps: ``begin_enrolment`` stores a new secret (encrypted with the
  deployment's ``SecretBox``) as pending and returns it with its QR code; ``confirm_enrolment``
  turns it on once the user types a first code, and returns ten recovery codes, shown once.
* A TOTP code is accepted for the current 30-second step or one step either side (clock
  drift), and only for a step later than the last accepted one: the check is a conditional
  UPDATE of ``last_used_step``, so a code cannot be replayed, even on another replica.
* A recovery code (80 random bits, stored as SHA-256) works once.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

import pyotp
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from modelsnest.crypto import SecretBox, token_hash
from modelsnest.db.base import utcnow
from modelsnest.db.engine import SessionFactory
from modelsnest.db.models import RecoveryCode, UserTwoFactor
from modelsnest.errors import Conflict, InvalidRequest

ISSUER = "Modelsnest"
RECOVERY_CODE_COUNT = 10
# No 0/o, 1/l/i: codes are read off paper and typed by hand.
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_RECOVERY_GROUPS = 4
_RECOVERY_GROUP_LENGTH = 4
DRIFT_STEPS = 1


@dataclass(frozen=True, slots=True)
class TwoFactorStatus:
    enabled: bool
    pending: bool
    enabled_at: datetime | None
    recovery_codes_left: int


@dataclass(frozen=True, slots=True)
class Enrolment:
    """What the user needs to add the authenticator: the secret, as text and as a QR code."""

    secret: str
    uri: str
    qr_svg: str

    @property
    def secret_grouped(self) -> str:
        return " ".join(self.secret[i : i + 4] for i in range(0, len(self.secret), 4))


def normalize_code(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def new_recovery_code() -> str:
    raw = "".join(
        secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_GROUPS * _RECOVERY_GROUP_LENGTH)
    )
    return "-".join(raw[i : i + _RECOVERY_GROUP_LENGTH] for i in range(0, len(raw), _RECOVERY_GROUP_LENGTH))


def qr_svg(data: str) -> str:
    """The QR code as inline SVG, dark modules on white (readable in dark mode too)."""
    import segno  # only when two-factor is being set up

    return str(
        segno.make(data, error="m").svg_inline(scale=5, border=3, dark="#111", light="#fff", svgclass="qr")
    )


async def status(sessions: SessionFactory, user_id: int) -> TwoFactorStatus:
    async with sessions() as session:
        row = await session.get(UserTwoFactor, user_id)
        left = await session.scalar(
            select(func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))
        )
    enabled = row is not None and row.confirmed_at is not None
    return TwoFactorStatus(
        enabled=enabled,
        pending=row is not None and row.confirmed_at is None,
        enabled_at=row.confirmed_at if row is not None else None,
        recovery_codes_left=int(left or 0) if enabled else 0,
    )


async def is_enabled(sessions: SessionFactory, user_id: int) -> bool:
    async with sessions() as session:
        confirmed = await session.scalar(
            select(UserTwoFactor.confirmed_at).where(UserTwoFactor.user_id == user_id)
        )
    return confirmed is not None


async def begin_enrolment(
    sessions: SessionFactory, box: SecretBox, user_id: int, account_name: str
) -> Enrolment:
    """A new pending secret (replacing an earlier pending one); Conflict when 2FA is already on."""
    secret = pyotp.random_base32()
    async with sessions() as session, session.begin():
        row = await session.get(UserTwoFactor, user_id, with_for_update=True)
        if row is not None and row.confirmed_at is not None:
            raise Conflict("two-factor sign-in is already on: turn it off first to change the authenticator")
        if row is None:
            session.add(UserTwoFactor(user_id=user_id, secret_encrypted=box.encrypt(secret)))
        else:
            row.secret_encrypted = box.encrypt(secret)
            row.last_used_step = None
            row.created_at = utcnow()
    return enrolment_of(secret, account_name)


async def pending_enrolment(
    sessions: SessionFactory, box: SecretBox, user_id: int, account_name: str
) -> Enrolment | None:
    async with sessions() as session:
        row = await session.get(UserTwoFactor, user_id)
    if row is None or row.confirmed_at is not None:
        return None
    return enrolment_of(box.decrypt(row.secret_encrypted), account_name)


def enrolment_of(secret: str, account_name: str) -> Enrolment:
    uri = pyotp.TOTP(secret).provisioning_uri(name=account_name, issuer_name=ISSUER)
    return Enrolment(secret=secret, uri=uri, qr_svg=qr_svg(uri))


async def confirm_enrolment(sessions: SessionFactory, box: SecretBox, user_id: int, code: str) -> list[str]:
    """Turn two-factor sign-in on with a first code; returns the recovery codes (show once)."""
    async with sessions() as session:
        row = await session.get(UserTwoFactor, user_id)
    if row is None or row.confirmed_at is not None:
        raise InvalidRequest(
            "start the set-up again: no authenticator is waiting for confirmation", param="code"
        )
    if not await _accept_totp(sessions, box.decrypt(row.secret_encrypted), user_id, code, pending=True):
        raise InvalidRequest("that code is not right: type the 6 digits your app shows now", param="code")
    async with sessions() as session, session.begin():
        await session.execute(
            update(UserTwoFactor).where(UserTwoFactor.user_id == user_id).values(confirmed_at=utcnow())
        )
        return await _replace_recovery_codes(session, user_id)


async def regenerate_recovery_codes(sessions: SessionFactory, user_id: int) -> list[str]:
    async with sessions() as session, session.begin():
        if (
            await session.scalar(select(UserTwoFactor.confirmed_at).where(UserTwoFactor.user_id == user_id))
            is None
        ):
            raise InvalidRequest("turn two-factor sign-in on first")
        return await _replace_recovery_codes(session, user_id)


async def disable(sessions: SessionFactory, user_id: int) -> None:
    async with sessions() as session, session.begin():
        await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
        await session.execute(delete(UserTwoFactor).where(UserTwoFactor.user_id == user_id))


async def verify(sessions: SessionFactory, box: SecretBox, user_id: int, code: str) -> bool:
    """True once for a current TOTP code or an unused recovery code of the user."""
    cleaned = normalize_code(code)
    if not cleaned or len(cleaned) > 32:
        return False
    async with sessions() as session:
        row = await session.get(UserTwoFactor, user_id)
    if row is None or row.confirmed_at is None:
        return False
    if cleaned.isdigit():
        return await _accept_totp(
            sessions, box.decrypt(row.secret_encrypted), user_id, cleaned, pending=False
        )
    return await _use_recovery_code(sessions, user_id, cleaned)


async def _accept_totp(
    sessions: SessionFactory, secret: str, user_id: int, code: str, *, pending: bool
) -> bool:
    cleaned = normalize_code(code)
    if not (cleaned.isdigit() and len(cleaned) == 6):
        return False
    totp = pyotp.TOTP(secret)
    now_step = totp.timecode(utcnow())
    matched = None
    for step in range(now_step - DRIFT_STEPS, now_step + DRIFT_STEPS + 1):
        # Compare every candidate (no early exit): the time taken says nothing about the code.
        if hmac.compare_digest(totp.generate_otp(step), cleaned):
            matched = step
    if matched is None:
        return False
    confirmed = UserTwoFactor.confirmed_at.is_(None) if pending else UserTwoFactor.confirmed_at.is_not(None)
    async with sessions() as session, session.begin():
        result = await session.execute(
            update(UserTwoFactor)
            .where(
                UserTwoFactor.user_id == user_id,
                confirmed,
                or_(UserTwoFactor.last_used_step.is_(None), UserTwoFactor.last_used_step < matched),
            )
            .values(last_used_step=matched)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def _use_recovery_code(sessions: SessionFactory, user_id: int, cleaned: str) -> bool:
    if len(cleaned) != _RECOVERY_GROUPS * _RECOVERY_GROUP_LENGTH:
        return False
    formatted = "-".join(
        cleaned[i : i + _RECOVERY_GROUP_LENGTH] for i in range(0, len(cleaned), _RECOVERY_GROUP_LENGTH)
    )
    async with sessions() as session, session.begin():
        result = await session.execute(
            update(RecoveryCode)
            .where(
                RecoveryCode.user_id == user_id,
                RecoveryCode.code_hash == token_hash(formatted),
                RecoveryCode.used_at.is_(None),
            )
            .values(used_at=utcnow())
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def _replace_recovery_codes(session: AsyncSession, user_id: int) -> list[str]:
    await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    codes = [new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    session.add_all(RecoveryCode(user_id=user_id, code_hash=token_hash(code)) for code in codes)
    return codes
