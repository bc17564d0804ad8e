"""Prometheus metrics of one process (GET /metrics)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

GRAPHQL_REQUESTS = Counter(
    "brokerql_graphql_requests_total", "GraphQL HTTP requests by outcome.", ["outcome"], registry=REGISTRY
)
GRAPHQL_LATENCY = Histogram(
    "brokerql_graphql_request_seconds",
    "GraphQL HTTP request latency.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
    registry=REGISTRY,
)
WEBSOCKETS_OPEN = Gauge("brokerql_websockets_open", "Open GraphQL WebSocket connections.", registry=REGISTRY)
BUS_SUBSCRIBERS = Gauge("brokerql_bus_local_subscribers", "Local bus subscriptions (streams).", registry=REGISTRY)
OUTBOX_PUBLISHED = Gauge(
    "brokerql_outbox_published", "Outbox messages this process has published since start.", registry=REGISTRY
)
