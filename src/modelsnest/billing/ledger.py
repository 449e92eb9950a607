"""Balance changes that are not request usage: top-ups, admin adjustments, payment refunds;
and reading balances and the ledger. ``top_up_in`` / ``refund_in`` do the same inside a
caller's transaction (payments commit their status, raw event and ledger row together).

Each write is one database transaction that updates ``user_credits`` and appends exactly one
``credit_transactions`` row. The row is inserted *after* the balance update, so on PostgreSQL
it is written while the user's credits row is locked: a user's row ids follow the order of
the balances they record, which ``verify_invariants`` relies on to check ``balance_after``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from modelsnest.billing import _checks, _db
from modelsnest.billing.types import OVERDRAFT, Balance, TransactionResult, TransactionView
from modelsnest.db.base import utcnow
from modelsnest.db.engine import SessionFactory
from modelsnest.errors import Conflict, InsufficientCredits, InvalidRequest, NotFound
from modelsnest.money import format_usd

TOP_UP_TYPES: Final = frozenset({"topup", "bonus", "refund"})


async def ensure_account(session: AsyncSession, user_id: int) -> None:
    """Create the user's ``user_credits`` row if missing, inside the caller's transaction."""
    statement = (
        _db.upsert(session, _db.credits)
        .values(user_id=user_id, balance_nanos=0, reserved_nanos=0, updated_at=utcnow())
        .on_conflict_do_nothing(index_elements=["user_id"])
    )
    try:
        await session.execute(statement)
    except IntegrityError as exc:
        if _db.violation(exc).kind == "foreign_key":
            raise NotFound(f"user {user_id} does not exist") from exc
        raise


@dataclass(frozen=True)
class _Entry:
    """One ledger row to post. ``requested`` is what the caller asked for, the part of the
    row a replay must match (a payment refund may post less, see ``refund``)."""

    user_id: int
    type: str
    requested: int
    key: str
    reference_type: str | None = None
    reference_id: str | None = None
    description: str | None = None
    actor: str | None = None
    meta: dict[str, Any] | None = None


async def top_up(
    sessions: SessionFactory,
    *,
    user_id: int,
    amount_nanos: int,
    idempotency_key: str,
    type: str = "topup",
    reference_type: str | None = None,
    reference_id: str | None = None,
    description: str | None = None,
    actor: str | None = None,
    meta: dict[str, Any] | None = None,
) -> TransactionResult:
    """Add credits (a confirmed payment, a bonus, a credit refund). Creates the account."""
    if type not in TOP_UP_TYPES:
        raise InvalidRequest(f"type must be one of {sorted(TOP_UP_TYPES)}", param="type")
    entry = _Entry(
        user_id=_checks.positive_int(user_id, "user_id"),
        type=type,
        requested=_checks.nanos(amount_nanos, "amount_nanos", minimum=1),
        key=_checks.key(idempotency_key),
        reference_type=_checks.optional_text(reference_type, "reference_type", 32),
        reference_id=_checks.optional_text(reference_id, "reference_id", 128),
        description=description,
        actor=_checks.optional_text(actor, "actor", 120),
        meta=meta,
    )
    return await _post(sessions, entry)


async def adjust(
    sessions: SessionFactory,
    *,
    user_id: int,
    amount_nanos: int,
    reason: str,
    actor: str,
    idempotency_key: str,
    allow_negative: bool = False,
) -> TransactionResult:
    """An operator's signed correction. A debit may take only what is available (not what
    in-flight calls reserved): InsufficientCredits otherwise — unless ``allow_negative``: the
    operator chose to let it overdraw. Such a row has ``reference_type`` ``admin_overdraft``
    and, like a payment refund, adds what it took beyond what was available to
    ``clawback_nanos`` (the debt ``verify_invariants`` accepts)."""
    requested = _checks.signed_nanos(amount_nanos, "amount_nanos")
    entry = _Entry(
        user_id=_checks.positive_int(user_id, "user_id"),
        type="adjustment",
        requested=requested,
        key=_checks.key(idempotency_key),
        reference_type=OVERDRAFT if allow_negative and requested < 0 else "admin",
        reference_id=_checks.text(actor, "actor", 120),
        description=_checks.text(reason, "reason", 2000),
        actor=actor,
    )
    return await _post(sessions, entry)


async def refund(
    sessions: SessionFactory,
    *,
    user_id: int,
    amount_nanos: int,
    payment_id: str,
    idempotency_key: str,
    description: str | None = None,
    actor: str | None = None,
) -> TransactionResult:
    """Take back the credits of a refunded (or reversed) payment: a negative ``payment_refund``
    row of the whole amount.

    The money has already gone back to the payer, so this is never refused, and it takes the
    whole amount even when the user has spent or reserved part of it: available credit then
    goes below zero (the account owes it, and no hold succeeds until a top-up covers it). What
    was taken beyond what was available is added to ``user_credits.clawback_nanos`` and kept
    in the row's meta as ``uncovered_nanos``. This is the only way available goes negative."""
    entry = _refund_entry(user_id, amount_nanos, payment_id, idempotency_key, description, actor)
    return await _post(sessions, entry)


