"""What bench_order_path.py prints: a phase's line as it ends, and the summary tables at the end."""

from __future__ import annotations

from typing import Any


def show(name: str, r: dict[str, Any]) -> None:
    print(
        f"  {name}: {r['orders_per_s']:,.1f} orders/s accepted (offered {r['offered_per_s'] or 'closed loop'}), "
        f"FILLs {r['fills_per_s']:,.1f}/s; ack p50/p99 {r['ack_p50']:.1f}/{r['ack_p99']:.1f} ms; FILL push p50/p99 "
        f"{r['fill_p50']:.1f}/{r['fill_p99']:.1f} ms (n={r['fill_n']}, unfilled {r['unfilled']}); server CPU "
        f"{r['server_cpu']:.0f}% ({r['cpu_ms_per_order']:.1f} ms a placed order); refused {r['rejected'] or 0}, "
        f"failed {r['failed']} {r['errors'] or ''}; load average {r['load']:.2f}",
        flush=True,
    )


def summary(rows: list[dict[str, Any]], command: str) -> None:
    print(f"\n{command}\nbackend   raw commits/s (conns)  orders/s  ratio  CPU ms/order (idle %) cycle | at half rate: "
          "orders/s  ack p50/p99 ms  FILL push p50/p99 ms  unfilled  | load avg")  # fmt: skip
    for r in rows:
        f, b, h = r["full"], r["base"], r["half"]
        print(
            f"{r['backend']:<9} {b['commits_per_s']:>13,.0f} ({b['connections']:>2})  {f['orders_per_s']:>8,.0f}  "
            f"{r['ratio']:>4.2f}x  {f['cpu_ms_per_order']:>7.1f} ({r['idle']:>3.0f}%) "
            f"{f['cycle_ms_per_order']:>5.1f} | "
            f"{h['orders_per_s']:>22,.0f}  {h['ack_p50']:>6.1f}/{h['ack_p99']:<7.1f} "
            f"{h['fill_p50']:>10.1f}/{h['fill_p99']:<9.1f} {h['unfilled']:>8}  | "
            f"{f['load']:.2f} / {b['load']:.2f} / {h['load']:.2f}"
        )
    fixed = [r for r in rows if r["fixed"]]
    if fixed:
        print("\nat fixed offered rates (open loop): orders/s  CPU ms an order net of idle  ack p50/p99 ms  "
              "FILL push p50/p99 ms  server CPU")  # fmt: skip
    for r in fixed:
        for f in r["fixed"]:
            print(
                f"{r['backend']:<9} {f['orders_per_s']:>8,.1f}  {f['net_ms_per_order']:>6.2f}  "
                f"{f['ack_p50']:>6.1f}/{f['ack_p99']:<7.1f} {f['fill_p50']:>8.1f}/{f['fill_p99']:<8.1f} "
                f"{f['server_cpu']:>4.0f}%"
            )
