"""The operations (E3) and server list (C10) part of the root types."""

from __future__ import annotations

import strawberry

from brokerql.resolvers import monitor as m
from brokerql.schema.arguments import describe_arguments
from brokerql.schema.types.monitor import (
    AlertPayload,
    AlertRulePayload,
    ControlPayload,
    ForceClosePayload,
    HaltPayload,
    LiveServer,
    MonitorStats,
)


def _q(resolver, description: str):  # type: ignore[no-untyped-def]
    return strawberry.field(resolver=resolver, description=description)


def _m(resolver, description: str):  # type: ignore[no-untyped-def]
    return strawberry.mutation(resolver=resolver, description=description)


@strawberry.type(description="Operations reads.")
class MonitorQuery:
    monitor_stats: MonitorStats = _q(
        m.monitor_stats, "The cluster's processes, figures and alerts (monitor.read: ops, admin)."
    )
    live_servers: list[LiveServer] = _q(
        m.live_servers, "Live API endpoints with their load, least loaded first (C10, public)."
    )


@strawberry.type(description="Operations controls; each is recorded in the operator log.")
class MonitorMutation:
    halt_trading: HaltPayload = _m(
        m.halt_trading, "Halt trading on a symbol, or the whole market without one (monitor.control)."
    )
    resume_trading: HaltPayload = _m(
        m.resume_trading, "Lift a halt on a symbol, or the market halt without one (monitor.control)."
    )
    pause_simulator: ControlPayload = _m(
        m.pause_simulator, "Stop the market simulator's own trading (monitor.control)."
    )
    resume_simulator: ControlPayload = _m(m.resume_simulator, "Restart the market simulator (monitor.control).")
    drain_process: ControlPayload = _m(
        m.drain_process, "Drain a process (or undo with drain: false) (monitor.control)."
    )
    force_close_client: ForceClosePayload = _m(
        m.force_close_client, "End a client's sessions and close its streams now (monitor.control)."
    )
    set_alert_rule: AlertRulePayload = _m(
        m.set_alert_rule, "Add or change an alert rule, live on every process (monitor.control)."
    )
    acknowledge_alert: AlertPayload = _m(m.acknowledge_alert, "Acknowledge an alert (monitor.control).")


describe_arguments(MonitorQuery, MonitorMutation)