async def top_up_in(
    session: AsyncSession,
    *,
    user_id: int,
    amount_nanos: int,
    idempotency_key: str,
    type: str = "topup",
    reference_type: str | None = None,
    reference_id: str | None = None,
    description: str | None = None,
    actor: str | None = None,
    meta: dict[str, Any] | None = None,
) -> TransactionResult:
    """``top_up`` inside the caller's transaction, so a payment's status, its raw event and
    its ledger row commit together. Same checks, same replay; if a concurrent transaction
    commits the same key first, raises ``KeyTaken``: the caller rolls back and retries."""
    if type not in TOP_UP_TYPES:
        raise InvalidRequest(f"type must be one of {sorted(TOP_UP_TYPES)}", param="type")
    entry = _Entry(
        user_id=_checks.positive_int(user_id, "user_id"),
        type=type,
        requested=_checks.nanos(amount_nanos, "amount_nanos", minimum=1),
        key=_checks.key(idempotency_key),
        reference_type=_checks.optional_text(reference_type, "reference_type", 32),
        reference_id=_checks.optional_text(reference_id, "reference_id", 128),
        description=description,
        actor=_checks.optional_text(actor, "actor", 120),
        meta=meta,
    )
    return await _replay(session, entry) or await _apply(session, entry)


async def refund_in(
    session: AsyncSession,
    *,
    user_id: int,
    amount_nanos: int,
    payment_id: str,
    idempotency_key: str,
    description: str | None = None,
    actor: str | None = None,
) -> TransactionResult:
    """``refund`` inside the caller's transaction (``KeyTaken`` as for ``top_up_in``)."""
    entry = _refund_entry(user_id, amount_nanos, payment_id, idempotency_key, description, actor)
    return await _replay(session, entry) or await _apply(session, entry)


def _refund_entry(
    user_id: int,
    amount_nanos: int,
    payment_id: str,
    idempotency_key: str,
    description: str | None,
    actor: str | None,
) -> _Entry:
    return _Entry(
        user_id=_checks.positive_int(user_id, "user_id"),
        type="payment_refund",
        requested=-_checks.nanos(amount_nanos, "amount_nanos", minimum=1),
        key=_checks.key(idempotency_key),
        reference_type="payment",
        reference_id=_checks.text(payment_id, "payment_id", 128),
        description=description,
        actor=_checks.optional_text(actor, "actor", 120),
    )


async def _post(sessions: SessionFactory, entry: _Entry) -> TransactionResult:
    try:
        async with sessions.begin() as session:
            # Not the hot path: looking the key up first keeps a replay from tripping the gate.
            return await _replay(session, entry) or await _apply(session, entry)
    except _db.KeyTaken:
        async with sessions.begin() as session:
            replayed = await _replay(session, entry)
        assert replayed is not None, "the key was taken, so its row exists"
        return replayed


async def _apply(session: AsyncSession, entry: _Entry) -> TransactionResult:
    amount, meta = entry.requested, entry.meta
    if entry.type == "payment_refund" or (entry.type == "adjustment" and entry.reference_type == OVERDRAFT):
        balance, uncovered = await _take_back(session, entry.user_id, -entry.requested)
        if uncovered:
            meta = {**(meta or {}), "uncovered_nanos": uncovered}
    elif amount > 0:
        await ensure_account(session, entry.user_id)
        balance = await _change(session, entry.user_id, amount)
    else:
        balance = await _change(session, entry.user_id, amount, gate=True)
    row = (
        await session.execute(
            _db.upsert(session, _db.ledger)
            .values(
                user_id=entry.user_id,
                type=entry.type,
                amount_nanos=amount,
                balance_after_nanos=balance,
                reference_type=entry.reference_type,
                reference_id=entry.reference_id,
                idempotency_key=entry.key,
                description=entry.description,
                actor=entry.actor,
                meta=_db.json_value(meta),
            )
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
            .returning(_db.ledger.c.id)
        )
    ).first()
    if row is None:
        raise _db.KeyTaken
    return TransactionResult(row.id, entry.user_id, amount, balance, replayed=False)


