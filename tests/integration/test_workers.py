"""`brokerql serve --workers N` (`api/workers.py`): a port another socket holds is refused before any
worker starts, a worker that dies at start stops the deployment (no restart loop), and each worker's
socket shares the port with the others'."""

from __future__ import annotations

import socket

from brokerql.api.workers import Workers, listening_socket


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_port_held_by_another_socket_is_refused() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        assert Workers(2, {"host": "127.0.0.1", "port": port, "app": "brokerql.api.app:create_worker_app"}).run() == 1


def test_a_worker_that_dies_at_start_stops_the_deployment() -> None:
    workers = Workers(2, {"host": "127.0.0.1", "port": _free_port(), "app": "brokerql.no_such_module:app"})
    assert workers.run() == 1
    assert all(not process.is_alive() for process, _started in workers.processes.values())


def test_the_workers_sockets_share_the_port() -> None:
    port = _free_port()
    first, second = listening_socket("127.0.0.1", port), listening_socket("127.0.0.1", port)
    try:
        first.listen()
        second.listen()
        assert first.getsockname() == second.getsockname()
    finally:
        first.close()
        second.close()
