"""Alert rules over the monitor's figures: a threshold held for a duration raises an alert, and the
alert clears when the figure is back on the right side of it.

Pure: `AlertEvaluator.evaluate` takes the rules, the figures and the time, and returns what to raise
and what to clear. The caller (the monitor service) stores alerts and pushes them.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from brokerql.domain.common import Rejection


class Severity(StrEnum):
    INFO = "INFO"
    WARNING = "WARNING"
    CRITICAL = "CRITICAL"


COMPARATORS: Mapping[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


@dataclass(frozen=True)
class AlertRule:
    """`figure comparator threshold` held for `duration_seconds` raises an alert of `severity`."""

    name: str
    figure: str
    comparator: str
    threshold: float
    duration_seconds: float = 0.0
    severity: Severity = Severity.WARNING
    enabled: bool = True
    builtin: bool = False

    def breached(self, figures: Mapping[str, float]) -> bool | None:
        """Whether the rule's condition holds; None when the figure is not known (nothing changes)."""
        value = figures.get(self.figure)
        if value is None:
            return None
        return COMPARATORS[self.comparator](value, self.threshold)

    def describe(self, value: float | None) -> str:
        shown = "unknown" if value is None else f"{value:g}"
        return f"{self.figure} = {shown} ({self.comparator} {self.threshold:g} for {self.duration_seconds:g}s)"


# Built in: the exchange must be alive and its quotes fresh. Operators may tune them, not delete them.
BUILTIN_RULES: tuple[AlertRule, ...] = (
    AlertRule("EXCHANGE_DOWN", "cluster.exchangeProcesses", "<", 1, 0, Severity.CRITICAL, builtin=True),
    AlertRule("QUOTES_STALE", "cluster.quoteAgeSeconds", ">", 10, 0, Severity.WARNING, builtin=True),
)


def validate_rule(rule: AlertRule, known_figures: Iterable[str]) -> Rejection | None:
    if not rule.name or len(rule.name) > 64:
        return Rejection("BAD_RULE", "A rule needs a name of 1 to 64 characters.", "name")
    if rule.comparator not in COMPARATORS:
        return Rejection("BAD_RULE", f"comparator must be one of {', '.join(COMPARATORS)}.", "comparator")
    if rule.figure not in set(known_figures):
        return Rejection("UNKNOWN_FIGURE", f"No figure named {rule.figure}; see MonitorStats.figures.", "figure")
    if rule.duration_seconds < 0:
        return Rejection("BAD_RULE", "durationSeconds must be 0 or more.", "durationSeconds")
    return None


@dataclass(frozen=True)
class Transition:
    """One rule's alert to raise (raise_=True) or clear, with the figure's value at that moment."""

    rule: AlertRule
    raise_: bool
    value: float | None


@dataclass
class AlertEvaluator:
    """Remembers since when each rule has been breached, and which rules have an open alert."""

    open_rules: set[str] = field(default_factory=set)
    breached_since: dict[str, datetime] = field(default_factory=dict)

    def evaluate(self, rules: Iterable[AlertRule], figures: Mapping[str, float], now: datetime) -> list[Transition]:
        transitions: list[Transition] = []
        active = {r.name for r in rules if r.enabled}
        for rule in rules:
            if not rule.enabled:
                continue
            breached = rule.breached(figures)
            if breached is None:
                continue
            value = figures.get(rule.figure)
            if breached:
                since = self.breached_since.setdefault(rule.name, now)
                held = now - since >= timedelta(seconds=rule.duration_seconds)
                if held and rule.name not in self.open_rules:
                    self.open_rules.add(rule.name)
                    transitions.append(Transition(rule, True, value))
            else:
                self.breached_since.pop(rule.name, None)
                if rule.name in self.open_rules:
                    self.open_rules.discard(rule.name)
                    transitions.append(Transition(rule, False, value))
        # A rule disabled or deleted while its alert is open: clear the alert.
        for name in sorted(self.open_rules - active):
            self.open_rules.discard(name)
            self.breached_since.pop(name, None)
            transitions.append(Transition(AlertRule(name, "", ">", 0), False, None))
        return transitions
