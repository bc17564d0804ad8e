"""Identity use cases (A1-A6, F1): login security, sessions, operators, back office, tiers, grading.

Each service opens a unit of work, loads rows, calls the pure domain in brokerql.domain.identity,
stores the result and records what changed (client log, operator log, domain events).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


class ControlledClock:
    """The identity services' clock: the real UTC time, or a time a test (or a replay) sets.

    One instance is shared by every identity service of a process, so moving it moves them all.
    """

    def __init__(self) -> None:
        self._fixed: datetime | None = None

    def __call__(self) -> datetime:
        return self._fixed if self._fixed is not None else datetime.now(UTC)

    def set(self, when: datetime | None) -> None:
        self._fixed = when

    def advance(self, delta: timedelta) -> None:
        self._fixed = self() + delta
