"""API keys: create (the full token is returned once), list, revoke.

Request-time verification lives in ``key_verifier`` (re-exported here): one indexed read by
SHA-256, cached for a few seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from modelsnest.auth.key_verifier import ApiKeyPrincipal, ApiKeyVerifier
from modelsnest.auth.tokens import DISPLAY_PREFIX_LENGTH, TOKEN_MARKER, display_prefix, new_token
from modelsnest.crypto import token_hash
from modelsnest.db.base import utcnow
from modelsnest.db.engine import SessionFactory
from modelsnest.db.models import ApiToken, User
from modelsnest.errors import Conflict, InvalidRequest, NotFound

__all__ = [
    "ApiKeyPrincipal",
    "ApiKeyVerifier",
    "ApiKeyView",
    "create_key",
    "list_keys",
    "revoke_key",
]

MAX_NAME_LENGTH = 100
# A shorter prefix than this would match half the keys of a busy install.
MIN_REVOKE_PREFIX_LENGTH = len(TOKEN_MARKER) + 4


@dataclass(frozen=True, slots=True)
class ApiKeyView:
    """A key as shown to its owner and to operators: never the token, never its hash."""

    id: int
    user_id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None
    spend_limit_nanos: int | None
    rpm_limit: int | None
    tpm_limit: int | None
    allowed_models: list[str] | None
    spent_nanos: int

    @property
    def status(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= utcnow():
            return "expired"
        return "active"

    @classmethod
    def of(cls, row: ApiToken) -> ApiKeyView:
        return cls(
            id=row.id,
            user_id=row.user_id,
            name=row.name,
            prefix=row.prefix,
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
            spend_limit_nanos=row.spend_limit_nanos,
            rpm_limit=row.rpm_limit,
            tpm_limit=row.tpm_limit,
            allowed_models=list(row.allowed_models) if row.allowed_models is not None else None,
            spent_nanos=row.spent_nanos,
        )


async def create_key(
    sessions: SessionFactory,
    *,
    user_id: int,
    name: str = "default",
    expires_at: datetime | None = None,
    spend_limit_nanos: int | None = None,
    rpm_limit: int | None = None,
    tpm_limit: int | None = None,
    allowed_models: Sequence[str] | None = None,
) -> tuple[ApiKeyView, str]:
    """A new key for an active user. Returns its view and the full token: show it once, it is
    not stored anywhere."""
    name = _clean_name(name)
    _check_expiry(expires_at)
    _check_limit("spend_limit_nanos", spend_limit_nanos)
    _check_limit("rpm_limit", rpm_limit)
    _check_limit("tpm_limit", tpm_limit)
    models = _clean_models(allowed_models)
    token = new_token()
    async with sessions() as session, session.begin():
        user = await session.get(User, user_id)
        if user is None:
            raise NotFound(f"no user with id {user_id}")
        if user.status != "active":
            raise InvalidRequest(
                f"user {user.email} is {user.status}: enable the account before creating keys"
            )
        row = ApiToken(
            user_id=user_id,
            name=name,
            token_hash=token_hash(token),
            prefix=display_prefix(token),
            expires_at=expires_at,
            spend_limit_nanos=spend_limit_nanos,
            rpm_limit=rpm_limit,
            tpm_limit=tpm_limit,
            allowed_models=models,
            spent_nanos=0,
        )
        session.add(row)
        await session.flush()
        return ApiKeyView.of(row), token


async def list_keys(sessions: SessionFactory, user_id: int) -> list[ApiKeyView]:
    """Every key of the user, revoked and expired ones included, oldest first."""
    async with sessions() as session:
        rows = await session.scalars(
            select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id)
        )
        return [ApiKeyView.of(row) for row in rows]


async def revoke_key(
    sessions: SessionFactory, prefix_or_id: str | int, *, user_id: int | None = None
) -> ApiKeyView:
    """Revoke one key named by its id, its display prefix (or a unique start of it), or the full
    token. With ``user_id`` only that user's keys match. Revoking a revoked key changes nothing.

    Verifiers cache keys for a few seconds, so a revoked key stops working within their TTL."""
    async with sessions() as session, session.begin():
        row = await _find_one(session, str(prefix_or_id).strip(), user_id)
        if row.revoked_at is None:
            row.revoked_at = utcnow()
        return ApiKeyView.of(row)


async def _find_one(session: AsyncSession, ref: str, user_id: int | None) -> ApiToken:
    query = select(ApiToken)
    if user_id is not None:
        query = query.where(ApiToken.user_id == user_id)
    if ref.isdigit():
        query = query.where(ApiToken.id == int(ref))
    elif ref.startswith(TOKEN_MARKER) and len(ref) > DISPLAY_PREFIX_LENGTH:
        query = query.where(ApiToken.token_hash == token_hash(ref))
    elif ref.startswith(TOKEN_MARKER) and len(ref) >= MIN_REVOKE_PREFIX_LENGTH:
        query = query.where(ApiToken.prefix.startswith(ref, autoescape=True))
    else:
        raise InvalidRequest(
            f"name the key by its id or by its prefix (at least {MIN_REVOKE_PREFIX_LENGTH} characters, "
            f"starting with {TOKEN_MARKER!r}), as `keys list` shows them"
        )
    rows = list(await session.scalars(query.order_by(ApiToken.id).limit(2).with_for_update()))
    if not rows:
        raise NotFound(f"no API key matches {_shown(ref)}")
    if len(rows) > 1:
        raise Conflict(
            f"more than one API key matches {_shown(ref)}: give more of the prefix or the key's id"
        )
    return rows[0]


def _shown(ref: str) -> str:
    # Someone may paste a whole token: never echo more than a display prefix of it.
    return repr(ref if len(ref) <= DISPLAY_PREFIX_LENGTH else ref[:DISPLAY_PREFIX_LENGTH] + "…")


def _clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise InvalidRequest("key name must not be empty", param="name")
    if len(cleaned) > MAX_NAME_LENGTH:
        raise InvalidRequest(f"key name must be at most {MAX_NAME_LENGTH} characters", param="name")
    return cleaned


def _check_expiry(expires_at: datetime | None) -> None:
    if expires_at is None:
        return
    if expires_at.tzinfo is None:
        raise InvalidRequest("expires_at must carry a time zone", param="expires_at")
    if expires_at <= utcnow():
        raise InvalidRequest("expires_at must be in the future", param="expires_at")


def _check_limit(param: str, value: int | None) -> None:
    if value is not None and (isinstance(value, bool) or value <= 0):
        raise InvalidRequest(f"{param} must be a positive whole number", param=param)


def _clean_models(models: Sequence[str] | None) -> list[Any] | None:
    if models is None:
        return None
    if isinstance(models, str):
        models = [models]
    cleaned = list(dict.fromkeys(m.strip() for m in models if m and m.strip()))
    if not cleaned:
        raise InvalidRequest(
            "allowed_models must name at least one model (leave it unset to allow all)",
            param="allowed_models",
        )
    return cleaned
