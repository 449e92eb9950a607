"""The hot path: turn an ``Authorization`` header into an ``ApiKeyPrincipal``.

One indexed read (``api_tokens.token_hash`` joined to ``users``) per key per ``ttl_seconds``,
served from memory in between; unknown tokens are remembered too, so guessing costs no database
reads. A revoked key or a disabled account stops working within ``ttl_seconds`` on every replica;
an expiry is checked on every request. ``last_used_at`` is written in the background, at most
once per ``touch_interval_seconds`` per key, batched, never on the request's time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update

from modelsnest.auth.tokens import is_well_formed
from modelsnest.crypto import token_hash
from modelsnest.db.base import utcnow
from modelsnest.db.engine import SessionFactory
from modelsnest.db.models import ApiToken, User
from modelsnest.errors import AuthError

log = logging.getLogger(__name__)

MISSING_AUTH_MESSAGE = "Missing API key: send the header 'Authorization: Bearer ptr_…'"
INVALID_TOKEN_MESSAGE = "Invalid API key: it is unknown, revoked or expired, or its account is disabled"


@dataclass(frozen=True, slots=True)
class ApiKeyPrincipal:
    """Who is calling, with the key's limits, as of at most ``ttl_seconds`` ago."""

    key_id: int
    user_id: int
    user_role: str
    user_status: str
    name: str
    prefix: str
    expires_at: datetime | None
    revoked: bool
    spend_limit_nanos: int | None
    rpm_limit: int | None
    tpm_limit: int | None
    allowed_models: frozenset[str] | None  # None: every model
    spent_nanos: int

    def is_usable(self, now: datetime | None = None) -> bool:
        if self.revoked or self.user_status != "active":
            return False
        return self.expires_at is None or self.expires_at > (now or utcnow())

    def allows_model(self, model: str) -> bool:
        return self.allowed_models is None or model in self.allowed_models


_LOOKUP = (
    select(
        ApiToken.id,
        ApiToken.user_id,
        User.role,
        User.status,
        ApiToken.name,
        ApiToken.prefix,
        ApiToken.expires_at,
        ApiToken.revoked_at,
        ApiToken.spend_limit_nanos,
        ApiToken.rpm_limit,
        ApiToken.tpm_limit,
        ApiToken.allowed_models,
        ApiToken.spent_nanos,
    )
    .join(User, User.id == ApiToken.user_id)
    .where(ApiToken.token_hash == bindparam("digest"))
)

_TOKENS = cast(Table, ApiToken.__table__)
# Core UPDATE (not ORM): an executemany that quietly skips keys deleted in the meantime.
_TOUCH = update(_TOKENS).where(_TOKENS.c.id == bindparam("key_id")).values(last_used_at=bindparam("used_at"))


