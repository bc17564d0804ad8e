"""A3: the level workflow: applications and their approval, forced assignment and its lifting, due
downgrades and trial expiries from the latest grading run, and the history. Every tier change goes through
`_change_tier`, which writes the level history row and a TierChanged domain event in the same transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select

from brokerql.domain.clock import Clock
from brokerql.domain.common import Rejection
from brokerql.domain.identity.level_workflow import (
    LevelApplication,
    approve_application,
    classify,
    due_change,
    force_level,
    forced_hold,
)
from brokerql.domain.identity.tiers import TierCode
from brokerql.services.auth import AuthService
from brokerql.services.identity.audit import domain_event, operator_log, tier_changed
from brokerql.services.identity.grading import Grading
from brokerql.services.identity.params import SystemParameters
from brokerql.store.columns import new_id
from brokerql.store.database import Database, UnitOfWork
from brokerql.store.tables import ClientRow
from brokerql.store.tables_backoffice import GradingResultRow, GradingRunRow, LevelApplicationRow, LevelChangeRow
from brokerql.store.tables_identity import ClientProfileRow


class LevelWorkflow:
    """`container.identity.levels`: clients apply, operators decide or force, due changes follow `runs`."""

    def __init__(self, db: Database, auth: AuthService, params: SystemParameters, clock: Clock, runs: Grading) -> None:
        self.db, self.auth, self.params, self.clock, self.runs = db, auth, params, clock, runs

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
        run = await self.runs.latest_run()
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
