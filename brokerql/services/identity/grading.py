"""A2: the grading model, grading runs with explained scores, and their inputs (daily assets, imported
dimensions). What a run concludes is applied by the level workflow (services/identity/levels.py)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from brokerql.domain.clock import Clock
from brokerql.domain.common import Rejection
from brokerql.domain.identity.grading import DEFAULT_GRADING_MODEL, Dimension, GradingModel, PiecewiseLinear
from brokerql.domain.identity.grading_inputs import asset_record_day
from brokerql.domain.identity.level_workflow import (
    LevelApplication,
    classify,
    forced_hold,
    track_below_since,
)
from brokerql.domain.identity.tiers import TierCode
from brokerql.services.identity.audit import domain_event, operator_log
from brokerql.services.identity.grading_data import (
    PriceOf,
    check_import,
    graded_dimensions,
    no_prices,
    record_daily_assets,
)
from brokerql.services.identity.params import SystemParameters
from brokerql.store.columns import new_id
from brokerql.store.database import Database, UnitOfWork
from brokerql.store.tables import ClientRow
from brokerql.store.tables_backoffice import (
    ClientDimensionRow,
    GradingModelRow,
    GradingResultRow,
    GradingRunRow,
    LevelApplicationRow,
)
from brokerql.store.tables_identity import ClientProfileRow


def model_to_json(model: GradingModel) -> dict[str, Any]:
    return {
        "weights": {d.value: str(w) for d, w in model.weights.items()},
        "scorers": {d.value: [[str(r), str(s)] for r, s in sc.breakpoints] for d, sc in model.scorers.items()},
        "thresholds": [[t.value, str(m)] for t, m in model.thresholds],
    }


def model_from_json(data: dict[str, Any]) -> GradingModel:
    return GradingModel(
        weights={Dimension(d): Decimal(w) for d, w in data["weights"].items()},
        scorers={
            Dimension(d): PiecewiseLinear(tuple((Decimal(r), Decimal(s)) for r, s in points))
            for d, points in data["scorers"].items()
        },
        thresholds=tuple((TierCode(t), Decimal(m)) for t, m in data["thresholds"]),
    )


class Grading:
    """`container.identity.grading`: the model, runs and their results, and the data they grade."""

    def __init__(self, db: Database, params: SystemParameters, clock: Clock) -> None:
        self.db = db
        self.params = params
        self.clock = clock
        self.prices: PriceOf = no_prices  # last prices for assets at market value (the container's market data)

    async def record_daily_assets(self) -> int:
        """After the close of a trading day, record every client's assets of the day (once); the board
        eligibility rules and grading average these records. Returns the rows written."""
        day = asset_record_day(self.clock.now())
        if day is None:
            return 0
        async with self.db.transaction() as uow:
            return await record_daily_assets(uow, day, self.prices)

    async def import_dimensions(self, by: str, rows: list[tuple[str, str, Decimal]]) -> tuple[int, list[Rejection]]:
        """Store dimensions from outside systems (replacing earlier imports of the same client and
        dimension); all rows or none, operator-logged."""
        if errors := check_import(rows):
            return 0, errors
        async with self.db.transaction() as uow:
            known = set((await uow.session.scalars(select(ClientRow.id))).all())
            unknown = sorted({client for client, _d, _v in rows} - known)
            if unknown:
                return 0, [Rejection("NOT_FOUND", f"No such client: {', '.join(unknown[:5])}.", "rows")]
            for client_id, dimension, value in rows:
                row = await uow.session.get(ClientDimensionRow, (client_id, dimension))
                if row is None:
                    uow.session.add(ClientDimensionRow(client_id=client_id, dimension=dimension, value=value))
                else:
                    row.value = value
            operator_log(uow, by, "grading.import", "dimensions", None, {"rows": len(rows)})
        return len(rows), []

    # -- the model -----------------------------------------------------------------------------------
    async def model(self) -> tuple[GradingModel, int]:
        async with self.db.read() as session:
            row = await session.get(GradingModelRow, 1)
        return (model_from_json(row.model), row.version) if row else (DEFAULT_GRADING_MODEL, 0)

    async def set_model(self, by: str, data: dict[str, Any]) -> tuple[tuple[GradingModel, int] | None, list[Rejection]]:
        """Validate and store a new model; the model and its version, or the rejections."""
        try:
            model = model_from_json(data)
        except (KeyError, ValueError, ArithmeticError) as exc:
            return None, [Rejection("BAD_GRADING_MODEL", f"not a grading model: {exc}", "model")]
        if errors := model.validate():
            return None, errors
        current, _ = await self.model()
        async with self.db.transaction() as uow:
            row = await uow.session.get(GradingModelRow, 1)
            if row is None:
                row = GradingModelRow(id=1, model={}, version=0)
                uow.session.add(row)
            row.model, row.version, row.updated_at = model_to_json(model), row.version + 1, self.clock.now()
            operator_log(uow, by, "grading.set_model", "model", model_to_json(current), row.model)
            domain_event(uow, "GradingModelChanged", "model", {"version": row.version})
        return (model, row.version), []

    # -- runs ----------------------------------------------------------------------------------------
    async def run(self, by: str | None) -> GradingRunRow:
        """Grade every client with the current model; repeatable (same data, same scores)."""
        model, version = await self.model()
        grace_days = await self.params.integer("grading.grace_days")
        now = self.clock.now()
        async with self.db.transaction() as uow:
            run = GradingRunRow(id=new_id("grd"), operator_id=by, model_version=version, at=now)
            uow.session.add(run)
            await uow.session.flush()
            dims = await graded_dimensions(uow, now, self.prices)  # live data plus imports
            open_apps = await self._open_applications(uow)
            clients = (await uow.session.scalars(select(ClientRow).where(ClientRow.status != "CLOSED"))).all()
            for client in clients:
                profile = await uow.session.get(ClientProfileRow, client.id) or ClientProfileRow(client_id=client.id)
                if profile not in uow.session:
                    uow.session.add(profile)
                current = TierCode(client.tier_code)
                result = model.grade(dims.get(client.id, {}))
                forced = forced_hold(profile.forced_tier, profile.forced_until, current, now)
                below = track_below_since(profile.below_since, current, result.tier, now)
                profile.below_since = None if forced else below  # a forced tier starts no downgrade clock
                outcome = classify(
                    current=current, eligible=result.tier, applications=open_apps.get(client.id, []),
                    below_since=profile.below_since, now=now, grace_days=grace_days,
                    trial_expires_at=profile.trial_expires_at, forced=forced,
                )  # fmt: skip
                lines = [
                    {"dimension": c.dimension.value, "raw": str(c.raw), "normalised": str(c.normalised),
                     "weight": str(c.weight), "contribution": str(c.contribution)}
                    for c in result.contributions
                ]  # fmt: skip
                uow.session.add(
                    GradingResultRow(
                        run_id=run.id, client_id=client.id, current_tier=current.value,
                        eligible_tier=result.tier.value, score=result.score, status=outcome.status.value,
                        grace_ends_at=outcome.grace_ends_at, contributions=lines,
                    )
                )  # fmt: skip
            run.clients = len(clients)
            if by:
                operator_log(uow, by, "grading.run", run.id, None, {"clients": run.clients, "model": version})
            domain_event(uow, "GradingRunCompleted", run.id, {"clients": run.clients, "modelVersion": version})
        return run

    async def _open_applications(self, uow: UnitOfWork) -> dict[str, list[LevelApplication]]:
        rows = (
            await uow.session.scalars(select(LevelApplicationRow).where(LevelApplicationRow.status == "OPEN"))
        ).all()
        apps: dict[str, list[LevelApplication]] = {}
        for r in rows:
            apps.setdefault(r.client_id, []).append(LevelApplication(r.client_id, TierCode(r.tier), r.applied_at))
        return apps

    async def latest_run(self) -> GradingRunRow | None:
        async with self.db.read() as session:
            return await session.scalar(select(GradingRunRow).order_by(GradingRunRow.id.desc()).limit(1))

    async def results(
        self, run_id: str | None, status: str | None, client_id: str | None, after: str | None, limit: int
    ) -> Sequence[GradingResultRow]:
        """One page of a run's results (the latest run's when `run_id` is None; none before the first run)."""
        if run_id is None:
            latest = await self.latest_run()
            if latest is None:
                return []
            run_id = latest.id
        query = select(GradingResultRow).where(GradingResultRow.run_id == run_id)
        if status:
            query = query.where(GradingResultRow.status == status)
        if client_id:
            query = query.where(GradingResultRow.client_id == client_id)
        if after:
            query = query.where(GradingResultRow.client_id > after)
        async with self.db.read() as session:
            return (await session.scalars(query.order_by(GradingResultRow.client_id).limit(limit))).all()
