"""After a benchmark: did every answered request get billed exactly once? Prints one JSON line:
usage rows by status, the sum charged, holds still open, and the ledger audit's problems
(balance = Σ ledger, reserved = Σ active holds, every usage row's cost in the ledger) for
every account. Exit status 1 on any problem, or when ``--answered N`` (the load generators'
count of 200 answers) differs from the successful usage rows.

    python bench/check_ledger.py --answered 123456     # MODELSNEST_DATABASE_URL from the environment
"""

from __future__ import annotations

import argparse
import json
import sys

from sqlalchemy import func, select

from modelsnest import billing
from modelsnest.cli.core import run
from modelsnest.db.models import CreditHold, UsageLog
from modelsnest.runtime import Runtime


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--answered", type=int, help="200 answers the load generators counted")
    args = parser.parse_args()

    async def work(rt: Runtime) -> dict[str, object]:
        async with rt.sessions() as session:
            by_status = dict(
                (await session.execute(select(UsageLog.status, func.count()).group_by(UsageLog.status))).all()
            )
            charged = (await session.scalar(select(func.coalesce(func.sum(UsageLog.cost_nanos), 0)))) or 0
            free = await session.scalar(
                select(func.count()).where(UsageLog.status == "success", UsageLog.cost_nanos == 0)
            )
            open_holds = await session.scalar(select(func.count()).where(CreditHold.status == "active"))
        problems = await billing.verify_invariants(rt.sessions)
        return {
            "usage_rows": by_status,
            "charged_nanos": int(charged),
            "free_successes": free,
            "open_holds": open_holds,
            "answered_200": args.answered,
            "problems": problems[:20],
        }

    report = run(work)
    print(json.dumps(report))
    success = report["usage_rows"].get("success", 0)  # type: ignore[attr-defined]
    mismatch = args.answered is not None and success != args.answered
    sys.exit(1 if report["problems"] or report["open_holds"] or report["free_successes"] or mismatch else 0)


if __name__ == "__main__":
    main()
