"""The cluster's figures, aggregated from the live processes on the board, and the flat figure names
that alert rules refer to (`cluster.<name>`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from brokerql.monitor.messages import ProcessStats


@dataclass(frozen=True)
class ClusterFigures:
    """Sums of the live processes' figures; the worst (max) of per-process health figures.

    A client with streams on two processes counts on both (processes do not share client lists)."""

    api_processes: int
    exchange_processes: int
    draining_processes: int
    connections: int
    subscriptions: int
    clients_online: int
    trading_clients: int
    quote_only_clients: int
    orders_per_second: float
    fills_per_second: float
    pushes_per_second: float
    quote_age_seconds: float | None  # the freshest quote any process has seen
    loop_lag_ms_max: float
    cpu_percent_max: float
    rss_bytes_max: int
    bus_lag_ms_max: float | None
    outbox_backlog: int | None

    def as_figures(self) -> dict[str, float]:
        """`cluster.<camelCase>` -> value, the names alert rules use (unknown figures are left out)."""
        out: dict[str, float] = {}
        for name, value in asdict(self).items():
            if value is not None:
                head, *rest = name.split("_")
                out["cluster." + head + "".join(w.title() for w in rest)] = float(value)
        return out


def aggregate(processes: list[ProcessStats]) -> ClusterFigures:
    ages = [p.quote_age_seconds for p in processes if p.quote_age_seconds is not None]
    bus = [p.bus_lag_ms for p in processes if p.bus_lag_ms is not None]
    backlog = [p.outbox_backlog for p in processes if p.outbox_backlog is not None]
    return ClusterFigures(
        api_processes=sum(1 for p in processes if p.serves_api),
        exchange_processes=sum(1 for p in processes if p.runs_exchange),
        draining_processes=sum(1 for p in processes if p.draining),
        connections=sum(p.connections for p in processes),
        subscriptions=sum(p.subscription_count for p in processes),
        clients_online=sum(p.clients_online for p in processes),
        trading_clients=sum(p.trading_clients for p in processes),
        quote_only_clients=sum(p.quote_only_clients for p in processes),
        orders_per_second=round(sum(p.orders_per_second for p in processes), 2),
        fills_per_second=round(sum(p.fills_per_second for p in processes), 2),
        pushes_per_second=round(sum(p.pushes_per_second for p in processes), 2),
        quote_age_seconds=min(ages) if ages else None,
        loop_lag_ms_max=max((p.loop_lag_ms for p in processes), default=0.0),
        cpu_percent_max=max((p.cpu_percent for p in processes), default=0.0),
        rss_bytes_max=max((p.rss_bytes for p in processes), default=0),
        bus_lag_ms_max=max(bus) if bus else None,
        outbox_backlog=max(backlog) if backlog else None,
    )


# Every figure a rule may watch, even when no process reports it at the moment.
KNOWN_FIGURES = tuple(
    sorted(
        aggregate([]).as_figures().keys() | {"cluster.quoteAgeSeconds", "cluster.busLagMsMax", "cluster.outboxBacklog"}
    )
)
