"""Tiers editing (A4), grading (A2) and the level workflow (A3)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from brokerql.domain.identity.grading import GradingModel as DomainModel
from brokerql.domain.identity.roles import Permission as P
from brokerql.resolvers.guards import require_operator
from brokerql.schema.errors import UserError, bad_input
from brokerql.schema.types.client import Tier, tier_of
from brokerql.schema.types.grading import (
    Breakpoint,
    BrowsingRecord,
    DimensionImportInput,
    DimensionImportPayload,
    DimensionRule,
    EditTierInput,
    GradingModel,
    GradingModelInput,
    GradingModelPayload,
    GradingResult,
    GradingRun,
    LevelApplication,
    LevelApplicationPayload,
    LevelChange,
    Threshold,
)
from brokerql.schema.types.identity import ResultPayload
from brokerql.schema.types.paging import Connection, connection, page


def _errors(errors: list) -> list[UserError]:  # type: ignore[type-arg]
    return [UserError.of(e) for e in errors]


def _grading(info: strawberry.Info):  # type: ignore[no-untyped-def]
    return info.context.container.identity.grading


def _levels(info: strawberry.Info):  # type: ignore[no-untyped-def]
    return info.context.container.identity.levels


def _model(model: DomainModel, version: int) -> GradingModel:
    return GradingModel(
        version=version,
        dimensions=[
            DimensionRule(
                dimension=d.value,
                weight=w,
                breakpoints=[Breakpoint(raw=r, score=s) for r, s in model.scorers[d].breakpoints],
            )
            for d, w in model.weights.items()
        ],
        thresholds=[Threshold(tier=t.value, min_score=m) for t, m in model.thresholds],
    )


async def edit_tier(info: strawberry.Info, input: EditTierInput) -> Tier:
    op = await require_operator(info, P.TIERS_EDIT)
    errors = await info.context.container.identity.tiers.edit(
        op.subject_id, input.code, grant=input.grant, revoke=input.revoke,
        requests_per_minute=input.requests_per_minute, max_subscriptions=input.max_subscriptions,
    )  # fmt: skip
    if errors:
        raise bad_input("; ".join(e.message for e in errors), errors[0].field)
    return tier_of(info, input.code)


async def grading_model(info: strawberry.Info) -> GradingModel:
    await require_operator(info, P.GRADING_RUN)
    return _model(*await _grading(info).model())


async def set_grading_model(info: strawberry.Info, input: GradingModelInput) -> GradingModelPayload:
    op = await require_operator(info, P.GRADING_EDIT)
    data = {
        "weights": {d.dimension: str(d.weight) for d in input.dimensions},
        "scorers": {d.dimension: [[str(b.raw), str(b.score)] for b in d.breakpoints] for d in input.dimensions},
        "thresholds": [[t.tier, str(t.min_score)] for t in input.thresholds],
    }
    saved, errors = await _grading(info).set_model(op.subject_id, data)
    return GradingModelPayload(model=_model(*saved) if saved else None, errors=_errors(errors))


async def import_grading_dimensions(info: strawberry.Info, rows: list[DimensionImportInput]) -> DimensionImportPayload:
    op = await require_operator(info, P.GRADING_EDIT)
    parsed = [(str(r.client_id), r.dimension, r.value) for r in rows]
    imported, errors = await _grading(info).import_dimensions(op.subject_id, parsed)
    return DimensionImportPayload(imported=imported, errors=_errors(errors))


async def run_grading(info: strawberry.Info) -> GradingRun:
    op = await require_operator(info, P.GRADING_RUN)
    return GradingRun.from_row(await _grading(info).run(op.subject_id))


async def latest_grading_run(info: strawberry.Info) -> GradingRun | None:
    await require_operator(info, P.GRADING_RUN)
    run = await _grading(info).latest_run()
    return GradingRun.from_row(run) if run else None


async def grading_results(
    info: strawberry.Info,
    run_id: strawberry.ID | None = None,
    status: str | None = None,
    client_id: strawberry.ID | None = None,
    first: int | None = None,
    after: str | None = None,
) -> Connection[GradingResult]:
    """The A3 lists: status ELIGIBLE_NOT_APPLIED, APPLIED, PENDING_DOWNGRADE, DOWNGRADE_DUE, TRIAL_EXPIRED."""
    await require_operator(info, P.GRADING_RUN)
    request = page("grading-results", first, after)
    run, cid = (str(run_id) if run_id else None), (str(client_id) if client_id else None)
    rows = await _grading(info).results(run, status, cid, request.after_key, request.fetch)
    return connection("grading-results", rows, request, lambda r: r.client_id, GradingResult.from_row)


async def apply_for_level(info: strawberry.Info, tier: str) -> LevelApplicationPayload:
    principal = info.context.require_client()
    row, errors = await _levels(info).apply(principal.subject_id, tier)
    return LevelApplicationPayload(application=LevelApplication.from_row(row) if row else None, errors=_errors(errors))


async def level_applications(
    info: strawberry.Info, status: str | None = None, first: int | None = None, after: str | None = None
) -> Connection[LevelApplication]:
    await require_operator(info, P.LEVELS_FORCE)
    request = page("level-applications", first, after)
    rows = await _levels(info).applications(status, request.after_key, request.fetch)
    return connection("level-applications", rows, request, lambda r: r.id, LevelApplication.from_row)


async def decide_level_application(
    info: strawberry.Info, application_id: strawberry.ID, approve: bool
) -> ResultPayload:
    op = await require_operator(info, P.LEVELS_FORCE)
    errors = await _levels(info).decide(op.subject_id, str(application_id), approve)
    return ResultPayload(ok=not errors, errors=_errors(errors))


async def force_level(
    info: strawberry.Info, client_id: strawberry.ID, tier: str, reason: str, expires_at: datetime | None = None
) -> ResultPayload:
    op = await require_operator(info, P.LEVELS_FORCE)
    errors = await _levels(info).force(op.subject_id, str(client_id), tier, reason, expires_at)
    return ResultPayload(ok=not errors, errors=_errors(errors))


async def lift_forced_level(info: strawberry.Info, client_id: strawberry.ID, reason: str) -> ResultPayload:
    op = await require_operator(info, P.LEVELS_FORCE)
    errors = await _levels(info).lift_forced(op.subject_id, str(client_id), reason)
    return ResultPayload(ok=not errors, errors=_errors(errors))


async def apply_due_level_changes(info: strawberry.Info) -> int:
    op = await require_operator(info, P.GRADING_RUN)
    return await _levels(info).apply_due(op.subject_id)


async def _history(info: strawberry.Info, client: str, first: int | None, after: str | None) -> Connection[LevelChange]:
    request = page("level-history", first, after)
    rows = await _levels(info).history(client, request.after_key, request.fetch)
    return connection("level-history", rows, request, lambda r: r.id, LevelChange.from_row)


async def level_history(
    info: strawberry.Info, client_id: strawberry.ID, first: int | None = None, after: str | None = None
) -> Connection[LevelChange]:
    await require_operator(info, P.CLIENTS_READ)
    return await _history(info, str(client_id), first, after)


async def my_level_history(
    info: strawberry.Info, first: int | None = None, after: str | None = None
) -> Connection[LevelChange]:
    return await _history(info, info.context.require_client().subject_id, first, after)


async def browsing_records(
    info: strawberry.Info, client_id: strawberry.ID, first: int | None = None, after: str | None = None
) -> Connection[BrowsingRecord]:
    await require_operator(info, P.CLIENTS_READ)
    request = page("browsing", first, after)
    rows = await info.context.container.identity.clients.browsing(str(client_id), request.after_key, request.fetch)
    return connection("browsing", rows, request, lambda r: r.id, BrowsingRecord.from_row)
