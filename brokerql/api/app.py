"""The app factory: one Container per process, owned by the lifespan."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UNSET, UnsetType

from brokerql.api import consoles, metrics
from brokerql.api.client_version import ClientVersionMiddleware
from brokerql.api.context import Context, RequestRateLimited
from brokerql.api.edge import Edge
from brokerql.api.health import DependencyChecks
from brokerql.api.http_view import HardenedGraphQL
from brokerql.api.oauth import token_endpoint
from brokerql.container import Container
from brokerql.logs import configure_logging
from brokerql.monitor import prometheus
from brokerql.monitor.connections import ConnectionRegistry
from brokerql.monitor.heap import limit_arenas
from brokerql.schema import build_schema
from brokerql.settings import Settings, load_settings


class BrokerGraphQL(HardenedGraphQL):
    """Strawberry's ASGI view with our typed context, the 429 answer and metrics.

    WebSocket origins are checked by strawberry itself (`allowed_origins`).
    """

    def __init__(self, container: Container, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.container = container

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """graphql-transport-ws: credentials that do not verify close the socket with 4403 Forbidden."""
        if not context.connection_credentials_valid():
            raise ConnectionRejectionError()
        return UNSET

    async def get_context(self, request: Any, response: Any) -> Context:
        """One per request: the kept-answer lane's, prepared already, when it handed the request on."""
        state = getattr(request, "state", None)
        prepared = getattr(state, "graphql_context", None) if state is not None else None
        if prepared is not None:
            return prepared
        context = Context(self.container, request, response, edge=self.edge)
        connection = ConnectionRegistry.of(request)
        if connection is not None:  # a WebSocket: the monitor may close it (drain, force-close)
            connection.context = context
        await context.prepare()  # session idle lock and activity (HTTP only)
        if connection is None:
            request.state.graphql_context = context
        return context

    async def render_graphql_ide(self, request: Any) -> Response:
        # production: operators only (HardenedGraphQL.ide_refusal); our page and assets, no CDN
        return self.ide_refusal(request) or consoles.graphiql_response()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            registry = self.container.monitor.connections
            connection = registry.track(scope, receive, send)
            try:
                await super().__call__(scope, connection.receive, connection.send)
            finally:
                registry.untrack(connection)
            return
        try:  # operations are counted by the schema's OperationMetrics extension, not here
            await super().__call__(scope, receive, send)
        except RequestRateLimited as limited:  # raised before anything was sent (in get_context)
            prometheus.record_operation("unknown", "http", ["RATE_LIMITED"], None)
            headers = {"Retry-After": str(limited.retry_after)}
            await JSONResponse(limited.body(), status_code=429, headers=headers)(scope, receive, send)


def create_app(
    settings: Settings | None = None, container: Container | None = None, *, freeze_heap: bool = False
) -> Starlette:
    """`freeze_heap` (`brokerql serve`): once started, move every object to the collector's permanent
    generation (`gc.freeze`), so that a full collection scans only what was made since: the modules,
    the schema and the app are ~190,000 objects that live as long as the process, and scanning them
    held the event loop for 150-260 ms a collection on the shared machine (docs/performance.md); and
    collect the youngest generation every `gc_young_threshold` allocations, so that what lives less
    than about a second (snapshots, pushes) dies before it reaches the oldest generation, whose full
    collections walk every open socket's objects. Not in tests, which build many apps in one process
    (what a frozen app leaves in cycles is never collected)."""
    settings = settings or load_settings()
    container = container or Container.build(settings)
    edge = Edge(settings, container)  # E1: limits, quotas, persisted queries, production gates
    schema = build_schema(edge.limits, edge)
    graphql = BrokerGraphQL(
        container,
        edge=edge,
        schema=schema,
        graphql_ide="graphiql",
        subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
        connection_init_wait_timeout=timedelta(seconds=settings.connection_init_timeout_seconds),
        allowed_origins=settings.allowed_origins,
        multipart_uploads_enabled=True,  # importArticles takes a feed file (GraphQL multipart request spec)
    )

    dependencies = DependencyChecks((("database", container.db.ping), ("bus", container.bus.ping)))

    async def healthz(_request: Request) -> JSONResponse:
        checks = await dependencies.results()
        venue = container.venue_watch.status()  # no live exchange degrades every process (operations.md)
        healthy = all(v == "ok" for v in checks.values()) and venue.live and not venue.quotes_stale
        body = {"status": "ok" if healthy else "degraded", **checks, "exchange": venue.as_json()}
        if container.monitor.draining:  # a load balancer takes a draining process out of rotation
            body["status"] = "draining"
        return JSONResponse(body, status_code=200 if healthy and not container.monitor.draining else 503)

    async def metrics_endpoint(request: Request) -> Response:
        if not edge.metrics_allowed(request.headers):  # E1: a bearer token in production
            return JSONResponse({"error": "metrics need the metrics token"}, status_code=401)
        return metrics.metrics_response(container)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        edge.checks.start()
        try:
            await container.start()
            await edge.checks.started()
            if freeze_heap:
                gc.collect()
                gc.freeze()
                gc.set_threshold(settings.gc_young_threshold, *gc.get_threshold()[1:])
            try:
                yield
            finally:
                await container.stop()
        finally:
            await edge.checks.stop()

    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/metrics", metrics_endpoint),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/oauth/token", token_endpoint(container), methods=["POST"]),
            *consoles.console_routes(),
        ],
        lifespan=lifespan,
        middleware=[
            Middleware(
                ClientVersionMiddleware,
                minimum=settings.min_client_version,
                allow_missing=settings.allow_missing_client_version,
            )
        ],
    )
    app.state.container = container
    app.state.edge = edge
    return app


def create_worker_app() -> Starlette:
    """The app of one `brokerql serve --workers N` process. uvicorn spawns each worker as a fresh
    interpreter (multiprocessing's "spawn") that imports and calls this: nothing the parent set up
    survives, so the worker reads the settings and sets up structured logging (brokerql/logs.py) itself;
    without it a worker's log lines (requests, refusals, errors with their ids) would be dropped."""
    settings = load_settings()
    limit_arenas(settings.malloc_arena_max)  # before the app starts its threads (monitor/heap.py)
    configure_logging(settings)
    return create_app(settings, freeze_heap=True)
