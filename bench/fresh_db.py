"""Drop and create a PostgreSQL database for a benchmark run; print its URL.

python bench/fresh_db.py postgresql://postgres@127.0.0.1:5432/test modelsnest_bench
# -> postgresql://postgres@127.0.0.1:5432/modelsnest_bench
"""

from __future__ import annotations

import asyncio
import sys

import asyncpg


async def recreate(server_url: str, name: str) -> None:
    connection = await asyncpg.connect(server_url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


def main(server_url: str, name: str) -> None:
    asyncio.run(recreate(server_url, name))
    print(f"{server_url.rsplit('/', 1)[0]}/{name}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