def extract_token(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer …`` header (a bare ``ptr_…`` token is accepted too)."""
    value = (authorization or "").strip()
    scheme, _, rest = value.partition(" ")
    if scheme.lower() == "bearer" and rest.strip():
        return rest.strip()
    if value.startswith("ptr_"):
        return value
    raise AuthError(MISSING_AUTH_MESSAGE, code="MISSING_AUTH_HEADER")


class ApiKeyVerifier:
    """One per process (created in the app's lifespan; ``await close()`` on shutdown)."""

    def __init__(
        self,
        sessions: SessionFactory,
        ttl_seconds: float = 5.0,
        *,
        miss_ttl_seconds: float | None = None,
        max_entries: int = 100_000,
        touch_interval_seconds: float = 60.0,
        flush_delay_seconds: float = 1.0,
    ) -> None:
        self._sessions = sessions
        self._ttl = ttl_seconds
        self._miss_ttl = ttl_seconds if miss_ttl_seconds is None else miss_ttl_seconds
        self._max_entries = max_entries
        self._touch_interval = touch_interval_seconds
        self._flush_delay = flush_delay_seconds
        self._cache: dict[str, tuple[float, ApiKeyPrincipal | None]] = {}
        self._loading: dict[str, asyncio.Task[ApiKeyPrincipal | None]] = {}
        self._touched: dict[int, float] = {}
        self._pending: dict[int, datetime] = {}
        self._flush_task: asyncio.Task[None] | None = None

    async def verify(self, authorization_header_or_token: str | None) -> ApiKeyPrincipal:
        token = extract_token(authorization_header_or_token)
        if not is_well_formed(token):
            raise AuthError(INVALID_TOKEN_MESSAGE, code="INVALID_TOKEN")
        principal = await self._lookup(token_hash(token))
        if principal is None or not principal.is_usable():
            raise AuthError(INVALID_TOKEN_MESSAGE, code="INVALID_TOKEN")
        self._touch(principal.key_id)
        return principal

    def invalidate(self) -> None:
        """Forget every cached key (e.g. after a revocation made in this process)."""
        self._cache.clear()

    async def flush(self) -> None:
        """Write the pending ``last_used_at`` marks now, in one statement."""
        pending, self._pending = self._pending, {}
        if not pending:
            return
        params = [{"key_id": key_id, "used_at": used_at} for key_id, used_at in pending.items()]
        try:
            async with self._sessions() as session, session.begin():
                await session.execute(_TOUCH, params)
        except Exception:  # bookkeeping only: never let it fail anything else
            log.warning("could not record last_used_at for %d API key(s)", len(params), exc_info=True)

    async def close(self) -> None:
        task, self._flush_task = self._flush_task, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        await self.flush()

    async def _lookup(self, digest: str) -> ApiKeyPrincipal | None:
        entry = self._cache.get(digest)
        if entry is not None and entry[0] > time.monotonic():
            return entry[1]
        # Concurrent requests for the same key share one read instead of each doing it.
        task = self._loading.get(digest)
        if task is None:
            task = asyncio.create_task(self._load(digest))
            self._loading[digest] = task
            task.add_done_callback(lambda _: self._loading.pop(digest, None))
        return await asyncio.shield(task)

    async def _load(self, digest: str) -> ApiKeyPrincipal | None:
        async with self._sessions() as session:
            row = (await session.execute(_LOOKUP, {"digest": digest})).one_or_none()
        principal = None if row is None else _principal(row)
        self._remember(digest, principal)
        return principal

    def _remember(self, digest: str, principal: ApiKeyPrincipal | None) -> None:
        now = time.monotonic()
        if len(self._cache) >= self._max_entries:
            self._cache = {k: v for k, v in self._cache.items() if v[0] > now}
            if len(self._cache) >= self._max_entries:  # flooded with live entries: keep the newest half
                self._cache = dict(list(self._cache.items())[self._max_entries // 2 :])
        self._cache.pop(digest, None)
        self._cache[digest] = (now + (self._ttl if principal is not None else self._miss_ttl), principal)

    def _touch(self, key_id: int) -> None:
        now = time.monotonic()
        last = self._touched.get(key_id)
        if last is not None and now - last < self._touch_interval:
            return
        if len(self._touched) >= self._max_entries:
            self._touched.clear()
        self._touched[key_id] = now
        self._pending[key_id] = utcnow()
        if self._flush_task is None or self._flush_task.done():
            self._flush_task = asyncio.create_task(self._flush_soon())

    async def _flush_soon(self) -> None:
        await asyncio.sleep(self._flush_delay)  # let marks from other keys join this batch
        await self.flush()


def _principal(row: Any) -> ApiKeyPrincipal:
    (key_id, user_id, role, status, name, prefix, expires_at, revoked_at, spend, rpm, tpm, models, spent) = (
        row
    )
    return ApiKeyPrincipal(
        key_id=key_id,
        user_id=user_id,
        user_role=role,
        user_status=status,
        name=name,
        prefix=prefix,
        expires_at=expires_at,
        revoked=revoked_at is not None,
        spend_limit_nanos=spend,
        rpm_limit=rpm,
        tpm_limit=tpm,
        allowed_models=frozenset(models) if models is not None else None,
        spent_nanos=spent or 0,
    )
