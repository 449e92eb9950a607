"""The credit ledger: the only code that changes a balance.

Amounts are ``int`` nano-dollars everywhere (``modelsnest.money``). The one rounding rule also
lives there (``round_cost``: a request's exact cost is rounded **up** once, at settlement);
this package receives costs already rounded and never rounds again.

Invariants (checked by ``verify_invariants``; the database enforces the last two by CHECK):

* ``credit_transactions`` is append-only. Every balance change is exactly one row (signed
  amount, balance after, reference, unique idempotency key) written in the same database
  transaction as the matching ``user_credits`` update, so for every user, always:
  ``balance = Σ ledger rows`` and each row's ``balance_after`` is the running sum up to it.
* ``reserved = Σ amount of the user's active holds``.
* ``reserved ≥ 0`` and ``available = balance − reserved ≥ 0``: no amount of concurrency, across
  any number of replicas, can spend credits that are not there. The gate is a conditional
  ``UPDATE … WHERE balance − reserved ≥ amount``, never a read followed by a write.
  The one exception is a payment refund or reversal (``refund``): the payer has the money
  back, so the whole amount is taken even if it was spent, and available may go negative by
  what was taken beyond it (``user_credits.clawback_nanos``, CHECKed: available ≥ −clawback).
  An account in that debt can hold nothing until a top-up covers it.
* Every operation is one database transaction and idempotent: replaying a key returns the
  first result (``replayed=True``); reusing it for something else is a ``Conflict``.
* A hold ends exactly once (active → settled | released), so nothing is charged twice. A hold
  left behind by a crash is settled (at its last checkpoint) or released by the sweeper.
* Usage rollups and each API key's ``spent_nanos`` add up to the 'usage' ledger rows.

* A request with an ``Idempotency-Key`` has its answer stored by ``settle(reply=…)`` in the
  transaction that charges it: a retry finds the answer or finds nothing charged. A stored
  answer is never overwritten (a replayed settle writes nothing).

Flow of a billable request: ``hold`` (reserve the most it can cost) → upstream call →
``settle`` (exact cost, usage row, rollup, key spend, stored answer: one transaction) or
``release``. Long streams ``checkpoint`` what they have delivered so far. Usage rows say where
a call came from (``UsageRecord.origin``: api, playground, store); a call without an API key
(``api_token_id=None``) is rolled up under key 0.
"""

from modelsnest.billing.audit import verify_invariants
from modelsnest.billing.holds import checkpoint, hold, release
from modelsnest.billing.ledger import (
    adjust,
    ensure_account,
    get_balance,
    list_transactions,
    refund,
    refund_in,
    top_up,
    top_up_in,
)
from modelsnest.billing.settlement import settle
from modelsnest.billing.sweeper import run_sweeper, sweep_expired_holds
from modelsnest.billing.types import (
    Balance,
    HoldResult,
    SettleResult,
    StoredReply,
    SweepReport,
    TransactionResult,
    TransactionView,
    UsageRecord,
)
from modelsnest.billing.usage import record_usage

__all__ = [
    "Balance",
    "HoldResult",
    "SettleResult",
    "StoredReply",
    "SweepReport",
    "TransactionResult",
    "TransactionView",
    "UsageRecord",
    "adjust",
    "checkpoint",
    "ensure_account",
    "get_balance",
    "hold",
    "list_transactions",
    "record_usage",
    "refund",
    "refund_in",
    "release",
    "run_sweeper",
    "settle",
    "sweep_expired_holds",
    "top_up",
    "top_up_in",
    "verify_invariants",
]
