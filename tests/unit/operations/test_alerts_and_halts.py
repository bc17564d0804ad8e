"""The operations rules alone: alert thresholds with durations, and trading halts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from brokerql.domain.operations.alerts import BUILTIN_RULES, AlertEvaluator, AlertRule, Severity, validate_rule
from brokerql.domain.operations.halts import MARKET, TRADING_HALTED, Halts, scope_of
from brokerql.monitor.cluster import KNOWN_FIGURES

T0 = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)
LAG = AlertRule("LAGGING", "cluster.loopLagMsMax", ">", 100, duration_seconds=10, severity=Severity.CRITICAL)


def test_a_rule_raises_only_after_its_duration_and_clears_when_the_figure_recovers() -> None:
    evaluator = AlertEvaluator()
    assert evaluator.evaluate([LAG], {"cluster.loopLagMsMax": 150}, T0) == []
    assert evaluator.evaluate([LAG], {"cluster.loopLagMsMax": 150}, T0 + timedelta(seconds=9)) == []
    raised = evaluator.evaluate([LAG], {"cluster.loopLagMsMax": 150}, T0 + timedelta(seconds=10))
    assert [(t.rule.name, t.raise_, t.value) for t in raised] == [("LAGGING", True, 150)]
    assert evaluator.evaluate([LAG], {"cluster.loopLagMsMax": 150}, T0 + timedelta(seconds=20)) == []  # once
    cleared = evaluator.evaluate([LAG], {"cluster.loopLagMsMax": 50}, T0 + timedelta(seconds=21))
    assert [(t.rule.name, t.raise_) for t in cleared] == [("LAGGING", False)]


def test_a_dip_restarts_the_duration() -> None:
    evaluator = AlertEvaluator()
    evaluator.evaluate([LAG], {"cluster.loopLagMsMax": 150}, T0)
    evaluator.evaluate([LAG], {"cluster.loopLagMsMax": 10}, T0 + timedelta(seconds=5))
    assert evaluator.evaluate([LAG], {"cluster.loopLagMsMax": 150}, T0 + timedelta(seconds=12)) == []


def test_an_unknown_figure_changes_nothing_and_a_disabled_rule_clears_its_alert() -> None:
    evaluator = AlertEvaluator(open_rules={"LAGGING"})
    assert evaluator.evaluate([LAG], {}, T0) == []
    disabled = AlertRule("LAGGING", "cluster.loopLagMsMax", ">", 100, enabled=False)
    assert [(t.rule.name, t.raise_) for t in evaluator.evaluate([disabled], {}, T0)] == [("LAGGING", False)]


def test_the_builtin_exchange_rule_watches_the_exchange_processes() -> None:
    down = next(r for r in BUILTIN_RULES if r.name == "EXCHANGE_DOWN")
    assert down.breached({"cluster.exchangeProcesses": 0.0}) is True
    assert down.breached({"cluster.exchangeProcesses": 1.0}) is False
    assert down.severity is Severity.CRITICAL and down.builtin


def test_rules_are_validated() -> None:
    assert validate_rule(LAG, KNOWN_FIGURES) is None
    assert validate_rule(AlertRule("X", "cluster.nope", ">", 1), KNOWN_FIGURES).code == "UNKNOWN_FIGURE"
    assert validate_rule(AlertRule("X", "cluster.connections", "==", 1), KNOWN_FIGURES).field == "comparator"
    assert validate_rule(AlertRule("", "cluster.connections", ">", 1), KNOWN_FIGURES).field == "name"


def test_halts_refuse_a_symbol_or_the_whole_market() -> None:
    assert Halts().refusal("600000") is None
    symbol = Halts(frozenset({"600000"}))
    assert symbol.refusal("600000").code == TRADING_HALTED and symbol.refusal("000001") is None
    market = Halts(frozenset({MARKET}))
    assert market.market_halted and market.refusal("000001").code == TRADING_HALTED
    assert scope_of(None) == MARKET and scope_of("  ") == MARKET and scope_of("600000") == "600000"


def test_a_standby_exchange_reports_standby_so_the_exchange_alert_counts_only_the_active_one() -> None:
    from brokerql.monitor.service import Monitor
    from tests.conftest import base_settings

    monitor = Monitor(base_settings(), None, None, [], role="api+exchange")  # type: ignore[arg-type]
    assert monitor.reported_role() == "api+exchange"  # no venue host attached: as configured
    active = False
    monitor.venue_active = lambda: active
    assert monitor.reported_role() == "api+standby"
    active = True
    assert monitor.reported_role() == "api+exchange"
