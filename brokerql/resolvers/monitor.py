"""Operations (E3, C10): a permission check, then one call to the monitor or the controls."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import strawberry

from brokerql.domain.identity.roles import Permission as P
from brokerql.domain.operations.alerts import AlertRule as DomainRule
from brokerql.domain.operations.halts import MARKET
from brokerql.monitor.cluster import KNOWN_FIGURES
from brokerql.resolvers.guards import require_operator
from brokerql.schema.errors import UserError
from brokerql.schema.types.monitor import (
    Alert,
    AlertPayload,
    AlertRule,
    AlertRuleInput,
    AlertRulePayload,
    ClusterStats,
    ControlPayload,
    Figure,
    ForceClosePayload,
    HaltPayload,
    HaltState,
    LiveServer,
    MonitoredProcess,
    MonitorStats,
)

Symbol = Annotated[str | None, strawberry.argument(description="The symbol; omit it for the whole market.")]
ProcessId = Annotated[str, strawberry.argument(description="The process, as in monitorStats.processes.id.")]
Drain = Annotated[bool, strawberry.argument(description="True to drain (default), false to take it back.")]


def _monitor(info: strawberry.Info):  # type: ignore[no-untyped-def]
    return info.context.container.monitor


def halt_state(info: strawberry.Info) -> HaltState:
    halts = _monitor(info).halts
    return HaltState(market_halted=halts.market_halted, symbols=sorted(halts.symbols - {MARKET}))


async def read_stats(info: strawberry.Info) -> MonitorStats:
    """The whole view: the board, its aggregate, the alert history and the rules."""
    monitor = _monitor(info)
    processes, cluster = await monitor.cluster()
    values = cluster.as_figures()
    return MonitorStats(
        generated_at=datetime.now(UTC),
        processes=[MonitoredProcess.of(p) for p in processes],
        cluster=ClusterStats.of(cluster),
        alerts=[Alert.from_row(r) for r in await monitor.alerts.history()],
        rules=[AlertRule.of(r) for r in await monitor.alerts.rules()],
        figures=[Figure(name=n, value=values.get(n)) for n in KNOWN_FIGURES],
        halts=halt_state(info),
    )


async def monitor_stats(info: strawberry.Info) -> MonitorStats:
    await require_operator(info, P.MONITOR_READ)
    return await read_stats(info)


async def live_servers(info: strawberry.Info) -> list[LiveServer]:
    """Public: the API processes reporting now, least loaded first."""
    capacity = info.context.container.settings.server_capacity
    processes = [p for p in await _monitor(info).board.processes() if p.serves_api and p.url]
    servers = [LiveServer(id=p.id, url=p.url or "", connections=p.connections, clients_online=p.clients_online,
                          load=round(p.connections / capacity, 4), draining=p.draining,
                          last_seen=datetime.fromtimestamp(p.published_at, UTC)) for p in processes]  # fmt: skip
    return sorted(servers, key=lambda s: (s.draining, s.load, s.id))


def _controls(info: strawberry.Info):  # type: ignore[no-untyped-def]
    return info.context.container.controls


async def halt_trading(info: strawberry.Info, symbol: Symbol = None) -> HaltPayload:
    op = await require_operator(info, P.MONITOR_CONTROL)
    scope, errors = await _controls(info).halt(op.subject_id, symbol)
    return HaltPayload(symbol=None if scope == MARKET else scope, halted=not errors, halts=halt_state(info),
                       errors=[UserError.of(e) for e in errors])  # fmt: skip


async def resume_trading(info: strawberry.Info, symbol: Symbol = None) -> HaltPayload:
    op = await require_operator(info, P.MONITOR_CONTROL)
    scope, errors = await _controls(info).resume(op.subject_id, symbol)
    halted = _monitor(info).halts.is_halted(scope) if scope != MARKET else _monitor(info).halts.market_halted
    return HaltPayload(symbol=None if scope == MARKET else scope, halted=halted, halts=halt_state(info),
                       errors=[UserError.of(e) for e in errors])  # fmt: skip


async def pause_simulator(info: strawberry.Info) -> ControlPayload:
    op = await require_operator(info, P.MONITOR_CONTROL)
    await _controls(info).simulator(op.subject_id, paused=True)
    return ControlPayload(ok=True, errors=[])


async def resume_simulator(info: strawberry.Info) -> ControlPayload:
    op = await require_operator(info, P.MONITOR_CONTROL)
    await _controls(info).simulator(op.subject_id, paused=False)
    return ControlPayload(ok=True, errors=[])


async def drain_process(info: strawberry.Info, process_id: ProcessId, drain: Drain = True) -> ControlPayload:
    op = await require_operator(info, P.MONITOR_CONTROL)
    errors = await _controls(info).drain(op.subject_id, process_id, drain)
    return ControlPayload(ok=not errors, errors=[UserError.of(e) for e in errors])


async def force_close_client(info: strawberry.Info, client_id: strawberry.ID) -> ForceClosePayload:
    op = await require_operator(info, P.MONITOR_CONTROL)
    sessions, errors = await _controls(info).close_client(op.subject_id, str(client_id))
    return ForceClosePayload(sessions_revoked=sessions, errors=[UserError.of(e) for e in errors])


async def set_alert_rule(info: strawberry.Info, input: AlertRuleInput) -> AlertRulePayload:
    op = await require_operator(info, P.MONITOR_CONTROL)
    rule = DomainRule(input.name.strip(), input.figure, input.comparator, input.threshold, input.duration_seconds,
                      input.severity, input.enabled)  # fmt: skip
    saved, errors = await _monitor(info).alerts.set_rule(op.subject_id, rule)
    if saved is not None:
        await _controls(info).rules_changed()
    return AlertRulePayload(rule=AlertRule.of(saved) if saved else None, errors=[UserError.of(e) for e in errors])


async def acknowledge_alert(info: strawberry.Info, id: strawberry.ID) -> AlertPayload:
    op = await require_operator(info, P.MONITOR_CONTROL)
    row, errors = await _monitor(info).alerts.acknowledge(op.subject_id, str(id))
    return AlertPayload(alert=Alert.from_row(row) if row else None, errors=[UserError.of(e) for e in errors])
