"""Holds: credits reserved for one in-flight billable call (hot path), checkpoints of what a
long stream has delivered so far, and releases.

``hold`` is two statements: the conditional reservation, which is the only gate (no read
first, so no check-then-act race on any number of replicas), and the insert of the hold.

Hold ``meta`` is what the sweeper needs to bill a hold whose process died. Keys it reads:
``endpoint``, ``model`` (catalog slug), ``provider``, ``upstream_model``, ``streamed``,
``origin`` (``UsageRecord.origin``; "api" when absent), and ``provisional_cost_nanos``, which
only ``checkpoint`` writes."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Final
from uuid import uuid4

from sqlalchemy import BigInteger, Row, bindparam, case, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import TextClause

from modelsnest.billing import _checks, _db
from modelsnest.billing.ledger import ensure_account, read_balance
from modelsnest.billing.types import HoldResult, UsageRecord
from modelsnest.billing.usage import write_usage
from modelsnest.db.base import utcnow
from modelsnest.db.engine import SessionFactory
from modelsnest.errors import Conflict, InsufficientCredits, InvalidRequest, NotFound
from modelsnest.money import format_usd

PROVISIONAL_KEY: Final = "provisional_cost_nanos"
MAX_TTL_SECONDS: Final = 7 * 24 * 3600


async def hold(
    sessions: SessionFactory,
    *,
    user_id: int,
    amount_nanos: int,
    idempotency_key: str,
    api_token_id: int | None = None,
    request_id: str | None = None,
    ttl_seconds: int = 900,
    meta: dict[str, Any] | None = None,
) -> HoldResult:
    """Reserve up to ``amount_nanos`` for a call; InsufficientCredits (402) when
    balance − reserved < amount. Replaying the key returns the first hold."""
    _checks.positive_int(user_id, "user_id")
    amount = _checks.nanos(amount_nanos, "amount_nanos")
    key = _checks.key(idempotency_key)
    if api_token_id is not None:
        _checks.positive_int(api_token_id, "api_token_id")
    _checks.optional_text(request_id, "request_id", 64)
    if _checks.positive_int(ttl_seconds, "ttl_seconds") > MAX_TTL_SECONDS:
        raise InvalidRequest(f"ttl_seconds may be at most {MAX_TTL_SECONDS}", param="ttl_seconds")
    now = utcnow()
    values = {
        "id": f"hold_{uuid4().hex}",
        "user_id": user_id,
        "api_token_id": api_token_id,
        "request_id": request_id,
        "amount_nanos": amount,
        "status": "active",
        "idempotency_key": key,
        "created_at": now,
        "expires_at": now + timedelta(seconds=ttl_seconds),
        "meta": _db.json_value(meta),
    }
    try:
        async with sessions.begin() as session:
            return await _reserve(session, values)
    except _db.KeyTaken:
        async with sessions() as session:
            replayed = await _replay(session, key, user_id, amount)
        assert replayed is not None, "the key was taken, so its hold exists"
        return replayed


async def _reserve(session: AsyncSession, values: dict[str, Any]) -> HoldResult:
    user_id, amount = values["user_id"], values["amount_nanos"]
    if not await _gate(session, user_id, amount):
        # The rare path: a replay of a hold that still exists, or really not enough credits.
        replayed = await _replay(session, values["idempotency_key"], user_id, amount)
        if replayed is not None:
            return replayed
        if amount == 0:  # can only fail for want of an account row: a free call needs none
            await ensure_account(session, user_id)
            await _gate(session, user_id, amount)
        else:
            available = (await read_balance(session, user_id)).available_nanos
            raise InsufficientCredits(
                f"insufficient credits: this request may cost up to {format_usd(amount)} "
                f"but {format_usd(available)} is available"
            )
    insert = (
        _db.upsert(session, _db.holds)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(_db.holds.c.id)
    )
    try:
        inserted = (await session.execute(insert)).first()
    except IntegrityError as exc:
        if _db.violation(exc).kind == "foreign_key":
            raise NotFound(f"API key {values['api_token_id']} does not exist") from exc
        raise
    if inserted is None:
        raise _db.KeyTaken
    return HoldResult(values["id"], user_id, amount, values["expires_at"], replayed=False)


async def _gate(session: AsyncSession, user_id: int, amount: int) -> bool:
    """reserved += amount only where balance − reserved ≥ amount, in one atomic statement."""
    c = _db.credits.c
    statement = (
        update(_db.credits)
        .where(c.user_id == user_id, c.balance_nanos - c.reserved_nanos >= amount)
        .values(reserved_nanos=c.reserved_nanos + amount)
        .returning(c.user_id)
    )
    return (await session.execute(statement)).first() is not None


async def _replay(session: AsyncSession, key: str, user_id: int, amount: int) -> HoldResult | None:
    h = _db.holds.c
    row = (
        await session.execute(
            select(h.id, h.user_id, h.amount_nanos, h.expires_at).where(h.idempotency_key == key)
        )
    ).first()
    if row is None:
        return None
    if (row.user_id, row.amount_nanos) != (user_id, amount):
        raise Conflict(
            f"idempotency key {key!r} was already used for a different hold", code="IDEMPOTENCY_KEY_REUSED"
        )
    return HoldResult(row.id, row.user_id, row.amount_nanos, row.expires_at, replayed=True)


async def checkpoint(
    sessions: SessionFactory, *, hold_id: str, provisional_cost_nanos: int, extend_seconds: int | None = None
) -> None:
    """Record what a stream has delivered so far, so that if this process dies the sweeper
    bills that instead of nothing. The recorded cost only goes up (the highest checkpoint wins). ``extend_seconds`` pushes the expiry to at least now + that,
    so a long stream that is alive is not swept from under itself.

    A hold that is already settled or released has nothing left to protect: a no-op."""
    cost = _checks.nanos(provisional_cost_nanos, "provisional_cost_nanos")
    h = _db.holds.c
    async with sessions.begin() as session:
        values: dict[str, Any] = {"meta": _merge_provisional(session, cost)}
        if extend_seconds is not None:
            until = utcnow() + timedelta(seconds=_checks.positive_int(extend_seconds, "extend_seconds"))
            values["expires_at"] = case((h.expires_at < until, until), else_=h.expires_at)
        statement = (
            update(_db.holds).where(h.id == hold_id, h.status == "active").values(values).returning(h.id)
        )
        if (await session.execute(statement)).first() is None:
            await status_of(session, hold_id)  # NotFound for an unknown hold


# meta[provisional_cost_nanos] = max(what it was, :cost) in one statement, no read-modify-write.
# Delivered cost only grows, so taking the max makes checkpoints that arrive out of order
# (they may be fired from background tasks) harmless.
_MERGE_PROVISIONAL = {
    "postgresql": "CAST(COALESCE(CAST(meta AS jsonb), CAST('{}' AS jsonb)) || jsonb_build_object("
    "'provisional_cost_nanos', GREATEST(COALESCE(CAST(meta ->> 'provisional_cost_nanos' AS BIGINT), 0), :cost)"
    ") AS json)",
    "sqlite": "json_set(COALESCE(meta, '{}'), '$.provisional_cost_nanos', "
    "max(COALESCE(json_extract(meta, '$.provisional_cost_nanos'), 0), :cost))",
}


def _merge_provisional(session: AsyncSession, cost: int) -> TextClause:
    sql = _MERGE_PROVISIONAL[_db.dialect_name(session)]
    return text(sql).bindparams(bindparam("cost", cost, type_=BigInteger))


async def release(sessions: SessionFactory, *, hold_id: str, usage: UsageRecord | None = None) -> None:
    """Give the whole hold back (the call failed or cost nothing) and optionally log the request
    at cost 0. Releasing a released hold is a no-op; releasing a settled one is a Conflict."""
    if usage is not None:
        _checks.usage(usage)
    async with sessions.begin() as session:
        await release_in(session, hold_id=hold_id, usage=usage, now=utcnow())


async def release_in(
    session: AsyncSession, *, hold_id: str, usage: UsageRecord | None, now: datetime
) -> bool:
    """``release`` inside the caller's transaction; False when the hold was already released."""
    h, c = _db.holds.c, _db.credits.c
    row = (
        await session.execute(
            update(_db.holds)
            .where(h.id == hold_id, h.status == "active")
            .values(status="released", finished_at=now)
            .returning(h.user_id, h.amount_nanos)
        )
    ).first()
    if row is None:
        if await status_of(session, hold_id) == "settled":
            raise Conflict(f"hold {hold_id} is already settled; it cannot be released")
        return False
    check_owner(row, usage)
    await session.execute(
        update(_db.credits)
        .where(c.user_id == row.user_id)
        .values(reserved_nanos=c.reserved_nanos - row.amount_nanos)
    )
    if usage is not None:
        await write_usage(session, usage, cost_nanos=0, now=now)
    return True


async def status_of(session: AsyncSession, hold_id: str) -> str:
    status = (await session.execute(select(_db.holds.c.status).where(_db.holds.c.id == hold_id))).scalar()
    if status is None:
        raise NotFound(f"hold {hold_id} does not exist")
    return str(status)


def check_owner(hold_row: Row[Any], usage: UsageRecord | None) -> None:
    if usage is not None and usage.user_id != hold_row.user_id:
        raise InvalidRequest(f"the usage record's user {usage.user_id} does not own this hold")
