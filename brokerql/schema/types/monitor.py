"""Operations types (E3, C10): the cluster's live figures, alerts and their rules, controls' payloads."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import strawberry

from brokerql.domain.operations.alerts import AlertRule as DomainRule
from brokerql.domain.operations.alerts import Severity
from brokerql.monitor.cluster import ClusterFigures
from brokerql.monitor.messages import OperationFigures, ProcessStats
from brokerql.schema.errors import UserError

AlertSeverity = strawberry.enum(Severity, name="AlertSeverity", description="How urgent an alert is.")


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


@strawberry.type(description="A count of open subscriptions of one kind (root field).")
class SubscriptionCount:
    kind: str = strawberry.field(description="The subscription's root field, e.g. quotes.")
    count: int = strawberry.field(description="Open streams of that kind.")


@strawberry.type(description="Requests, outcomes and latency of one GraphQL root field in one process.")
class OperationStat:
    operation: str = strawberry.field(description="The root field, e.g. placeOrder.")
    requests: int = strawberry.field(description="Operations since the process started.")
    errors: int = strawberry.field(description="Of those, the ones answered with an error code.")
    outcomes: list[SubscriptionCount] = strawberry.field(description="Count per outcome: OK or the error code.")
    p50_ms: float = strawberry.field(description="Median latency (newest 512 queries/mutations), ms.")
    p95_ms: float = strawberry.field(description="95th percentile latency, ms.")
    p99_ms: float = strawberry.field(description="99th percentile latency, ms.")

    @classmethod
    def of(cls, f: OperationFigures) -> OperationStat:
        outcomes = [SubscriptionCount(kind=k, count=v) for k, v in sorted(f.outcomes.items())]
        errors = sum(v for k, v in f.outcomes.items() if k != "OK")
        return cls(operation=f.operation, requests=f.requests, errors=errors, outcomes=outcomes,
                   p50_ms=f.p50_ms, p95_ms=f.p95_ms, p99_ms=f.p99_ms)  # fmt: skip


@strawberry.type(description="One live process of the cluster and its figures, as it last reported them.")
class MonitoredProcess:
    id: str = strawberry.field(description="Process id: host:pid:random.")
    role: str = strawberry.field(
        description="api, exchange, or api+exchange (embedded); a hot-standby exchange shows standby for exchange."
    )
    version: str = strawberry.field(description="BrokerQL version it runs.")
    started_at: datetime = strawberry.field(description="When it started.")
    last_seen: datetime = strawberry.field(description="When it last reported (every few seconds).")
    url: str | None = strawberry.field(description="Its GraphQL endpoint (API processes).")
    draining: bool = strawberry.field(description="True while it refuses new subscriptions.")
    connections: int = strawberry.field(description="Open WebSocket connections.")
    subscriptions: int = strawberry.field(description="Open subscriptions, all kinds.")
    subscriptions_by_kind: list[SubscriptionCount] = strawberry.field(description="Open subscriptions per kind.")
    clients_online: int = strawberry.field(description="Clients with an open stream here.")
    trading_clients: int = strawberry.field(description="Of those, clients following their orders.")
    quote_only_clients: int = strawberry.field(description="Of those, clients with quote streams only.")
    orders_per_second: float = strawberry.field(description="Orders accepted per second (last 10 s).")
    fills_per_second: float = strawberry.field(description="Executions booked per second (exchange, last 10 s).")
    pushes_per_second: float = strawberry.field(description="Results pushed to subscribers per second (last 10 s).")
    quote_age_seconds: float | None = strawberry.field(description="Age of the newest quote it has seen.")
    loop_lag_ms: float = strawberry.field(description="Event-loop lag, ms.")
    cpu_percent: float = strawberry.field(description="CPU use since its previous report, % of one core.")
    rss_bytes: float = strawberry.field(description="Resident memory, bytes.")
    open_files: int = strawberry.field(description="Open file descriptors.")
    bus_lag_ms: float | None = strawberry.field(description="Round trip of a message through the bus, ms.")
    outbox_backlog: int | None = strawberry.field(description="Outbox rows waiting to be published.")
    db_pool_in_use: int | None = strawberry.field(description="Database connections checked out of its pool.")
    operations: list[OperationStat] = strawberry.field(description="Requests, errors, latency per root field.")

    @classmethod
    def of(cls, p: ProcessStats) -> MonitoredProcess:
        kinds = [SubscriptionCount(kind=k, count=v) for k, v in sorted(p.subscriptions.items())]
        return cls(
            id=p.id, role=p.role, version=p.version, started_at=_at(p.started_at), last_seen=_at(p.published_at),
            url=p.url, draining=p.draining, connections=p.connections, subscriptions=p.subscription_count,
            subscriptions_by_kind=kinds, clients_online=p.clients_online, trading_clients=p.trading_clients,
            quote_only_clients=p.quote_only_clients, orders_per_second=p.orders_per_second,
            fills_per_second=p.fills_per_second, pushes_per_second=p.pushes_per_second,
            quote_age_seconds=p.quote_age_seconds, loop_lag_ms=p.loop_lag_ms, cpu_percent=p.cpu_percent,
            rss_bytes=float(p.rss_bytes), open_files=p.open_files, bus_lag_ms=p.bus_lag_ms,
            outbox_backlog=p.outbox_backlog, db_pool_in_use=p.db_pool_in_use,
            operations=[OperationStat.of(o) for o in p.operations],
        )  # fmt: skip


@strawberry.type(description="The cluster's figures: sums over the live processes, the worst of health figures.")
class ClusterStats:
    api_processes: int = strawberry.field(description="Live API processes.")
    exchange_processes: int = strawberry.field(description="Live exchange processes (0 raises EXCHANGE_DOWN).")
    draining_processes: int = strawberry.field(description="Processes draining.")
    connections: int = strawberry.field(description="Open WebSocket connections.")
    subscriptions: int = strawberry.field(description="Open subscriptions.")
    clients_online: int = strawberry.field(description="Clients with an open stream (per process, summed).")
    trading_clients: int = strawberry.field(description="Clients following their orders.")
    quote_only_clients: int = strawberry.field(description="Clients with quote streams only.")
    orders_per_second: float = strawberry.field(description="Orders accepted per second.")
    fills_per_second: float = strawberry.field(description="Executions booked per second.")
    pushes_per_second: float = strawberry.field(description="Results pushed per second.")
    quote_age_seconds: float | None = strawberry.field(description="Age of the freshest quote any process saw.")
    loop_lag_ms_max: float = strawberry.field(description="The worst event-loop lag, ms.")

    @classmethod
    def of(cls, c: ClusterFigures) -> ClusterStats:
        names = cls.__annotations__.keys()
        return cls(**{name: getattr(c, name) for name in names})


@strawberry.type(description="An alert: raised when its rule held, cleared when the figure recovered.")
class Alert:
    id: strawberry.ID = strawberry.field(description="Opaque id.")
    rule: str = strawberry.field(description="The rule's name, e.g. EXCHANGE_DOWN.")
    severity: AlertSeverity = strawberry.field(description="INFO, WARNING or CRITICAL.")
    message: str = strawberry.field(description="The figure, its value and the threshold when raised.")
    value: float | None = strawberry.field(description="The figure's value when raised.")
    raised_at: datetime = strawberry.field(description="When it was raised.")
    cleared_at: datetime | None = strawberry.field(description="When it cleared; null while open.")
    acknowledged_at: datetime | None = strawberry.field(description="When an operator acknowledged it.")
    acknowledged_by: strawberry.ID | None = strawberry.field(description="Which operator acknowledged it.")

    @classmethod
    def from_row(cls, r: Any) -> Alert:
        return cls(
            id=strawberry.ID(r.id), rule=r.rule, severity=Severity(r.severity), message=r.message, value=r.value,
            raised_at=r.raised_at, cleared_at=r.cleared_at, acknowledged_at=r.acknowledged_at,
            acknowledged_by=strawberry.ID(r.acknowledged_by) if r.acknowledged_by else None,
        )  # fmt: skip


@strawberry.type(description="An alert rule: `figure comparator threshold` held for durationSeconds.")
class AlertRule:
    name: str = strawberry.field(description="Unique name; built-in rules are EXCHANGE_DOWN and QUOTES_STALE.")
    figure: str = strawberry.field(description="A figure name from MonitorStats.figures, e.g. cluster.quoteAgeSeconds.")
    comparator: str = strawberry.field(description="One of >, >=, <, <=.")
    threshold: float = strawberry.field(description="The limit.")
    duration_seconds: float = strawberry.field(description="How long the condition must hold before raising.")
    severity: AlertSeverity = strawberry.field(description="Severity of the alerts it raises.")
    enabled: bool = strawberry.field(description="Disabled rules raise nothing (and clear their open alert).")
    builtin: bool = strawberry.field(description="Built-in rules can be tuned or disabled, not deleted.")

    @classmethod
    def of(cls, r: DomainRule) -> AlertRule:
        return cls(
            name=r.name, figure=r.figure, comparator=r.comparator, threshold=r.threshold,
            duration_seconds=r.duration_seconds, severity=r.severity, enabled=r.enabled, builtin=r.builtin,
        )  # fmt: skip


@strawberry.type(description="A figure alert rules can watch, with its current value.")
class Figure:
    name: str = strawberry.field(description="e.g. cluster.connections.")
    value: float | None = strawberry.field(description="Its value now; null when no process reports it.")


@strawberry.type(description="Trading halts in force.")
class HaltState:
    market_halted: bool = strawberry.field(description="True when the whole market is halted.")
    symbols: list[str] = strawberry.field(description="Halted symbols (besides a market halt).")


@strawberry.type(description="The cluster seen by the monitor (E3): processes, cluster figures, alerts, rules.")
class MonitorStats:
    generated_at: datetime = strawberry.field(description="When this view was read.")
    processes: list[MonitoredProcess] = strawberry.field(description="Live processes; a silent one drops out.")
    cluster: ClusterStats = strawberry.field(description="The cluster's figures.")
    alerts: list[Alert] = strawberry.field(description="Open alerts first, then recent ones, newest first (50).")
    rules: list[AlertRule] = strawberry.field(description="Alert rules in force.")
    figures: list[Figure] = strawberry.field(description="Every figure a rule may watch, with its value.")
    halts: HaltState = strawberry.field(description="Trading halts in force.")


@strawberry.type(description="Result of haltTrading / resumeTrading.")
class HaltPayload:
    symbol: str | None = strawberry.field(description="The symbol acted on; null for the whole market.")
    halted: bool = strawberry.field(description="Whether that symbol (or the market) is halted now.")
    halts: HaltState | None = strawberry.field(description="Every halt in force after the change.")
    errors: list[UserError] = strawberry.field(description="Why it was refused, if it was.")


@strawberry.type(description="Result of a control acting on a process or the exchange.")
class ControlPayload:
    ok: bool = strawberry.field(description="True when the signal was sent to the cluster.")
    errors: list[UserError] = strawberry.field(description="Why it was refused, if it was.")


@strawberry.type(description="Result of setAlertRule.")
class AlertRulePayload:
    rule: AlertRule | None = strawberry.field(description="The rule after the change.")
    errors: list[UserError] = strawberry.field(description="Why it was refused, if it was.")


@strawberry.type(description="Result of acknowledgeAlert.")
class AlertPayload:
    alert: Alert | None = strawberry.field(description="The alert after acknowledgement.")
    errors: list[UserError] = strawberry.field(description="Why it was refused, if it was.")


@strawberry.type(description="Result of forceCloseClient.")
class ForceClosePayload:
    sessions_revoked: int = strawberry.field(description="Sessions ended; the client's streams close everywhere.")
    errors: list[UserError] = strawberry.field(description="Why it was refused, if it was.")


@strawberry.input(description="An alert rule to add or change (by name).")
class AlertRuleInput:
    name: str = strawberry.field(description="Unique name (1-64 characters).")
    figure: str = strawberry.field(description="A figure name from MonitorStats.figures.")
    comparator: str = strawberry.field(description="One of >, >=, <, <=.")
    threshold: float = strawberry.field(description="The limit.")
    duration_seconds: float = strawberry.field(default=0.0, description="How long it must hold (seconds).")
    severity: AlertSeverity = strawberry.field(default=Severity.WARNING, description="Severity of its alerts.")
    enabled: bool = strawberry.field(default=True, description="False switches the rule off.")


@strawberry.type(description="A live API endpoint for clients that balance on their own (C10), with its load.")
class LiveServer:
    id: str = strawberry.field(description="The process id.")
    url: str = strawberry.field(description="Its GraphQL endpoint.")
    connections: int = strawberry.field(description="Open WebSocket connections.")
    clients_online: int = strawberry.field(description="Clients with an open stream there.")
    load: float = strawberry.field(description="connections / BROKERQL_SERVER_CAPACITY: prefer the lowest.")
    draining: bool = strawberry.field(description="A draining server takes no new subscriptions: skip it.")
    last_seen: datetime = strawberry.field(description="When it last reported; it drops out when silent.")
