"""The rate search of `bench_fanout.py --search`: the highest quote push rate each server sustains.

The offered rate grows with the number of sockets (quote sockets of 1-3 symbols each at the market's own
tick; orderEvents sockets in the same proportion as --quotes : --orders), by --search-factor a step from
--quotes up to --search-max quote sockets. A step is sustained when every socket opened, 0 errors, at
least 99% of the snapshots were delivered, quote age p99 stayed under 250 ms (issue 14, target 1) and
the market kept at least 90% of the first step's snapshots per second (of the median symbol: the order
driver's trades publish 600000 more often) (the embedded exchange
shares brokerql's event loop: a market that slows down offers fewer pushes);
a server's search stops at its first step that is not. Each server (brokerql first, then the bare
broadcaster at the per-symbol rate measured on brokerql's first step) keeps one process through its
steps; each step opens fresh sockets and closes them after its window.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

DELIVERED, AGE_P99_MS, TICK = 0.99, 250.0, 0.9


def sustained(result: dict[str, Any], sockets: int, rate: float) -> list[str]:
    """What failed the step (empty: sustained). `rate`: the snapshots a symbol published per second at
    the first step; a market that slowed under load offers fewer pushes, so it fails the step too."""
    failed = []
    if result["tick_per_symbol_s"] < TICK * rate:
        failed.append(f"the market slowed to {result['tick_per_symbol_s']:.2f} snapshots/s from {rate:.2f}")
    if result["opened"] < sockets:
        failed.append(f"opened {result['opened']} of {sockets}")
    if result["errors"]:
        failed.append(f"{result['errors']} errors")
    if result["delivered"] < DELIVERED:
        failed.append(f"delivered {result['delivered']:.1%}")
    if not result["q_p99_ms"] <= AGE_P99_MS:  # nan (nothing received) fails too
        failed.append(f"quote age p99 {result['q_p99_ms']:.0f} ms")
    return failed


class Steps:
    """The sizes of one server's search, in order, until a step is not sustained."""

    def __init__(self, quotes: int, orders: int, factor: float, most: int, shown: Any = None) -> None:
        self.quotes, self.orders, self.factor, self.most = quotes, orders, factor, most
        self.shown = shown  # called with each step's result as it comes
        self.best: dict[str, Any] | None = None  # the result of the largest sustained step
        self.failed: list[str] = []
        self.last: dict[str, Any] | None = None
        self.rate = 0.0  # snapshots per second of the median symbol at the first step
        self._sockets = 0

    def __iter__(self) -> Iterator[tuple[int, int]]:
        quotes = self.quotes
        while not self.failed and quotes <= self.most:
            orders = round(quotes * self.orders / max(1, self.quotes))
            self._sockets = quotes + orders
            yield quotes, orders
            quotes = max(quotes + 1, round(quotes * self.factor))

    def passed(self, result: dict[str, Any]) -> None:
        if self.shown is not None:
            self.shown(result)
        self.last, self.rate = result, self.rate or result["tick_per_symbol_s"]
        self.failed = sustained(result, self._sockets, self.rate)
        if not self.failed:
            self.best = result

    def summary(self) -> str:
        if self.best is None:
            return f"none (the first step failed: {', '.join(self.failed)})"
        b = self.best
        size = f"{b['opened']} sockets, delivered {b['delivered']:.1%}, age p99 {b['q_p99_ms']:.0f} ms"
        if self.failed:
            return f"{b['quote_pps']:,.0f} pushes/s ({size}); next step failed: {', '.join(self.failed)}"
        return f"at least {b['quote_pps']:,.0f} pushes/s ({size}; the search's largest step, never failed)"


def report(project: dict[str, Steps], bare: Steps) -> None:
    """The highest sustained rates and each project server's ratio to bare (goal: at least 0.5x)."""
    print(f"highest sustained quote push rate (delivered >= {DELIVERED:.0%}, age p99 <= {AGE_P99_MS:.0f} ms):")
    for name, steps in [*project.items(), ("bare broadcast", bare)]:
        print(f"  {name:<28} {steps.summary()}")
    for name, steps in project.items():
        if steps.best is None or bare.best is None:
            print(f"ratio {name}/bare: not measured (a search sustained no step)")
            continue
        ratio = steps.best["quote_pps"] / max(1.0, bare.best["quote_pps"])
        bound = ""
        if not bare.failed and not steps.failed:
            bound = " (both sustained the largest step: raise --search-max)"
        elif not bare.failed:
            bound = " (an upper bound: bare sustained the largest step, its highest rate is higher)"
        elif not steps.failed:
            bound = " (a lower bound: it sustained the largest step)"
        print(f"ratio {name}/bare: highest sustained push rate {ratio:.2f}x (goal >= 0.5x){bound}")
