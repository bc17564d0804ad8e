"""The typed messages of operations: what a process publishes about itself, and the control signals
operators send to every process. msgspec Structs; the ones that cross the bus are registered in the
bus codec (versioned envelopes; an unreadable one is parked, never half-read)."""

from __future__ import annotations

from typing import Any, Literal, TypeVar

import msgspec

from brokerql.bus import codec

T = TypeVar("T")


class OperationFigures(msgspec.Struct, frozen=True):
    """Requests, outcomes by code and latency percentiles of one GraphQL root field in one process."""

    operation: str
    requests: int
    outcomes: dict[str, int]  # "OK" or an error code -> count
    p50_ms: float
    p95_ms: float
    p99_ms: float


class ProcessStats(msgspec.Struct, frozen=True):
    """One process's live figures, published every few seconds (the MPM agent's report)."""

    id: str
    role: str  # "api", "exchange", "api+exchange"; a hot-standby exchange reports "standby" for "exchange"
    version: str
    started_at: float  # epoch seconds
    published_at: float
    url: str | None
    draining: bool
    connections: int
    subscriptions: dict[str, int]  # root field -> open streams
    clients_online: int
    trading_clients: int
    quote_only_clients: int
    operations: list[OperationFigures]
    orders_per_second: float
    fills_per_second: float
    pushes_per_second: float
    quote_age_seconds: float | None
    loop_lag_ms: float
    cpu_percent: float
    rss_bytes: int
    open_files: int
    bus_lag_ms: float | None
    outbox_backlog: int | None
    db_pool_in_use: int | None

    @property
    def subscription_count(self) -> int:
        return sum(self.subscriptions.values())

    @property
    def serves_api(self) -> bool:
        return "api" in self.role.split("+")

    @property
    def runs_exchange(self) -> bool:
        return "exchange" in self.role.split("+")


class Control(msgspec.Struct, frozen=True):
    """An operator's signal to every process (topic `ops.control`); `target` "*" means all processes."""

    kind: Literal["halts", "drain", "undrain", "close_client", "pause_simulator", "resume_simulator", "rules"]
    target: str = "*"
    subject: str | None = None  # close_client: the client id


class AlertNotice(msgspec.Struct, frozen=True):
    """An alert raised or cleared (topic `ops.alerts`): wakes monitorStats subscribers at once."""

    alert_id: str
    rule: str
    raised: bool


class BusProbe(msgspec.Struct, frozen=True):
    """A timestamped message a process sends to itself through the bus to measure the bus's lag."""

    process: str
    sent_at: float


codec.register("OpsControl", Control, 1)
codec.register("OpsAlertNotice", AlertNotice, 1)
codec.register("OpsBusProbe", BusProbe, 1)


def encode(message: msgspec.Struct) -> codec.Record:
    """The codec's envelope as JSON-able builtins: what the pub/sub topics `ops.*` carry."""
    return codec.to_record(message)


def decode(message: Any, kind: type[T]) -> T | None:
    """The typed message in an `ops.*` envelope; None when it is unreadable (parked) or another kind."""
    found = codec.from_record(message) if isinstance(message, dict) else message
    return found if isinstance(found, kind) else None


def decode_stats(data: bytes | str) -> ProcessStats:
    return msgspec.json.decode(data, type=ProcessStats)
