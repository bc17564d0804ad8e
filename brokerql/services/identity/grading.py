"""A2/A3: grading runs with explained scores, and the level workflow (applications, approvals, forced
assignment, due downgrades and trial expiries, history). Every tier change goes through `_change_tier`,
which writes the level history row and a TierChanged domain event in the same transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from brokerql.domain.clock import Clock
from brokerql.domain.common import Rejection
from brokerql.domain.identity.grading import DEFAULT_GRADING_MODEL, Dimension, GradingModel, PiecewiseLinear
from brokerql.domain.identity.grading_inputs import asset_record_day
from brokerql.domain.identity.level_workflow import (
    LevelApplication,
    LevelStatus,
    approve_application,
    classify,
    due_change,
    force_level,
    forced_hold,
    track_below_since,
)
from brokerql.domain.identity.tiers import TierCode
from brokerql.services.auth import AuthService
from brokerql.services.identity.audit import domain_event, operator_log, tier_changed
from brokerql.services.identity.grading_data import (
    PriceOf,
    check_import,
    graded_dimensions,
    no_prices,
    record_daily_assets,
)
from brokerql.services.identity.params import SystemParameters
from brokerql.services.identity.tiers import TierCatalogStore
from brokerql.store.columns import new_id
from brokerql.store.database import Database, UnitOfWork
from brokerql.store.tables import ClientRow
from brokerql.store.tables_backoffice import (
    ClientDimensionRow,
    GradingModelRow,
    GradingResultRow,
    GradingRunRow,
    LevelApplicationRow,
    LevelChangeRow,
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
    def __init__(
        self, db: Database, auth: AuthService, tiers: TierCatalogStore, params: SystemParameters, clock: Clock
    ) -> None:
        self.db = db
        self.auth = auth
        self.tiers = tiers
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

    # -- the level workflow ----------------------------------------------------------------------------
    async def _eligible(self, uow: UnitOfWork, client_id: str) -> TierCode | None:
        query = (
            select(GradingResultRow.eligible_tier)
            .join(GradingRunRow, GradingRunRow.id == GradingResultRow.run_id)
            .where(GradingResultRow.client_id == client_id)
            .order_by(GradingRunRow.id.desc())
            .limit(1)
        )
        tier = await uow.session.scalar(query)
        return TierCode(tier) if tier else None

    async def apply(self, client_id: str, tier: str) -> tuple[LevelApplicationRow | None, list[Rejection]]:
        if tier not in TierCode.__members__:
            return None, [Rejection("UNKNOWN_TIER", f"unknown tier {tier!r}", "tier")]
        async with self.db.transaction() as uow:
            client = await uow.session.get(ClientRow, client_id)
            if TierCode(tier).rank <= TierCode(client.tier_code).rank:
                return None, [Rejection("NOT_AN_UPGRADE", f"You are already {client.tier_code}.", "tier")]
            exists = await uow.session.scalar(
                select(func.count()).where(
                    LevelApplicationRow.client_id == client_id, LevelApplicationRow.status == "OPEN"
                )
            )
            if exists:
                return None, [Rejection("APPLICATION_OPEN", "You already have an open application.", "tier")]
            row = LevelApplicationRow(id=new_id("lap"), client_id=client_id, tier=tier, applied_at=self.clock.now())
            uow.session.add(row)
            domain_event(uow, "LevelApplied", client_id, {"tier": tier})
        return row, []

    async def applications(self, status: str | None, after: str | None, limit: int) -> Sequence[LevelApplicationRow]:
        query = select(LevelApplicationRow)
        if status:
            query = query.where(LevelApplicationRow.status == status)
        if after:
            query = query.where(LevelApplicationRow.id > after)
        async with self.db.read() as session:
            return (await session.scalars(query.order_by(LevelApplicationRow.id).limit(limit))).all()

    async def decide(self, by: str, application_id: str, approve: bool) -> list[Rejection]:
        async with self.db.transaction() as uow:
            app = await uow.session.get(LevelApplicationRow, application_id)
            if app is None or app.status != "OPEN":
                return [Rejection("NOT_FOUND", "No such open application.", "applicationId")]
            client = await uow.session.get(ClientRow, app.client_id)
            current = TierCode(client.tier_code)
            if approve:
                eligible = await self._eligible(uow, client.id) or current
                application = LevelApplication(client.id, TierCode(app.tier), app.applied_at)
                change = approve_application(client.id, current, application, eligible, by, self.clock.now())
                if isinstance(change, Rejection):
                    return [change]
                await self._change_tier(uow, client, change.to_tier, change.reason.value, by, "")
            app.status, app.decided_at, app.decided_by = ("APPROVED" if approve else "REJECTED"), self.clock.now(), by
            operator_log(uow, by, "level.decide", application_id, {"status": "OPEN"}, {"status": app.status})
        return []

    async def force(
        self, by: str, client_id: str, tier: str, reason: str, expires_at: datetime | None = None
    ) -> list[Rejection]:
        """Set a tier regardless of grading; it holds (grading runs and due changes leave it) until an
        operator lifts it or `expires_at` passes."""
        if tier not in TierCode.__members__:
            return [Rejection("UNKNOWN_TIER", f"unknown tier {tier!r}", "tier")]
        now = self.clock.now()
        if expires_at is not None and expires_at <= now:
            return [Rejection("BAD_EXPIRY", "expiresAt must be in the future.", "expiresAt")]
        async with self.db.transaction() as uow:
            client = await uow.session.get(ClientRow, client_id)
            if client is None:
                return [Rejection("NOT_FOUND", "No such client.", "clientId")]
            change = force_level(client.id, TierCode(client.tier_code), TierCode(tier), by, reason, now)
            if isinstance(change, Rejection):
                return [change]
            before = {"tier": client.tier_code}
            await self._change_tier(uow, client, change.to_tier, change.reason.value, by, change.note)
            profile = await self._profile(uow, client.id)
            profile.forced_tier, profile.forced_until, profile.below_since = tier, expires_at, None
            after = {"tier": tier, "reason": reason, "expiresAt": expires_at.isoformat() if expires_at else None}
            operator_log(uow, by, "level.force", client_id, before, after)
        return []

    async def lift_forced(self, by: str, client_id: str, reason: str) -> list[Rejection]:
        """End a forced tier's hold: the next grading run treats the client like any other."""
        if not reason.strip():
            return [Rejection("REASON_REQUIRED", "Say why the forced level is lifted.", "reason")]
        async with self.db.transaction() as uow:
            profile = await uow.session.get(ClientProfileRow, client_id)
            if profile is None or profile.forced_tier is None:
                return [Rejection("NOT_FORCED", "This client's level is not forced.", "clientId")]
            before = {"forcedTier": profile.forced_tier}
            profile.forced_tier, profile.forced_until = None, None
            operator_log(uow, by, "level.lift_forced", client_id, before, {"forcedTier": None, "reason": reason})
            domain_event(uow, "ForcedLevelLifted", client_id, {"reason": reason})
        return []

    @staticmethod
    async def _profile(uow: UnitOfWork, client_id: str) -> ClientProfileRow:
        profile = await uow.session.get(ClientProfileRow, client_id)
        if profile is None:
            profile = ClientProfileRow(client_id=client_id)
            uow.session.add(profile)
        return profile

    async def apply_due(self, by: str) -> int:
        """Apply due downgrades (grace period over) and trial expiries from the latest run."""
        run = await self.latest_run()
        if run is None:
            return 0
        grace_days = await self.params.integer("grading.grace_days")
        changed = 0
        async with self.db.transaction() as uow:
            results = await uow.session.scalars(select(GradingResultRow).where(GradingResultRow.run_id == run.id))
            for result in results.all():
                client = await uow.session.get(ClientRow, result.client_id)
                profile = await uow.session.get(ClientProfileRow, result.client_id)
                if client is None or client.tier_code != result.current_tier or client.status == "EXPIRED":
                    continue
                current, now = TierCode(client.tier_code), self.clock.now()
                forced = profile is not None and forced_hold(profile.forced_tier, profile.forced_until, current, now)
                outcome = classify(
                    current=current, eligible=TierCode(result.eligible_tier), applications=[],
                    below_since=profile.below_since if profile else None, now=now, grace_days=grace_days,
                    trial_expires_at=profile.trial_expires_at if profile else None, forced=forced,
                )  # fmt: skip
                change = due_change(client.id, current, outcome, now)
                if change is None:
                    continue
                await self._change_tier(uow, client, change.to_tier, change.reason.value, by, "")
                changed += 1
            operator_log(uow, by, "level.apply_due", run.id, None, {"changed": changed})
        return changed

    async def _change_tier(
        self, uow: UnitOfWork, client: ClientRow, to: TierCode | None, reason: str, by: str | None, note: str
    ) -> None:
        before = client.tier_code
        if to is None:
            client.status = "EXPIRED"  # a trial that ended: no tier to move to, the login is closed
        else:
            client.tier_code = to.value
        tier_changed(uow, client.id, before, to.value if to else None, reason, by, note)
        self.auth.forget_tier(client.id)

    async def history(self, client_id: str, before: str | None, limit: int) -> Sequence[LevelChangeRow]:
        query = select(LevelChangeRow).where(LevelChangeRow.client_id == client_id)
        if before:
            query = query.where(LevelChangeRow.id < before)
        async with self.db.read() as session:
            return (await session.scalars(query.order_by(LevelChangeRow.id.desc()).limit(limit))).all()

    def lists(self) -> list[str]:
        return [s.value for s in LevelStatus]
