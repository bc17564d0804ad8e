"""Identity use cases (A1-A6, F1): login security, sessions, operators, back office, tiers, grading.

Each service opens a unit of work, loads rows, calls the pure domain in brokerql.domain.identity,
stores the result and records what changed (client log, operator log, domain events).
"""

from __future__ import annotations
