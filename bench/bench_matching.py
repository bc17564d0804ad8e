"""Throughput of the matching engine against the naive reference book on the same seeded order flow.

    python bench/bench_matching.py [--orders N] [--seed S]

The flow (generated before timing starts) mixes resting limit orders a few ticks from a drifting mid,
marketable limit orders, best-five market orders and cancels of earlier orders. Both books must
produce identical executions; the script checks that before printing the figures.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runnable from a plain checkout

from brokerql.domain.common import OrderType, Side, TimeInForce
from brokerql.domain.market.book import OrderBook
from tests.reference_book import ReferenceBook

TICK = Decimal("0.01")
Op = tuple  # ("submit", id, side, type, qty, price, tif) or ("cancel", id)


def make_flow(orders: int, seed: int) -> list[Op]:
    """A reproducible mix: ~50% resting limits, 15% marketable limits, 5% market orders, 30% cancels."""
    rng = random.Random(seed)
    mid = 1000  # in ticks: 10.00
    flow: list[Op] = []
    ids: list[str] = []
    for n in range(orders):
        mid = max(100, mid + rng.choice((-1, 0, 0, 0, 1)))
        roll = rng.random()
        side = Side.BUY if rng.random() < 0.5 else Side.SELL
        sign = -1 if side is Side.BUY else 1
        qty = 100 * rng.randint(1, 10)
        if roll < 0.30 and ids:
            flow.append(("cancel", ids[rng.randrange(len(ids))]))
            continue
        order_id = f"o{n}"
        ids.append(order_id)
        if roll < 0.80:
            price = (mid + sign * rng.randint(1, 20)) * TICK
            flow.append(("submit", order_id, side, OrderType.LIMIT, qty, price, TimeInForce.DAY))
        elif roll < 0.95:
            price = (mid - sign * rng.randint(0, 3)) * TICK
            tif = TimeInForce.IOC if rng.random() < 0.3 else TimeInForce.DAY
            flow.append(("submit", order_id, side, OrderType.LIMIT, qty * 3, price, tif))
        else:
            flow.append(("submit", order_id, side, OrderType.MARKET, qty * 5, None, TimeInForce.IOC))
    return flow


def run(book_type: type, flow: list[Op]) -> tuple[float, int, int, int]:
    """Seconds spent, executions produced, a checksum of them and the orders left resting."""
    book = book_type("BENCH", TICK)
    submit, cancel = book.submit, book.cancel
    executions = 0
    checksum = 0
    start = time.perf_counter()
    for op in flow:
        if op[0] == "cancel":
            cancel(op[1])
        else:
            result = submit(*op[1:])
            executions += len(result.executions)
            for e in result.executions:
                checksum = (checksum * 31 + e.quantity * int(e.price / TICK) + e.seq) % 1_000_000_007
    return time.perf_counter() - start, executions, checksum, len(book)


def main() -> None:
    """Parse arguments, run both books on the same flow, print orders/s and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20_000, help="operations in the flow (default 20000)")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    flow = make_flow(args.orders, args.seed)
    cancels = sum(1 for op in flow if op[0] == "cancel")
    submits = len(flow) - cancels
    print(f"flow: {len(flow)} operations ({submits} submits, {cancels} cancels), seed {args.seed}")
    results = {}
    for book_type in (OrderBook, ReferenceBook):
        seconds, executions, checksum, resting = run(book_type, flow)
        results[book_type.__name__] = (seconds, executions, checksum)
        rate = len(flow) / seconds
        print(
            f"{book_type.__name__:>14}: {seconds:8.3f} s  {rate:12,.0f} orders/s  "
            f"{executions} executions, {resting} orders resting at the end"
        )
    (fast, fast_n, fast_sum), (slow, slow_n, slow_sum) = results["OrderBook"], results["ReferenceBook"]
    if (fast_n, fast_sum) != (slow_n, slow_sum):
        raise SystemExit("MISMATCH: the two books produced different executions")
    print(f"identical executions: yes; OrderBook is {slow / fast:,.1f}x the reference book")


if __name__ == "__main__":
    main()
