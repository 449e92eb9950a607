"""Create N funded benchmark accounts, one API key each, through the same services the CLI
calls; print one ``Bearer <key>`` line per account (the load generator's ``--auth-file``).

    python bench/accounts.py 64 > auth.txt      # MODELSNEST_DATABASE_URL etc. from the environment
"""

from __future__ import annotations

import sys

from modelsnest.auth.api_keys import create_key
from modelsnest.auth.users import create_user
from modelsnest.cli.core import run
from modelsnest.runtime import Runtime

CREDITS_NANOS = 1_000_000 * 10**9  # $1,000,000 each: no run exhausts it


def main(count: int) -> None:
    async def work(rt: Runtime) -> list[str]:
        tokens = []
        for i in range(count):
            user = await create_user(
                rt.sessions, email=f"bench{i}@modelsnest.local", credits_nanos=CREDITS_NANOS
            )
            _, token = await create_key(rt.sessions, user_id=user.id, name=f"bench {i}")
            tokens.append(token)
        return tokens

    for token in run(work):
        print(f"Bearer {token}")


if __name__ == "__main__":
    main(int(sys.argv[1]))
