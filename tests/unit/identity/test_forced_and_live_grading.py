"""Issue #15 in the identity domain: a forced tier holds, and grading dimensions come from live data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

from brokerql.domain.identity.grading import DEFAULT_GRADING_MODEL, Dimension
from brokerql.domain.identity.grading_inputs import LiveFacts, average_assets, live_dimensions, months_since
from brokerql.domain.identity.level_workflow import LevelStatus, classify, due_change, forced_hold
from brokerql.domain.identity.login_policy import GUARD_RETENTION, stale_guard_cutoff
from brokerql.domain.identity.tiers import TierCode

NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


def test_a_forced_tier_holds_until_lifted_or_expired() -> None:
    gold = TierCode.GOLD
    assert forced_hold("GOLD", None, gold, NOW)
    assert forced_hold("GOLD", NOW + timedelta(days=1), gold, NOW)
    assert not forced_hold("GOLD", NOW, gold, NOW)  # expired
    assert not forced_hold(None, None, gold, NOW)  # lifted
    assert not forced_hold("GOLD", None, TierCode.PLATINUM, NOW)  # a later approved change ends it
    long_below = NOW - timedelta(days=365)
    held = classify(current=gold, eligible=TierCode.STANDARD, applications=[], below_since=long_below, now=NOW,
                    forced=True)  # fmt: skip
    assert held.status is LevelStatus.FORCED and due_change("c", gold, held, NOW) is None
    free = classify(current=gold, eligible=TierCode.STANDARD, applications=[], below_since=long_below, now=NOW)
    assert free.status is LevelStatus.DOWNGRADE_DUE


def test_live_dimensions_add_fills_and_logins_to_imports_and_read_assets_live() -> None:
    imported = {Dimension.TURNOVER: D(200_000), Dimension.COMMISSION: D(300), Dimension.TENURE: D(6),
                Dimension.ACTIVITY: D(10), Dimension.ASSETS: D(99_999_999)}  # fmt: skip
    live = LiveFacts(
        assets_today=D(600_000), asset_history=(D(400_000),) * 3, turnover=D(1_000_000), commission=D(250),
        first_account_at=NOW - timedelta(days=800), login_days=30,
    )  # fmt: skip
    dims = live_dimensions(imported, live, NOW)
    assert dims[Dimension.ASSETS] == D(450_000)  # (600k + 3 x 400k) / 4; imported assets ignored
    assert dims[Dimension.TURNOVER] == D(1_200_000) and dims[Dimension.COMMISSION] == D(550)
    assert dims[Dimension.TENURE] == D(26) and dims[Dimension.ACTIVITY] == D(40)
    before = DEFAULT_GRADING_MODEL.grade(live_dimensions(imported, LiveFacts(assets_today=D(600_000)), NOW))
    after = DEFAULT_GRADING_MODEL.grade(dims)
    assert after.score > before.score


def test_months_and_averages() -> None:
    assert months_since(None, NOW) == 0 and months_since(NOW + timedelta(days=3), NOW) == 0
    assert months_since(datetime(2024, 11, 30, tzinfo=UTC), NOW) == 24
    assert months_since(datetime(2024, 12, 1, tzinfo=UTC), NOW) == 23
    assert average_assets(D(100), ()) == D(100)


def test_stale_guard_rows_are_a_week_old() -> None:
    assert stale_guard_cutoff(NOW) == NOW - GUARD_RETENTION and timedelta(days=1) < GUARD_RETENTION


def test_the_days_assets_are_recorded_after_the_close_of_a_trading_day() -> None:
    from brokerql.domain.identity.grading_inputs import asset_record_day

    monday = datetime(2026, 11, 30, 6, 59, tzinfo=UTC)  # 14:59 in Shanghai
    assert asset_record_day(monday) is None
    assert asset_record_day(monday + timedelta(minutes=1)) == monday.date()  # 15:00: closed
    assert asset_record_day(datetime(2026, 11, 29, 9, 0, tzinfo=UTC)) is None  # a Sunday
