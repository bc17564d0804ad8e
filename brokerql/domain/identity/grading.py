"""A2: client grading (客户分级) as a weighted comprehensive evaluation.

Each dimension's raw value (assets in CNY, turnover, ...) is normalised to 0..100 by a
piecewise-linear scorer through operator-set breakpoints, weighted, and summed into a score; the
score maps to a tier through ascending thresholds. :func:`GradingModel.grade` is pure, so a grading
run is repeatable, and it returns every dimension's contribution so each score can be explained.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from itertools import pairwise

from brokerql.domain.common import Rejection, to_decimal
from brokerql.domain.identity.tiers import TierCode

_HUNDRED = Decimal(100)
# Normalised values are kept to 2 places, contributions to 4: the score is the exact sum of the
# displayed contributions, so an explanation always adds up to the score shown next to it.
_NORMALISED_PLACES = Decimal("0.01")
_CONTRIBUTION_PLACES = Decimal("0.0001")


class Dimension(StrEnum):
    """What a client is graded on."""

    ASSETS = "ASSETS"  # assets under custody, CNY
    TURNOVER = "TURNOVER"  # traded value over the grading window, CNY
    COMMISSION = "COMMISSION"  # commission contributed over the window, CNY
    TENURE = "TENURE"  # months as a client
    ACTIVITY = "ACTIVITY"  # trading days with activity over the window


class InvalidGradingModel(ValueError):
    """Raised when grading with a model that :meth:`GradingModel.validate` rejects."""

    def __init__(self, rejections: Sequence[Rejection]) -> None:
        """Keep the rejections so the caller can show them."""
        super().__init__("; ".join(r.message for r in rejections))
        self.rejections = tuple(rejections)


@dataclass(frozen=True, slots=True)
class PiecewiseLinear:
    """Maps a raw value to 0..100 through ``(raw, score)`` breakpoints with ascending raw values.

    Below the first breakpoint the first score applies, above the last the last score: a client
    with assets beyond the top breakpoint is simply at the top.
    """

    breakpoints: tuple[tuple[Decimal, Decimal], ...]

    def validate(self, field: str) -> list[Rejection]:
        """Rejections (BAD_BREAKPOINTS) if empty, not strictly ascending, or scores outside 0..100."""
        if not self.breakpoints:
            return [Rejection("BAD_BREAKPOINTS", f"{field}: at least one breakpoint is required", field)]
        out: list[Rejection] = []
        raws = [raw for raw, _ in self.breakpoints]
        if any(b <= a for a, b in pairwise(raws)):
            out.append(Rejection("BAD_BREAKPOINTS", f"{field}: raw values must strictly ascend", field))
        if any(not (0 <= score <= _HUNDRED) for _, score in self.breakpoints):
            out.append(Rejection("BAD_BREAKPOINTS", f"{field}: scores must lie within 0..100", field))
        return out

    def __call__(self, raw: Decimal) -> Decimal:
        """The normalised score of ``raw``, rounded to 2 places."""
        points = self.breakpoints
        if raw <= points[0][0]:
            value = points[0][1]
        elif raw >= points[-1][0]:
            value = points[-1][1]
        else:
            value = points[-1][1]
            for (x0, y0), (x1, y1) in pairwise(points):
                if x0 <= raw <= x1:
                    value = y0 + (y1 - y0) * (raw - x0) / (x1 - x0)
                    break
        return value.quantize(_NORMALISED_PLACES, ROUND_HALF_UP)


def scorer(*points: tuple[Decimal | int | str, Decimal | int | str]) -> PiecewiseLinear:
    """Convenience constructor: ``scorer((0, 0), ("100000", 40), ...)`` with exact decimals."""
    return PiecewiseLinear(tuple((to_decimal(raw), to_decimal(score)) for raw, score in points))


@dataclass(frozen=True, slots=True)
class Contribution:
    """One line of a score's explanation: ``contribution = normalised * weight``."""

    dimension: Dimension
    raw: Decimal
    normalised: Decimal
    weight: Decimal
    contribution: Decimal


@dataclass(frozen=True, slots=True)
class GradingResult:
    """A client's score (0..100), the tier it earns, and the contributions that sum to the score."""

    score: Decimal
    tier: TierCode
    contributions: tuple[Contribution, ...]


