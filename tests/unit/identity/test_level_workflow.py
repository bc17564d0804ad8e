"""A3 level workflow: classification, grace period and change records."""

from __future__ import annotations

from datetime import timedelta

from brokerql.domain.common import Rejection
from brokerql.domain.identity.level_workflow import (
    ChangeReason,
    LevelApplication,
    LevelChange,
    LevelStatus,
    approve_application,
    auto_upgrade,
    classify,
    due_change,
    force_level,
    track_below_since,
)
from brokerql.domain.identity.tiers import TierCode

from .conftest import T0

S, SILVER, GOLD, PLAT = TierCode.STANDARD, TierCode.SILVER, TierCode.GOLD, TierCode.PLATINUM


def _classify(current, eligible, applications=(), below_since=None, now=T0, **kw):
    apps = list(applications)
    return classify(current=current, eligible=eligible, applications=apps, below_since=below_since, now=now, **kw)


def test_up_to_date() -> None:
    assert _classify(GOLD, GOLD).status is LevelStatus.UP_TO_DATE


def test_eligible_not_applied() -> None:
    outcome = _classify(S, GOLD)
    assert (outcome.status, outcome.target_tier) == (LevelStatus.ELIGIBLE_NOT_APPLIED, GOLD)


def test_applied_picks_highest_valid_application() -> None:
    apps = [
        LevelApplication("c1", SILVER, T0 - timedelta(days=3)),
        LevelApplication("c1", GOLD, T0 - timedelta(days=2)),
        LevelApplication("c1", PLAT, T0 - timedelta(days=1)),  # above eligibility: does not count
    ]
    outcome = _classify(S, GOLD, apps)
    assert (outcome.status, outcome.target_tier) == (LevelStatus.APPLIED, GOLD)
    assert outcome.application == apps[1]


def test_application_beyond_eligibility_is_not_applied() -> None:
    outcome = _classify(S, SILVER, [LevelApplication("c1", GOLD, T0)])
    assert outcome.status is LevelStatus.ELIGIBLE_NOT_APPLIED


def test_grace_period_before_downgrade() -> None:
    below = T0
    almost = below + timedelta(days=29, hours=23)
    within = _classify(GOLD, SILVER, below_since=below, now=almost, grace_days=30)
    assert within.status is LevelStatus.PENDING_DOWNGRADE
    assert within.grace_ends_at == below + timedelta(days=30)
    assert due_change("c1", GOLD, within, T0) is None
    due = _classify(GOLD, SILVER, below_since=below, now=below + timedelta(days=30), grace_days=30)
    assert due.status is LevelStatus.DOWNGRADE_DUE
    change = due_change("c1", GOLD, due, below + timedelta(days=30))
    assert change == LevelChange("c1", GOLD, SILVER, ChangeReason.DOWNGRADE, None, below + timedelta(days=30))


def test_missing_below_since_gives_full_grace() -> None:
    outcome = _classify(GOLD, S, below_since=None, grace_days=7)
    assert outcome.status is LevelStatus.PENDING_DOWNGRADE
    assert outcome.grace_ends_at == T0 + timedelta(days=7)


def test_track_below_since_starts_keeps_and_clears() -> None:
    started = track_below_since(None, GOLD, SILVER, T0)
    assert started == T0
    assert track_below_since(started, GOLD, SILVER, T0 + timedelta(days=5)) == T0
    assert track_below_since(started, GOLD, GOLD, T0 + timedelta(days=6)) is None
    assert track_below_since(None, GOLD, PLAT, T0) is None


def test_trial_expiry() -> None:
    expired = _classify(TierCode.TRIAL, TierCode.TRIAL, trial_expires_at=T0)
    assert expired.status is LevelStatus.TRIAL_EXPIRED
    change = due_change("t1", TierCode.TRIAL, expired, T0)
    assert change is not None and change.reason is ChangeReason.TRIAL_EXPIRED and change.to_tier is None
    running = _classify(TierCode.TRIAL, TierCode.TRIAL, trial_expires_at=T0 + timedelta(seconds=1))
    assert running.status is LevelStatus.UP_TO_DATE


def test_approve_application() -> None:
    app = LevelApplication("c1", GOLD, T0 - timedelta(days=1))
    change = approve_application("c1", S, app, GOLD, "op7", T0)
    assert change == LevelChange("c1", S, GOLD, ChangeReason.APPLICATION_APPROVED, "op7", T0)
    refused = approve_application("c1", S, app, SILVER, "op7", T0)
    assert isinstance(refused, Rejection) and refused.code == "NOT_ELIGIBLE"


def test_forced_assignment_needs_a_reason() -> None:
    refused = force_level("c1", S, PLAT, "op7", "   ", T0)
    assert isinstance(refused, Rejection) and refused.code == "REASON_REQUIRED"
    same = force_level("c1", PLAT, PLAT, "op7", "VIP request", T0)
    assert isinstance(same, Rejection) and same.code == "SAME_TIER"
    change = force_level("c1", S, PLAT, "op7", " strategic client ", T0)
    assert change == LevelChange("c1", S, PLAT, ChangeReason.FORCED, "op7", T0, "strategic client")


def test_auto_upgrade() -> None:
    assert auto_upgrade("c1", S, GOLD, T0) == LevelChange("c1", S, GOLD, ChangeReason.UPGRADE, None, T0)
    assert auto_upgrade("c1", GOLD, GOLD, T0) is None
    assert auto_upgrade("c1", GOLD, S, T0) is None
