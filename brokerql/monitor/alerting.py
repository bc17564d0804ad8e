"""Alerts (E3): rules edited by operators (plus the built-in exchange rules), evaluated by one process
of the cluster (the board's leader) against the cluster's figures; raised and cleared alerts are stored
as a history with acknowledgement and announced on `ops.alerts`."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy import select, update

from brokerql.bus import Bus
from brokerql.domain.common import Rejection
from brokerql.domain.operations.alerts import BUILTIN_RULES, AlertEvaluator, AlertRule, Severity, validate_rule
from brokerql.monitor.cluster import KNOWN_FIGURES
from brokerql.monitor.messages import AlertNotice, encode
from brokerql.services.identity.audit import operator_log
from brokerql.store.columns import new_id, utcnow
from brokerql.store.database import Database
from brokerql.store.tables_operations import AlertRow, AlertRuleRow

ALERTS_TOPIC = "ops.alerts"
RULES_CACHE_SECONDS = 1.0
HISTORY_LIMIT = 50


def _rule_of(row: AlertRuleRow, builtin: bool) -> AlertRule:
    return AlertRule(
        row.name,
        row.figure,
        row.comparator,
        row.threshold,
        row.duration_seconds,
        Severity(row.severity),
        row.enabled,
        builtin,
    )


class AlertService:
    def __init__(self, db: Database, bus: Bus) -> None:
        self.db = db
        self.bus = bus
        self.evaluator: AlertEvaluator | None = None  # only while this process leads
        self._rules: tuple[float, list[AlertRule]] | None = None

    def forget_rules(self) -> None:
        self._rules = None

    async def rules(self) -> list[AlertRule]:
        if self._rules is not None and time.monotonic() - self._rules[0] < RULES_CACHE_SECONDS:
            return self._rules[1]
        async with self.db.read() as session:
            rows = {r.name: r for r in (await session.scalars(select(AlertRuleRow))).all()}
        builtin = {r.name for r in BUILTIN_RULES}
        rules = [_rule_of(rows.pop(r.name), True) if r.name in rows else r for r in BUILTIN_RULES]
        rules += [_rule_of(row, row.name in builtin) for row in sorted(rows.values(), key=lambda r: r.name)]
        self._rules = (time.monotonic(), rules)
        return rules

    async def evaluate(self, figures: dict[str, float], now: datetime) -> None:
        """Run the rules (leader only). A new leader first learns which alerts are open."""
        if self.evaluator is None:
            async with self.db.read() as session:
                open_rules = (await session.scalars(select(AlertRow.rule).where(AlertRow.cleared_at.is_(None)))).all()
            self.evaluator = AlertEvaluator(open_rules=set(open_rules))
        for change in self.evaluator.evaluate(await self.rules(), figures, now):
            if change.raise_:
                alert_id = new_id("alr")
                async with self.db.transaction() as uow:
                    uow.session.add(
                        AlertRow(
                            id=alert_id,
                            rule=change.rule.name,
                            severity=change.rule.severity.value,
                            message=change.rule.describe(change.value)[:255],
                            value=change.value,
                            raised_at=now,
                        )
                    )
            else:
                async with self.db.transaction() as uow:
                    await uow.session.execute(
                        update(AlertRow)
                        .where(AlertRow.rule == change.rule.name, AlertRow.cleared_at.is_(None))
                        .values(cleared_at=now)
                    )
                alert_id = ""
            await self.bus.publish(ALERTS_TOPIC, encode(AlertNotice(alert_id, change.rule.name, change.raise_)))

    def step_down(self) -> None:
        self.evaluator = None

    async def history(self, limit: int = HISTORY_LIMIT) -> Sequence[AlertRow]:
        """Open alerts first, then the most recent, newest first."""
        async with self.db.read() as session:
            query = select(AlertRow).order_by(AlertRow.cleared_at.is_(None).desc(), AlertRow.raised_at.desc())
            return (await session.scalars(query.limit(limit))).all()

    async def acknowledge(self, by: str, alert_id: str) -> tuple[AlertRow | None, list[Rejection]]:
        async with self.db.transaction() as uow:
            row = await uow.session.get(AlertRow, alert_id)
            if row is None:
                return None, [Rejection("NOT_FOUND", "No such alert.", "id")]
            if row.acknowledged_at is None:
                row.acknowledged_by, row.acknowledged_at = by, utcnow()
                operator_log(uow, by, "alert.acknowledge", alert_id, None, {"rule": row.rule})
        return row, []

    async def set_rule(self, by: str, rule: AlertRule) -> tuple[AlertRule | None, list[Rejection]]:
        """Add or change a rule (every process reads rules through a one-second cache)."""
        builtin = {r.name: r for r in BUILTIN_RULES}
        if rule.name in builtin and rule.figure != builtin[rule.name].figure:
            return None, [Rejection("BAD_RULE", "A built-in rule keeps its figure.", "figure")]
        if (rejection := validate_rule(rule, KNOWN_FIGURES)) is not None:
            return None, [rejection]
        async with self.db.transaction() as uow:
            row = await uow.session.get(AlertRuleRow, rule.name)
            before = None if row is None else {"threshold": row.threshold, "enabled": row.enabled}
            row = row or AlertRuleRow(name=rule.name, figure=rule.figure, comparator=rule.comparator, threshold=0,
                                      severity=rule.severity.value, updated_by=by)  # fmt: skip
            row.figure, row.comparator, row.threshold = rule.figure, rule.comparator, rule.threshold
            row.duration_seconds, row.severity, row.enabled = rule.duration_seconds, rule.severity.value, rule.enabled
            row.updated_by, row.updated_at = by, utcnow()
            uow.session.add(row)
            after = {
                "figure": rule.figure,
                "comparator": rule.comparator,
                "threshold": rule.threshold,
                "durationSeconds": rule.duration_seconds,
                "severity": rule.severity.value,
                "enabled": rule.enabled,
            }
            operator_log(uow, by, "alert_rule.set", rule.name, before, after)
        self.forget_rules()
        return replace(rule, builtin=rule.name in builtin), []