@dataclass(frozen=True, slots=True)
class GradingModel:
    """Operator-editable weights, scorers and thresholds (ordered ``(tier, min_score)`` pairs)."""

    weights: Mapping[Dimension, Decimal]
    scorers: Mapping[Dimension, PiecewiseLinear]
    thresholds: tuple[tuple[TierCode, Decimal], ...]

    def validate(self) -> list[Rejection]:
        """Everything wrong with the model; an empty list means it can grade.

        Weights must be non-negative and sum to exactly 1; every weighted dimension needs a valid
        scorer; thresholds must start at 0 (so every client gets a tier) and ascend strictly in both
        score and tier rank.
        """
        out: list[Rejection] = []
        if not self.weights:
            out.append(Rejection("BAD_WEIGHTS", "at least one dimension must be weighted", "weights"))
        if any(w < 0 for w in self.weights.values()):
            out.append(Rejection("BAD_WEIGHTS", "weights must not be negative", "weights"))
        total = sum(self.weights.values(), Decimal(0))
        if self.weights and total != 1:
            out.append(Rejection("BAD_WEIGHTS", f"weights must sum to 1, not {total}", "weights"))
        for dim in self.weights:
            found = self.scorers.get(dim)
            if found is None:
                out.append(Rejection("MISSING_SCORER", f"no scorer for {dim}", f"scorers.{dim}"))
            else:
                out.extend(found.validate(f"scorers.{dim}"))
        out.extend(self._validate_thresholds())
        return out

    def _validate_thresholds(self) -> list[Rejection]:
        if not self.thresholds:
            return [Rejection("BAD_THRESHOLDS", "at least one threshold is required", "thresholds")]
        out: list[Rejection] = []
        if self.thresholds[0][1] != 0:
            out.append(Rejection("BAD_THRESHOLDS", "the lowest threshold must be 0", "thresholds"))
        for (tier_a, min_a), (tier_b, min_b) in pairwise(self.thresholds):
            if min_b <= min_a or tier_b.rank <= tier_a.rank:
                out.append(Rejection("BAD_THRESHOLDS", f"{tier_b} must rank and score above {tier_a}", "thresholds"))
        if any(not (0 <= m <= _HUNDRED) for _, m in self.thresholds):
            out.append(Rejection("BAD_THRESHOLDS", "thresholds must lie within 0..100", "thresholds"))
        return out

    def tier_for(self, score: Decimal) -> TierCode:
        """The highest tier whose minimum score ``score`` reaches."""
        earned = self.thresholds[0][0]
        for tier, minimum in self.thresholds:
            if score >= minimum:
                earned = tier
        return earned

    def grade(self, client_dimensions: Mapping[Dimension, Decimal]) -> GradingResult:
        """Grade one client. A dimension missing from ``client_dimensions`` counts as raw 0.

        Raises :class:`InvalidGradingModel` if the model does not validate, so a broken edit can
        never silently regrade every client.
        """
        rejections = self.validate()
        if rejections:
            raise InvalidGradingModel(rejections)
        lines = []
        # Dimension declaration order, not dict order: the explanation reads the same on every run.
        for dim in (d for d in Dimension if d in self.weights):
            raw = to_decimal(client_dimensions.get(dim, Decimal(0)))
            normalised = self.scorers[dim](raw)
            weight = self.weights[dim]
            contribution = (normalised * weight).quantize(_CONTRIBUTION_PLACES, ROUND_HALF_UP)
            lines.append(Contribution(dim, raw, normalised, weight, contribution))
        score = sum((line.contribution for line in lines), Decimal(0))
        return GradingResult(score=score, tier=self.tier_for(score), contributions=tuple(lines))


def _d(value: str) -> Decimal:
    return Decimal(value)


# A starting model for the demo and for operators to edit; the numbers are one broker's scheme.
DEFAULT_GRADING_MODEL = GradingModel(
    weights={
        Dimension.ASSETS: _d("0.40"),
        Dimension.TURNOVER: _d("0.20"),
        Dimension.COMMISSION: _d("0.20"),
        Dimension.TENURE: _d("0.10"),
        Dimension.ACTIVITY: _d("0.10"),
    },
    scorers={
        Dimension.ASSETS: scorer(
            (0, 0), (100_000, 40), (500_000, 60), (1_000_000, 75), (5_000_000, 90), (20_000_000, 100)
        ),
        Dimension.TURNOVER: scorer((0, 0), (1_000_000, 50), (10_000_000, 80), (100_000_000, 100)),
        Dimension.COMMISSION: scorer((0, 0), (1_000, 40), (10_000, 70), (100_000, 100)),
        Dimension.TENURE: scorer((0, 0), (12, 50), (60, 100)),
        Dimension.ACTIVITY: scorer((0, 0), (20, 50), (120, 100)),
    },
    thresholds=(
        (TierCode.STANDARD, _d("0")),
        (TierCode.SILVER, _d("40")),
        (TierCode.GOLD, _d("60")),
        (TierCode.PLATINUM, _d("75")),
        (TierCode.DIAMOND, _d("90")),
    ),
)
