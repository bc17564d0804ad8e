"""`brokerql serve --workers N`: N API processes, each listening on the port with a socket of its own.

uvicorn's own supervisor binds one socket and hands it to every worker; the workers then race to
accept each connection, and whichever is awake takes it. Under a burst of new keep-alive connections
(a load test's start, clients reconnecting after a restart) one worker could take most of them and keep
them for as long as they lived: in one run of five of `bench/bench_query_path.py --workers 2` the two
workers used 113% of the two cores between them. Here each worker binds its own socket with
`SO_REUSEPORT`, and the kernel spreads new connections over the sockets by their addresses' hash.

The supervisor starts the workers (spawned, each building its app from the environment), restarts one
that dies, and on SIGINT or SIGTERM asks each to stop (SIGTERM: uvicorn's graceful shutdown), killing
what is still running after `STOP_SECONDS`. A worker that dies within `EARLY_EXIT_SECONDS` of its start
(the port taken by another program, a broken configuration) stops the whole deployment instead of
being restarted in a loop.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import threading
import time
from multiprocessing.context import SpawnProcess
from typing import Any

log = logging.getLogger(__name__)

STOP_SECONDS = 30.0
EARLY_EXIT_SECONDS = 5.0
_spawn = multiprocessing.get_context("spawn")


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket on `host:port` that other sockets with `SO_REUSEPORT` may share (the kernel balances)."""
    family, kind, proto, _name, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(address)
    sock.set_inheritable(True)
    return sock


def _worker(config: dict[str, Any]) -> None:
    """One API process: its own socket, then uvicorn's server on it (it handles SIGTERM and SIGINT)."""
    from brokerql.monitor.heap import limit_arenas
    from brokerql.settings import load_settings

    limit_arenas(load_settings().malloc_arena_max)  # a fresh interpreter: before its first thread
    import uvicorn

    sock = listening_socket(config["host"], config["port"])
    server_config = uvicorn.Config(**config)
    server_config.configure_logging()
    uvicorn.Server(server_config).run(sockets=[sock])


class Workers:
    """The worker processes of one `brokerql serve --workers N`."""

    def __init__(self, count: int, config: dict[str, Any]) -> None:
        self.count, self.config = count, config
        self.processes: dict[int, tuple[SpawnProcess, float]] = {}  # slot -> process, monotonic start
        self.stopping = threading.Event()

    def run(self) -> int:
        """Serve until SIGINT or SIGTERM (exit status 0), or until a worker dies early (status 1)."""
        if (taken := _port_taken(self.config["host"], self.config["port"])) is not None:
            # With SO_REUSEPORT a second deployment of the same user would share the port silently.
            log.error("cannot serve on %s:%s: %s", self.config["host"], self.config["port"], taken)
            return 1
        previous = {
            sig: signal.signal(sig, lambda *_args: self.stopping.set()) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            return self._supervise()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _supervise(self) -> int:
        for slot in range(self.count):
            self._start(slot)
        status = 0
        while not self.stopping.wait(0.5):
            for slot, (process, started) in list(self.processes.items()):
                if process.is_alive():
                    continue
                if time.monotonic() - started < EARLY_EXIT_SECONDS:
                    log.error("worker %d exited at start (status %s); stopping", process.pid, process.exitcode)
                    self.stopping.set()
                    status = 1
                    break
                log.warning("worker %d died (status %s); starting another", process.pid, process.exitcode)
                self._start(slot)
        self._stop_all()
        return status

    def _start(self, slot: int) -> None:
        process = _spawn.Process(target=_worker, args=(self.config,), name=f"brokerql-worker-{slot}")
        process.start()
        self.processes[slot] = (process, time.monotonic())
        log.info("started worker %d", process.pid)

    def _stop_all(self) -> None:
        for process, _started in self.processes.values():
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes what it serves, then the app's shutdown
        deadline = time.monotonic() + STOP_SECONDS
        for process, _started in self.processes.values():
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                log.warning("worker %d did not stop within %.0fs; killing it", process.pid, STOP_SECONDS)
                process.kill()
                process.join()


def _port_taken(host: str, port: int) -> str | None:
    """Why the port cannot be ours (any socket bound to it, shared or not), or None."""
    family, kind, proto, _name, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a closed server's TIME_WAIT is fine
        try:
            probe.bind(address)
        except OSError as exc:
            return str(exc)
    return None
