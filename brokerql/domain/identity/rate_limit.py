"""A4 limits: requests per minute (fixed window per client) and concurrent subscriptions. Pure, no I/O.

A request budget is counted in fixed windows of `WINDOW_SECONDS` (the minute in which the request
arrived, from the caller's clock). A fixed window is what Redis shares cheaply between processes
(INCR of one key per client per window, expiring with the window), and the in-process store uses the
same arithmetic, so both backends answer alike. Within one window a client gets at most its budget;
across a window boundary it may burst to twice its budget for a moment, which is accepted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from brokerql.domain.identity._time import require_aware

WINDOW_SECONDS = 60


@dataclass(frozen=True, slots=True)
class Window:
    """One counting window: its number (seconds since the epoch // length) and seconds left in it."""

    number: int
    remaining_seconds: float


def window_of(now: datetime, length: int = WINDOW_SECONDS) -> Window:
    stamp = require_aware(now).timestamp()
    number = int(stamp // length)
    return Window(number, (number + 1) * length - stamp)


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether one more request may go through, and when to retry (whole seconds, at least 1) if not."""

    allowed: bool
    retry_after: int = 0
    count: int = 0
    limit: int = 0


def decide(count: int, limit: int, window: Window) -> Decision:
    """`count` is the number of requests in `window` including this one."""
    if count <= limit:
        return Decision(True, 0, count, limit)
    return Decision(False, max(1, math.ceil(window.remaining_seconds)), count, limit)


def scaled(limit: int, scale: float) -> int:
    """A configured limit multiplied by a deployment-wide scale (tests raise it), at least 1."""
    return max(1, int(limit * scale))


class WindowCounts:
    """In-process request counts per (key, window); windows older than the current one are dropped."""

    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, int]] = {}

    def hit(self, key: str, window: Window) -> int:
        number, count = self._counts.get(key, (window.number, 0))
        count = count + 1 if number == window.number else 1
        self._counts[key] = (window.number, count)
        if len(self._counts) > 100_000:  # keys of idle clients: keep only the current window's
            self._counts = {k: v for k, v in self._counts.items() if v[0] == window.number}
        return count


class SlotCounts:
    """Concurrent holders per key (open subscriptions per client), bounded by a limit when acquiring."""

    def __init__(self) -> None:
        self._held: dict[str, int] = {}

    def held(self, key: str) -> int:
        return self._held.get(key, 0)

    def acquire(self, key: str, limit: int) -> bool:
        current = self._held.get(key, 0)
        if current >= limit:
            return False
        self._held[key] = current + 1
        return True

    def release(self, key: str) -> None:
        current = self._held.get(key, 0) - 1
        if current > 0:
            self._held[key] = current
        else:
            self._held.pop(key, None)


# Leased allowance (services/allowances.py): a process takes at most this share of the room left under a
# limit in one lease, so that several processes leasing at once still leave room for each other.
LEASE_SHARE = 8


def lease_wanted(used: float, held: float, unit: float, *, minimum: int = 8) -> float:
    """How much more allowance a process should lease for one caller: enough to serve two settlement
    intervals at the pace of the last one (`used` in it) without a round trip, less what it `held`;
    `minimum` requests' worth (`unit` each) when it has no pace yet (its first round trip)."""
    pace = 2 * used if used > 0 else minimum * unit
    return max(0.0, pace - held)
