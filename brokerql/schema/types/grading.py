"""Grading (A2), the level workflow (A3) and tier editing (A4) types."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import strawberry

from brokerql.schema.errors import UserError


@strawberry.type(description="One line of a score's explanation: contribution = normalised x weight.")
class ScoreContribution:
    dimension: str = strawberry.field(description="ASSETS, TURNOVER, COMMISSION, TENURE or ACTIVITY.")
    raw: Decimal = strawberry.field(description="The client's raw value (CNY, months, days).")
    normalised: Decimal = strawberry.field(description="The raw value scored 0..100 by the dimension's scorer.")
    weight: Decimal = strawberry.field(description="The dimension's weight (weights sum to 1).")
    contribution: Decimal = strawberry.field(description="Points this dimension adds to the score.")


@strawberry.type(description="A client's result in a grading run, with its explanation.")
class GradingResult:
    client_id: strawberry.ID = strawberry.field(description="The client.")
    current_tier: str = strawberry.field(description="Tier at the time of the run.")
    eligible_tier: str = strawberry.field(description="Tier the score earns.")
    score: Decimal = strawberry.field(description="0..100, the sum of the contributions.")
    status: str = strawberry.field(
        description="UP_TO_DATE, ELIGIBLE_NOT_APPLIED, APPLIED, PENDING_DOWNGRADE, DOWNGRADE_DUE or TRIAL_EXPIRED."
    )
    grace_ends_at: datetime | None = strawberry.field(description="For downgrades: when the grace period ends.")
    contributions: list[ScoreContribution] = strawberry.field(description="Why the score is what it is.")

    @classmethod
    def from_row(cls, r: Any) -> GradingResult:
        return cls(
            client_id=strawberry.ID(r.client_id), current_tier=r.current_tier, eligible_tier=r.eligible_tier,
            score=r.score, status=r.status, grace_ends_at=r.grace_ends_at,
            contributions=[
                ScoreContribution(
                    dimension=c["dimension"], raw=Decimal(c["raw"]), normalised=Decimal(c["normalised"]),
                    weight=Decimal(c["weight"]), contribution=Decimal(c["contribution"]),
                )
                for c in r.contributions
            ],
        )  # fmt: skip


@strawberry.type(description="A grading run over every client.")
class GradingRun:
    id: strawberry.ID = strawberry.field(description="Opaque id.")
    model_version: int = strawberry.field(description="Version of the grading model used.")
    clients: int = strawberry.field(description="How many clients were graded.")
    at: datetime = strawberry.field(description="When it ran.")

    @classmethod
    def from_row(cls, r: Any) -> GradingRun:
        return cls(id=strawberry.ID(r.id), model_version=r.model_version, clients=r.clients, at=r.at)


@strawberry.type(description="A breakpoint of a dimension's scorer: raw value -> score.")
class Breakpoint:
    raw: Decimal = strawberry.field(description="Raw value.")
    score: Decimal = strawberry.field(description="Score 0..100 at that value.")


@strawberry.type(description="How one dimension counts.")
class DimensionRule:
    dimension: str = strawberry.field(description="The dimension.")
    weight: Decimal = strawberry.field(description="Its weight.")
    breakpoints: list[Breakpoint] = strawberry.field(description="Piecewise-linear scorer, ascending raw values.")


@strawberry.type(description="The minimum score of a tier.")
class Threshold:
    tier: str = strawberry.field(description="Tier code.")
    min_score: Decimal = strawberry.field(description="Score needed for it.")


@strawberry.type(description="The grading model: weights, scorers and thresholds (operator-edited).")
class GradingModel:
    version: int = strawberry.field(description="Increases with every edit.")
    dimensions: list[DimensionRule] = strawberry.field(description="Weighted dimensions.")
    thresholds: list[Threshold] = strawberry.field(description="Tier thresholds, ascending.")


@strawberry.input(description="A scorer breakpoint.")
class BreakpointInput:
    raw: Decimal = strawberry.field(description="Raw value.")
    score: Decimal = strawberry.field(description="Score 0..100.")


@strawberry.input(description="One dimension of the grading model.")
class DimensionRuleInput:
    dimension: str = strawberry.field(description="ASSETS, TURNOVER, COMMISSION, TENURE or ACTIVITY.")
    weight: Decimal = strawberry.field(description="Weight; all weights must sum to 1.")
    breakpoints: list[BreakpointInput] = strawberry.field(description="Scorer breakpoints, ascending raw values.")


@strawberry.input(description="One client's dimension value from an outside system (e.g. a previous broker system).")
class DimensionImportInput:
    client_id: strawberry.ID = strawberry.field(description="The client.")
    dimension: str = strawberry.field(description="TURNOVER, COMMISSION, TENURE or ACTIVITY (assets are always live).")
    value: Decimal = strawberry.field(
        description="Turnover and commission in CNY and activity in days are added to the live figures; "
        "tenure in months is a floor under the months since the first account opened."
    )


@strawberry.type(description="Result of importGradingDimensions.")
class DimensionImportPayload:
    imported: int = strawberry.field(description="Rows stored (all or none).")
    errors: list[UserError] = strawberry.field(description="BAD_DIMENSION, BAD_VALUE, NOT_FOUND.")


@strawberry.input(description="A tier threshold.")
class ThresholdInput:
    tier: str = strawberry.field(description="Tier code.")
    min_score: Decimal = strawberry.field(description="Minimum score; the first must be 0.")


@strawberry.input(description="A complete grading model.")
class GradingModelInput:
    dimensions: list[DimensionRuleInput] = strawberry.field(description="Weighted dimensions.")
    thresholds: list[ThresholdInput] = strawberry.field(description="Tier thresholds, ascending.")


@strawberry.type(description="Result of setGradingModel.")
class GradingModelPayload:
    model: GradingModel | None = strawberry.field(description="The model after the change.")
    errors: list[UserError] = strawberry.field(description="BAD_WEIGHTS, BAD_THRESHOLDS, BAD_BREAKPOINTS ...")


@strawberry.type(description="A client's application for a higher tier.")
class LevelApplication:
    id: strawberry.ID = strawberry.field(description="Opaque id.")
    client_id: strawberry.ID = strawberry.field(description="The client.")
    tier: str = strawberry.field(description="Tier applied for.")
    status: str = strawberry.field(description="OPEN, APPROVED or REJECTED.")
    applied_at: datetime = strawberry.field(description="When.")
    decided_at: datetime | None = strawberry.field(description="When it was decided.")

    @classmethod
    def from_row(cls, r: Any) -> LevelApplication:
        return cls(
            id=strawberry.ID(r.id), client_id=strawberry.ID(r.client_id), tier=r.tier, status=r.status,
            applied_at=r.applied_at, decided_at=r.decided_at,
        )  # fmt: skip


@strawberry.type(description="Result of applyForLevel.")
class LevelApplicationPayload:
    application: LevelApplication | None = strawberry.field(description="The application.")
    errors: list[UserError] = strawberry.field(description="Why it was refused, if it was.")


@strawberry.type(description="One change of a client's tier (A3 history).")
class LevelChange:
    id: strawberry.ID = strawberry.field(description="Opaque id.")
    from_tier: str | None = strawberry.field(description="Tier before (null at registration).")
    to_tier: str | None = strawberry.field(description="Tier after (null when a trial ended).")
    reason: str = strawberry.field(description="APPLICATION_APPROVED, FORCED, DOWNGRADE, UPGRADE, TRIAL_EXPIRED, ...")
    by_operator: strawberry.ID | None = strawberry.field(description="The operator, for operator decisions.")
    note: str = strawberry.field(description="Reason text of forced changes.")
    at: datetime = strawberry.field(description="When.")

    @classmethod
    def from_row(cls, r: Any) -> LevelChange:
        return cls(
            id=strawberry.ID(r.id), from_tier=r.from_tier, to_tier=r.to_tier, reason=r.reason,
            by_operator=strawberry.ID(r.by_operator) if r.by_operator else None, note=r.note, at=r.at,
        )  # fmt: skip


@strawberry.type(description="Something a client viewed (A3 browsing records).")
class BrowsingRecord:
    id: strawberry.ID = strawberry.field(description="Opaque id.")
    kind: str = strawberry.field(description="ARTICLE, COLUMN, INSTRUMENT, SCREEN ...")
    ref: str = strawberry.field(description="What was viewed.")
    at: datetime = strawberry.field(description="When.")

    @classmethod
    def from_row(cls, r: Any) -> BrowsingRecord:
        return cls(id=strawberry.ID(r.id), kind=r.kind, ref=r.ref, at=r.at)


@strawberry.input(description="An edit of one tier: entitlements to grant and revoke, optional limits.")
class EditTierInput:
    code: str = strawberry.field(description="Tier code.")
    grant: list[str] = strawberry.field(default_factory=list, description="Entitlement keys to add.")
    revoke: list[str] = strawberry.field(default_factory=list, description="Entitlement keys to remove.")
    requests_per_minute: int | None = strawberry.field(default=None, description="New request limit.")
    max_subscriptions: int | None = strawberry.field(default=None, description="New subscription limit.")
