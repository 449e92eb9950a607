"""Client ``Idempotency-Key`` on every paid, non-streamed POST, scoped to the API key.

A key is claimed with the SHA-256 of the request body before the upstream is called:
- same key, same body, completed  → the stored response is replayed (no upstream, no charge);
- same key, other body            → 409 IDEMPOTENCY_KEY_REUSED;
- same key while the first request is still running → 409 IDEMPOTENCY_KEY_IN_USE;
- the first request failed        → the claim is dropped, so the client may retry.
The answer is stored in the same transaction as the charge (``billing.settle(reply=…)``, or
``complete_in`` inside a video job's transaction): a retry finds the answer or finds nothing
charged. Records expire after ``idempotency_ttl_seconds`` (24 h).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from modelsnest.db.base import utcnow
from modelsnest.db.engine import SessionFactory
from modelsnest.db.models import IdempotencyRecord
from modelsnest.errors import Conflict, InvalidRequest

MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class Claim:
    record_id: int


@dataclass(frozen=True)
class Replay:
    status: int
    body: bytes
    request_id: str | None
    media_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def request_fingerprint(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def validate_key(key: str) -> str:
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidRequest(
            f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} printable characters", param="Idempotency-Key"
        )
    return key


async def claim(
    sessions: SessionFactory, *, api_token_id: int, key: str, body: bytes, request_id: str, ttl_seconds: int
) -> Claim | Replay:
    fingerprint = request_fingerprint(body)
    now = utcnow()
    for _ in range(2):
        try:
            async with sessions.begin() as session:
                result = await session.execute(
                    insert(IdempotencyRecord)
                    .values(
                        api_token_id=api_token_id,
                        key=key,
                        request_hash=fingerprint,
                        status="pending",
                        request_id=request_id,
                        created_at=now,
                        expires_at=now + timedelta(seconds=ttl_seconds),
                    )
                    .returning(IdempotencyRecord.id)
                )
                return Claim(record_id=result.scalar_one())
        except IntegrityError:
            pass
        async with sessions.begin() as session:
            existing = (
                await session.execute(
                    select(IdempotencyRecord).where(
                        IdempotencyRecord.api_token_id == api_token_id, IdempotencyRecord.key == key
                    )
                )
            ).scalar_one_or_none()
            if existing is None:
                continue  # released between our insert and select: try the claim again
            if existing.expires_at <= now:
                await session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == existing.id))
                continue
            if existing.request_hash != fingerprint:
                raise Conflict(
                    "this Idempotency-Key was already used with a different request body",
                    code="IDEMPOTENCY_KEY_REUSED",
                    param="Idempotency-Key",
                )
            if existing.status != "completed" or existing.response_body is None:
                raise Conflict(
                    "a request with this Idempotency-Key is still in progress",
                    code="IDEMPOTENCY_KEY_IN_USE",
                    param="Idempotency-Key",
                )
            return Replay(
                existing.response_status or 200,
                existing.response_body,
                existing.request_id,
                existing.response_media_type or "application/json",
                dict(existing.response_headers or {}),
            )
    raise Conflict("could not claim the Idempotency-Key, retry", code="IDEMPOTENCY_KEY_IN_USE")


async def complete_in(
    session: AsyncSession,
    claim_: Claim,
    status: int,
    body: bytes,
    media_type: str,
    headers: Mapping[str, str],
) -> None:
    """Store the answer inside the caller's transaction (the one that commits its effect)."""
    await session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.id == claim_.record_id, IdempotencyRecord.status == "pending")
        .values(
            status="completed",
            response_status=status,
            response_body=body,
            response_media_type=media_type,
            response_headers=dict(headers),
        )
    )


async def abandon(sessions: SessionFactory, claim_: Claim) -> None:
    """The request failed without a charge: free the key so the client can retry it. A record
    already completed (its charge committed, whatever the caller saw) is kept."""
    async with sessions.begin() as session:
        await session.execute(
            delete(IdempotencyRecord).where(
                IdempotencyRecord.id == claim_.record_id, IdempotencyRecord.status == "pending"
            )
        )


async def purge_expired(sessions: SessionFactory) -> int:
    async with sessions.begin() as session:
        result = await session.execute(
            delete(IdempotencyRecord).where(IdempotencyRecord.expires_at <= utcnow())
        )
        return int(getattr(result, "rowcount", 0) or 0)
