"""``modelsnest serve --workers N``: every worker gets a share of the keep-alive connections
(each listens on a SO_REUSEPORT socket of its own), and a second server cannot quietly share
a port that one already serves."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from modelsnest.cli import workers
from tests.live import start_server

pytestmark = pytest.mark.skipif(not workers.BALANCED, reason="SO_REUSEPORT is Linux/BSD only")


def established_on(port: int) -> set[str]:
    """Socket inodes of the established server-side TCP connections on ``port``."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        with open(table) as lines:
            next(lines)
            for line in lines:
                fields = line.split()
                local, state, inode = fields[1], fields[3], fields[9]
                if state == "01" and int(local.rsplit(":", 1)[1], 16) == port:
                    inodes.add(inode)
    return inodes


def sockets_of(pid: int) -> set[str]:
    found = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            found.add(target[8:-1])
    return found


def worker_pids(supervisor: int) -> list[int]:
    children = Path(f"/proc/{supervisor}/task/{supervisor}/children").read_text().split()
    return [int(pid) for pid in children if "spawn_main" in Path(f"/proc/{pid}/cmdline").read_text()]


async def open_keep_alive(port: int, count: int) -> list[asyncio.StreamWriter]:
    """``count`` connections opened at once and kept, as an SDK's or a gateway's pool does."""
    streams = await asyncio.gather(*(asyncio.open_connection("127.0.0.1", port) for _ in range(count)))
    request = b"GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    for _, writer in streams:
        writer.write(request)
    for reader, _ in streams:
        assert (await reader.readuntil(b"\r\n")).startswith(b"HTTP/1.1 200")
    return [writer for _, writer in streams]


async def closed(writers: list[asyncio.StreamWriter]) -> None:
    await asyncio.gather(*(writer.wait_closed() for writer in writers))


def test_keep_alive_connections_are_spread_over_every_worker(sqlite_url: str, tmp_path: Path) -> None:
    server = start_server(sqlite_url, tmp_path / "var", workers=2)
    loop = asyncio.new_event_loop()
    try:
        writers = loop.run_until_complete(open_keep_alive(server.port, 64))
        open_now = established_on(server.port)
        per_worker = [len(sockets_of(pid) & open_now) for pid in worker_pids(server.process.pid)]
        for writer in writers:
            writer.close()
        loop.run_until_complete(closed(writers))
    finally:
        loop.close()
        server.stop()
    assert len(per_worker) == 2 and sum(per_worker) == 64, per_worker
    # A hash over two sockets gives about 32 each; one shared accept queue gave one worker 51.
    assert min(per_worker) >= 16, f"connections per worker: {per_worker}"


def test_a_second_server_on_a_served_port_refuses_to_start(sqlite_url: str, tmp_path: Path) -> None:
    server = start_server(sqlite_url, tmp_path / "var", workers=2)
    try:
        env = {
            **os.environ,
            "MODELSNEST_DATABASE_URL": sqlite_url,
            "MODELSNEST_VAR_DIR": str(tmp_path / "var2"),
        }
        env["MODELSNEST_SECRET_KEY"] = "test-secret-key-" + "x" * 32
        second = subprocess.run(
            [sys.executable, "-m", "modelsnest", "serve", "--port", str(server.port), "--workers", "2"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        server.stop()
    assert second.returncode != 0
    assert "already served" in second.stderr + second.stdout