async def _change(session: AsyncSession, user_id: int, amount: int, *, gate: bool = False) -> int:
    """balance += amount, returning the new balance. With ``gate``, only if available covers it."""
    c = _db.credits.c
    statement = update(_db.credits).where(c.user_id == user_id)
    if gate:
        statement = statement.where(c.balance_nanos - c.reserved_nanos + amount >= 0)
    balance = (
        await session.execute(
            statement.values(balance_nanos=c.balance_nanos + amount).returning(c.balance_nanos)
        )
    ).scalar()
    if balance is None:
        available = (await read_balance(session, user_id)).available_nanos
        raise InsufficientCredits(
            f"cannot debit {format_usd(-amount)}: only {format_usd(available)} is available"
        )
    return int(balance)


async def _take_back(session: AsyncSession, user_id: int, amount: int) -> tuple[int, int]:
    """balance −= amount, unconditionally; returns (balance after, the part of the amount that
    was not available), which is added to ``clawback_nanos``.

    The row is locked first (FOR UPDATE; SQLite's BEGIN IMMEDIATE already serializes) so the
    available amount read is the one the update sees."""
    c = _db.credits.c
    await ensure_account(session, user_id)
    current = (
        await session.execute(
            select(c.balance_nanos, c.reserved_nanos).where(c.user_id == user_id).with_for_update()
        )
    ).one()
    covered = max(0, min(amount, current.balance_nanos - current.reserved_nanos))
    uncovered = amount - covered
    balance = (
        await session.execute(
            update(_db.credits)
            .where(c.user_id == user_id)
            .values(balance_nanos=c.balance_nanos - amount, clawback_nanos=c.clawback_nanos + uncovered)
            .returning(c.balance_nanos)
        )
    ).scalar_one()
    return int(balance), uncovered


async def _replay(session: AsyncSession, entry: _Entry) -> TransactionResult | None:
    l = _db.ledger.c  # noqa: E741
    row = (
        await session.execute(
            select(l.id, l.user_id, l.type, l.amount_nanos, l.balance_after_nanos, l.meta).where(
                l.idempotency_key == entry.key
            )
        )
    ).first()
    if row is None:
        return None
    requested = row.amount_nanos
    if row.type == "payment_refund" and row.meta:
        requested = -int(row.meta.get("requested_nanos", -row.amount_nanos))
    if (row.user_id, row.type, requested) != (entry.user_id, entry.type, entry.requested):
        raise Conflict(
            f"idempotency key {entry.key!r} was already used for a different operation",
            code="IDEMPOTENCY_KEY_REUSED",
        )
    return TransactionResult(row.id, row.user_id, row.amount_nanos, row.balance_after_nanos, replayed=True)


async def read_balance(session: AsyncSession, user_id: int) -> Balance:
    """The user's balance inside the caller's transaction."""
    c = _db.credits.c
    row = (
        await session.execute(select(c.balance_nanos, c.reserved_nanos).where(c.user_id == user_id))
    ).first()
    if row is None:
        return Balance(user_id, 0, 0)  # no account yet: nothing bought, nothing reserved
    return Balance(user_id, int(row.balance_nanos), int(row.reserved_nanos))


async def get_balance(sessions: SessionFactory, user_id: int) -> Balance:
    async with sessions() as session:
        return await read_balance(session, user_id)


async def list_transactions(
    sessions: SessionFactory, user_id: int, *, limit: int = 50, before_id: int | None = None
) -> list[TransactionView]:
    """Newest first; pass the last id seen as ``before_id`` for the next page."""
    if not _checks.is_int(limit) or not 1 <= limit <= 500:
        raise InvalidRequest("limit must be between 1 and 500", param="limit")
    if before_id is not None and not _checks.is_int(before_id):
        raise InvalidRequest("before_id must be a transaction id", param="before_id")
    l = _db.ledger.c  # noqa: E741
    statement = select(_db.ledger).where(l.user_id == user_id).order_by(l.id.desc()).limit(limit)
    if before_id is not None:
        statement = statement.where(l.id < before_id)
    async with sessions() as session:
        rows = (await session.execute(statement)).all()
    return [
        TransactionView(
            id=r.id,
            user_id=r.user_id,
            type=r.type,
            amount_nanos=r.amount_nanos,
            balance_after_nanos=r.balance_after_nanos,
            reference_type=r.reference_type,
            reference_id=r.reference_id,
            description=r.description,
            actor=r.actor,
            meta=r.meta,
            created_at=r.created_at,
        )
        for r in rows
    ]
