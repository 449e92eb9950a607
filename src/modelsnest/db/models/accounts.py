"""Account security beyond the password: e-mail verification tokens and two-factor sign-in.

Secrets are never stored in clear: verification tokens and recovery codes as SHA-256 (they
carry 256 and 80 random bits), the TOTP secret encrypted with the deployment's secret key.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from modelsnest.db.base import Base, BigIntPK, IdMixin, utcnow


class EmailVerificationToken(IdMixin, Base):
    """Single-use, expiring proof that the owner of ``email`` read our mail."""

    __tablename__ = "email_verification_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The address the mail went to: a token verifies that address only, not a later one.
    email: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class UserTwoFactor(Base):
    """A user's TOTP authenticator: pending until confirmed with a first code."""

    __tablename__ = "user_two_factor"

    user_id: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    secret_encrypted: Mapped[str] = mapped_column(Text)
    confirmed_at: Mapped[datetime | None]
    # The TOTP time step of the last accepted code: a code is accepted only for a later step,
    # so it cannot be replayed within its window (the check is a conditional UPDATE).
    last_used_step: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RecoveryCode(IdMixin, Base):
    """One of the ten one-time codes that sign in when the authenticator is lost."""

    __tablename__ = "two_factor_recovery_codes"
    __table_args__ = (UniqueConstraint("user_id", "code_hash"),)

    user_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None]
