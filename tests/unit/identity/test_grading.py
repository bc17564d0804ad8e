"""A2 grading: validation, explanations that add up, thresholds, repeatability."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from brokerql.domain.identity.grading import (
    DEFAULT_GRADING_MODEL,
    Dimension,
    GradingModel,
    InvalidGradingModel,
    scorer,
)
from brokerql.domain.identity.tiers import TierCode

D = Decimal
money = st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False)
dimensions = st.fixed_dictionaries({dim: money for dim in Dimension})


def test_default_model_is_valid() -> None:
    assert DEFAULT_GRADING_MODEL.validate() == []


def test_piecewise_linear_interpolates_and_clamps() -> None:
    s = scorer((0, 0), (100, 50), (300, 100))
    assert s(D(-5)) == D("0.00")
    assert s(D(50)) == D("25.00")
    assert s(D(200)) == D("75.00")
    assert s(D(1000)) == D("100.00")
    assert s(D("33.333")) == D("16.67")


@given(dimensions)
def test_contributions_sum_to_score_and_explain_it(values: dict[Dimension, Decimal]) -> None:
    result = DEFAULT_GRADING_MODEL.grade(values)
    assert sum(c.contribution for c in result.contributions) == result.score
    assert D(0) <= result.score <= D(100)
    for line in result.contributions:
        assert line.raw == values[line.dimension]
        assert line.weight == DEFAULT_GRADING_MODEL.weights[line.dimension]
        assert abs(line.normalised * line.weight - line.contribution) <= D("0.00005")
    assert result.tier is DEFAULT_GRADING_MODEL.tier_for(result.score)


@given(dimensions)
def test_grading_is_repeatable(values: dict[Dimension, Decimal]) -> None:
    assert DEFAULT_GRADING_MODEL.grade(values) == DEFAULT_GRADING_MODEL.grade(dict(values))


def test_worked_example() -> None:
    result = DEFAULT_GRADING_MODEL.grade(
        {
            Dimension.ASSETS: D(500_000),  # -> 60
            Dimension.TURNOVER: D(1_000_000),  # -> 50
            Dimension.COMMISSION: D(10_000),  # -> 70
            Dimension.TENURE: D(12),  # -> 50
            Dimension.ACTIVITY: D(20),  # -> 50
        }
    )
    # 0.4*60 + 0.2*50 + 0.2*70 + 0.1*50 + 0.1*50 = 24 + 10 + 14 + 5 + 5 = 58
    assert result.score == D("58")
    assert result.tier is TierCode.SILVER
    assert [c.dimension for c in result.contributions] == list(Dimension)
    assert [c.contribution for c in result.contributions] == [D(24), D(10), D(14), D(5), D(5)]


def test_missing_dimension_counts_as_zero() -> None:
    result = DEFAULT_GRADING_MODEL.grade({Dimension.ASSETS: D(20_000_000)})
    assert result.score == D(40)
    assert result.tier is TierCode.SILVER
    assert next(c for c in result.contributions if c.dimension is Dimension.TENURE).raw == 0


@pytest.mark.parametrize(
    ("score", "tier"),
    [
        ("0", TierCode.STANDARD),
        ("39.9999", TierCode.STANDARD),
        ("40", TierCode.SILVER),
        ("59.99", TierCode.SILVER),
        ("60", TierCode.GOLD),
        ("75", TierCode.PLATINUM),
        ("89.9999", TierCode.PLATINUM),
        ("90", TierCode.DIAMOND),
        ("100", TierCode.DIAMOND),
    ],
)
def test_thresholds_are_inclusive_minimums(score: str, tier: TierCode) -> None:
    assert DEFAULT_GRADING_MODEL.tier_for(D(score)) is tier


def test_float_raw_values_are_refused() -> None:
    with pytest.raises(TypeError):
        DEFAULT_GRADING_MODEL.grade({Dimension.ASSETS: 1.5})  # type: ignore[dict-item]


def _codes(model: GradingModel) -> set[str]:
    return {r.code for r in model.validate()}


def test_weights_must_sum_to_one_and_not_be_negative() -> None:
    weights = dict(DEFAULT_GRADING_MODEL.weights)
    weights[Dimension.ASSETS] = D("0.41")
    assert _codes(dataclasses.replace(DEFAULT_GRADING_MODEL, weights=weights)) == {"BAD_WEIGHTS"}
    weights[Dimension.ASSETS], weights[Dimension.TENURE] = D("0.60"), D("-0.10")
    assert _codes(dataclasses.replace(DEFAULT_GRADING_MODEL, weights=weights)) == {"BAD_WEIGHTS"}
    assert _codes(dataclasses.replace(DEFAULT_GRADING_MODEL, weights={})) == {"BAD_WEIGHTS"}


def test_weighted_dimension_needs_a_valid_scorer() -> None:
    scorers = dict(DEFAULT_GRADING_MODEL.scorers)
    del scorers[Dimension.TENURE]
    assert _codes(dataclasses.replace(DEFAULT_GRADING_MODEL, scorers=scorers)) == {"MISSING_SCORER"}
    scorers[Dimension.TENURE] = scorer((10, 0), (5, 50))
    assert _codes(dataclasses.replace(DEFAULT_GRADING_MODEL, scorers=scorers)) == {"BAD_BREAKPOINTS"}
    scorers[Dimension.TENURE] = scorer((0, 0), (5, 150))
    assert _codes(dataclasses.replace(DEFAULT_GRADING_MODEL, scorers=scorers)) == {"BAD_BREAKPOINTS"}


@pytest.mark.parametrize(
    "thresholds",
    [
        (),
        ((TierCode.STANDARD, D(10)), (TierCode.GOLD, D(50))),  # does not start at 0
        ((TierCode.STANDARD, D(0)), (TierCode.GOLD, D(50)), (TierCode.SILVER, D(60))),  # rank descends
        ((TierCode.STANDARD, D(0)), (TierCode.SILVER, D(50)), (TierCode.GOLD, D(50))),  # score not ascending
        ((TierCode.STANDARD, D(0)), (TierCode.GOLD, D(150))),  # above 100
    ],
)
def test_thresholds_must_ascend_from_zero(thresholds: tuple[tuple[TierCode, Decimal], ...]) -> None:
    model = dataclasses.replace(DEFAULT_GRADING_MODEL, thresholds=thresholds)
    assert _codes(model) == {"BAD_THRESHOLDS"}
    with pytest.raises(InvalidGradingModel) as caught:
        model.grade({})
    assert caught.value.rejections
