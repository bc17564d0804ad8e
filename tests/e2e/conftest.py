"""Served processes: `brokerql serve` / `brokerql exchange` started as real subprocesses."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
BROKERQL = [sys.executable, "-m", "brokerql.cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Served:
    """One `brokerql serve` process; `kill()` is a crash (SIGKILL), `stop()` a clean shutdown."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.port = int(env["BROKERQL_PORT"])
        self.url = f"http://127.0.0.1:{self.port}/graphql"
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> Served:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen([*BROKERQL, "serve"], env=self.env, cwd=ROOT, stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"brokerql serve exited: {self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"brokerql serve did not become healthy: {self.log_path.read_text()[-3000:]}")

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def gql(self, query: str, variables: dict | None = None, token: str | None = None) -> dict:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        response = httpx.post(
            self.url, json={"query": query, "variables": variables or {}}, headers=headers, timeout=10
        )
        assert response.status_code == 200, response.text
        return response.json()

    def login(self, username: str, password: str = "Demo#2026") -> str:
        result = self.gql(
            "mutation($u: String!, $p: String!) "
            "{ login(input: {username: $u, password: $p}) { accessToken errors { code } } }",
            {"u": username, "p": password},
        )
        return result["data"]["login"]["accessToken"]


def serve_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BROKERQL_")}
    env.update(
        BROKERQL_PORT=str(free_port()),
        BROKERQL_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'served.db'}",
        BROKERQL_DEMO="1",
        BROKERQL_SECRET_KEY="e2e-secret-key-0123456789-abcdefghijklmnop",
        BROKERQL_HEARTBEAT_SECONDS="1",
        BROKERQL_ARGON2_TIME_COST="1",
        BROKERQL_ARGON2_MEMORY_KIB="8",
        BROKERQL_MARKET_WARMUP_STEPS="20",
    )
    env.update(extra)
    return env


@pytest.fixture
def served_factory(tmp_path: Path) -> Iterator:  # type: ignore[type-arg]
    started: list[Served] = []

    def make(name: str = "a", **extra: str) -> Served:
        served = Served(serve_env(tmp_path, **extra), tmp_path / f"{name}.log")
        started.append(served)
        return served

    yield make
    for served in started:
        served.stop()
