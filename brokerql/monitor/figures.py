"""The live figures of this process (the MPM agent's side): streams, clients, operations, rates, and the
process itself (event-loop lag, CPU, memory, open files). Cheap to update on every request and push."""

from __future__ import annotations

import os
import resource
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from brokerql.monitor.messages import OperationFigures
from brokerql.store.database import after_commit

RATE_WINDOW_SECONDS = 10.0
LATENCY_SAMPLES = 512  # the newest samples of each operation that its percentiles are taken from


class RateMeter:
    """Events per second over the last RATE_WINDOW_SECONDS, in one-second buckets."""

    def __init__(self) -> None:
        self._buckets: deque[list[float]] = deque()  # [second, count]

    def add(self, count: int = 1, now: float | None = None) -> None:
        second = float(int(now if now is not None else time.monotonic()))
        if self._buckets and self._buckets[-1][0] == second:
            self._buckets[-1][1] += count
        else:
            self._buckets.append([second, float(count)])
        self._trim(second)

    def _trim(self, now: float) -> None:
        while self._buckets and self._buckets[0][0] <= now - RATE_WINDOW_SECONDS:
            self._buckets.popleft()

    def per_second(self, now: float | None = None) -> float:
        now = now if now is not None else time.monotonic()
        self._trim(now)
        return round(sum(c for _s, c in self._buckets) / RATE_WINDOW_SECONDS, 2)


def _percentile(ordered: list[float], q: float) -> float:
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return round(ordered[index] * 1000, 3)


@dataclass
class _Operation:
    requests: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    latencies: deque[float] = field(default_factory=lambda: deque(maxlen=LATENCY_SAMPLES))


class ProcessUsage:
    """CPU since the last reading, resident memory and open descriptors, from /proc where it exists."""

    def __init__(self) -> None:
        self._last = (time.monotonic(), self._cpu_seconds())

    @staticmethod
    def _cpu_seconds() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    def cpu_percent(self) -> float:
        now, cpu = time.monotonic(), self._cpu_seconds()
        then, before = self._last
        self._last = (now, cpu)
        return round(100 * (cpu - before) / (now - then), 1) if now > then else 0.0

    @staticmethod
    def rss_bytes() -> int:
        try:
            with open("/proc/self/statm") as statm:
                return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:  # not Linux: the peak is the best the standard library offers
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    @staticmethod
    def open_files() -> int:
        try:
            return len(os.listdir("/proc/self/fd"))
        except OSError:
            return 0


class ProcessFigures:
    """Counters updated by the request pipeline, the subscriptions and the exchange of this process."""

    def __init__(self) -> None:
        self.connections = 0
        self.streams: Counter[str] = Counter()  # root field -> open streams
        self._client_streams: dict[str, Counter[str]] = defaultdict(Counter)  # client id -> kind -> n
        self._operations: dict[str, _Operation] = defaultdict(_Operation)
        self.orders = RateMeter()
        self.fills = RateMeter()
        self.pushes = RateMeter()
        self.loop_lag_ms = 0.0
        self.usage = ProcessUsage()

    # -- streams and clients ------------------------------------------------------------------------
    @contextmanager
    def stream(self, kind: str, client_id: str | None) -> Iterator[None]:
        """Count an open subscription of `kind` (and, for a client, the client as online) while it lasts."""
        self.streams[kind] += 1
        if client_id:
            self._client_streams[client_id][kind] += 1
        try:
            yield
        finally:
            self.streams[kind] -= 1
            if client_id:
                kinds = self._client_streams[client_id]
                kinds[kind] -= 1
                if kinds[kind] <= 0:
                    del kinds[kind]
                if not kinds:
                    del self._client_streams[client_id]

    def clients(self) -> tuple[int, int, int]:
        """(online, trading, quote-only): a client following its orders trades; one with quotes only does not."""
        trading = sum(1 for kinds in self._client_streams.values() if "orderEvents" in kinds)
        online = len(self._client_streams)
        return online, trading, online - trading

    # -- operations ---------------------------------------------------------------------------------
    def record_operation(self, operation: str, seconds: float, codes: list[str]) -> None:
        figures = self._operations[operation]
        figures.requests += 1
        figures.latencies.append(seconds)
        for code in codes or ["OK"]:
            figures.outcomes[code] += 1

    def operations(self) -> list[OperationFigures]:
        result = []
        for name, figures in sorted(self._operations.items()):
            ordered = sorted(figures.latencies)
            result.append(
                OperationFigures(
                    operation=name,
                    requests=figures.requests,
                    outcomes=dict(figures.outcomes),
                    p50_ms=_percentile(ordered, 0.5),
                    p95_ms=_percentile(ordered, 0.95),
                    p99_ms=_percentile(ordered, 0.99),
                )
            )
        return result


class FillCounter:
    """The exchange's booker (the trading service), counting the executions (TRADE reports) it books."""

    def __init__(self, booker: Any) -> None:
        self.booker = booker
        self.on_booked: Callable[[int], None] = lambda _count: None
        self.on_group: Callable[[int], None] = lambda _orders: None  # orders booked in one call

    async def book(self, reports: Sequence[Any]) -> None:
        await self.booker.book(reports)
        trades = sum(1 for report in reports if report.is_trade)
        self.on_booked(trades)
        if trades:
            self.on_group(1)

    async def book_together(self, batches: Sequence[Sequence[Any]]) -> None:
        await self.booker.book_together(batches)
        self._count(batches)

    async def book_together_in(self, uow: Any, batches: Sequence[Sequence[Any]]) -> None:
        await self.booker.book_together_in(uow, batches)
        after_commit(uow.session, lambda: self._count(batches))  # counted once they are booked for good

    def _count(self, batches: Sequence[Sequence[Any]]) -> None:
        self.on_booked(sum(len(batch) for batch in batches))
        self.on_group(len(batches))
