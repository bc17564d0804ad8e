"""Prometheus metrics of one process (GET /metrics), and the figures of the whole cluster as gauges.

- counters count (operations by root field, type and outcome code; pushes; accepted orders; fills),
  histograms time (operation latency), gauges hold levels (open connections, streams by kind);
- the outcome of an operation is OK or its error code, so a FORBIDDEN counts as FORBIDDEN; requests
  refused with 429 before execution count as RATE_LIMITED under operation "unknown";
- the GraphiQL page, /ops, /healthz and /metrics are not GraphQL operations and are not counted;
- process metrics (CPU, memory, open files, start time) come from prometheus-client's collectors;
- `brokerql_monitor_*{process=...}` are the figures of every live process of the cluster as the
  monitor board holds them (the same figures as `monitorStats`), so scraping any one process of a
  cluster behind one address sees all of them.

`metrics_response(container)` renders the page; the route that serves it (and any access gate around
it) lives in brokerql/api/app.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.responses import Response

from brokerql.monitor.prometheus import REGISTRY, SUBSCRIPTIONS_OPEN, WEBSOCKETS_OPEN

if TYPE_CHECKING:
    from brokerql.container import Container

# The figures of every process on the board, exported as gauges labelled with the process id.
_BOARD_FIGURES = (
    ("connections", "Open WebSocket connections."),
    ("subscriptions", "Open subscriptions."),
    ("clients_online", "Clients with an open stream."),
    ("trading_clients", "Clients following their orders."),
    ("quote_only_clients", "Clients with quote streams only."),
    ("orders_per_second", "Orders accepted per second (10 s window)."),
    ("fills_per_second", "Executions booked per second (10 s window)."),
    ("pushes_per_second", "Results pushed per second (10 s window)."),
    ("quote_age_seconds", "Age of the newest quote this process has seen."),
    ("loop_lag_ms", "Event-loop lag in milliseconds."),
    ("cpu_percent", "CPU use in percent of one core."),
    ("rss_bytes", "Resident memory in bytes."),
    ("open_files", "Open file descriptors."),
    ("bus_lag_ms", "Round trip of a message through the bus, in milliseconds."),
    ("outbox_backlog", "Outbox rows waiting to be published."),
    ("db_pool_in_use", "Database connections checked out of the pool."),
    ("draining", "1 while the process is draining."),
)


class BoardCollector(Collector):
    """Reads the container's latest cluster snapshot (refreshed by the monitor agent) at scrape time."""

    def __init__(self) -> None:
        self.container: Container | None = None

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        container = self.container
        if container is None:
            return
        published = CounterMetricFamily(
            "brokerql_outbox_published", "Outbox messages this process has published since start."
        )
        published.add_metric([], container.relay.published)
        yield published
        local = GaugeMetricFamily("brokerql_bus_local_subscribers", "Local bus subscriptions (streams).")
        local.add_metric([], container.bus.hub.subscriber_count)
        yield local
        processes = container.monitor.last_board
        up = GaugeMetricFamily(
            "brokerql_monitor_up", "1 for each live process on the board.", labels=["process", "role"]
        )
        for stats in processes:
            up.add_metric([stats.id, stats.role], 1)
        yield up
        for name, documentation in _BOARD_FIGURES:
            family = GaugeMetricFamily(f"brokerql_monitor_{name}", documentation, labels=["process"])
            for stats in processes:
                value = stats.subscription_count if name == "subscriptions" else getattr(stats, name)
                if value is not None:
                    family.add_metric([stats.id], float(value))
            yield family


BOARD = BoardCollector()
REGISTRY.register(BOARD)


def metrics_response(container: Container) -> Response:
    BOARD.container = container
    figures = container.monitor.figures
    WEBSOCKETS_OPEN.set(figures.connections)
    for kind, count in figures.streams.items():
        SUBSCRIPTIONS_OPEN.labels(kind).set(count)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
