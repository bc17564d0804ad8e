"""The process's Prometheus registry and what the request path, the streams and the monitor count into it
(served at GET /metrics by brokerql/api/metrics.py). Here, below both, so that the monitor and the
subscriptions count without importing the HTTP layer."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, PlatformCollector, ProcessCollector

from brokerql.monitor.heap import HeapCollector

REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
REGISTRY.register(HeapCollector())  # what the C allocator holds: a leak or fragmentation (monitor/heap.py)

OPERATIONS = Counter(
    "brokerql_graphql_operations",
    "GraphQL operations by root field, operation type and outcome (OK or the error code).",
    ["operation", "type", "outcome"],
    registry=REGISTRY,
)
OPERATION_SECONDS = Histogram(
    "brokerql_graphql_operation_seconds",
    "Latency of GraphQL queries and mutations by root field.",
    ["operation", "type"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
    registry=REGISTRY,
)
PUSHES = Counter(
    "brokerql_subscription_pushes", "Results pushed to subscribers, by root field.", ["kind"], registry=REGISTRY
)
READ_CACHE = Counter(
    "brokerql_read_cache_answers",
    "Market-read queries answered from an answer kept for the same snapshot (hit) or executed and kept (miss).",
    ["outcome"],
    registry=REGISTRY,
)
ORDERS = Counter("brokerql_orders_accepted", "Orders accepted by placeOrder in this process.", registry=REGISTRY)
FILLS = Counter("brokerql_fills_booked", "Executions booked by the exchange run in this process.", registry=REGISTRY)
UNIT_OF_WORK_ORDERS = Histogram(
    "brokerql_unit_of_work_orders",
    "Orders placed (kind placement), or trade batches booked (kind booking; a batch is one order's consecutive "
    "trades), in one unit of work: placements and bookings that arrive together share one.",
    ["kind"],
    buckets=(1, 2, 4, 8, 16, 32, 64),
    registry=REGISTRY,
)
WEBSOCKETS_OPEN = Gauge("brokerql_websockets_open", "Open GraphQL WebSocket connections.", registry=REGISTRY)
SUBSCRIPTIONS_OPEN = Gauge(
    "brokerql_subscriptions_open", "Open GraphQL subscriptions by root field.", ["kind"], registry=REGISTRY
)
MALLOC_TRIMS = Counter(
    "brokerql_malloc_trims",
    "Times this process gave the C allocator's free pages back (monitor/heap_trim.py).",
    registry=REGISTRY,
)
MALLOC_TRIM_SECONDS = Counter(
    "brokerql_malloc_trim_seconds", "Seconds spent giving the C allocator's free pages back.", registry=REGISTRY
)


def record_operation(operation: str, kind: str, codes: list[str], seconds: float | None) -> None:
    for code in codes or ["OK"]:
        OPERATIONS.labels(operation, kind, code).inc()
    if seconds is not None:
        OPERATION_SECONDS.labels(operation, kind).observe(seconds)
