"""Several uvicorn workers with the connections spread evenly between them.

uvicorn's supervisor binds one listening socket and shares it: every worker accepts from the
same queue, and the one that is awake takes most of them. Keep-alive clients (SDKs, gateways,
load balancers) open their connections at once and keep them, so one worker ends up with most
of the traffic for as long as they live while the others idle: measured with 64 connections
and 2 workers, 51 went to one worker and 13 to the other, and throughput was that worker's.
Here each worker listens on a socket of its own, bound to the same address with SO_REUSEPORT,
and the kernel hashes each new connection to one of them. uvicorn has no option for this, so
its worker class is swapped for one that opens that socket; everything else (health checks,
restarts, signals) is uvicorn's. The supervisor keeps a bound, non-listening socket: the port
is taken (a second server fails to start) but it receives no connections."""

from __future__ import annotations

import errno
import socket

import uvicorn
from uvicorn.supervisors import multiprocess

BALANCED = hasattr(socket, "SO_REUSEPORT")


class _OwnSocketProcess(multiprocess.Process):
    def target(self, sockets: list[socket.socket] | None = None) -> None:  # runs in the worker
        super().target([_listening(self.config)])


def _socket(config: uvicorn.Config) -> socket.socket:
    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((config.host, config.port))
    return sock


def _listening(config: uvicorn.Config) -> socket.socket:
    sock = _socket(config)
    sock.listen(config.backlog)
    sock.set_inheritable(True)
    return sock


def _port_is_served(config: uvicorn.Config) -> bool:
    """SO_REUSEPORT would let a second server share a port another one listens on."""
    try:
        with socket.create_connection((config.host, config.port), timeout=0.5):
            return True
    except OSError:
        return False


def run(config: uvicorn.Config) -> None:
    """``uvicorn.run`` for ``config.workers`` > 1, one listening socket per worker."""
    if _port_is_served(config):
        raise OSError(errno.EADDRINUSE, f"{config.host}:{config.port} is already served by another process")
    reserved = _socket(config)
    multiprocess.Process = _OwnSocketProcess  # type: ignore[misc]
    try:
        multiprocess.Multiprocess(config, sockets=[reserved]).run()
    finally:
        reserved.close()
