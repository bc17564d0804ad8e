"""A3: the level workflow — who qualifies, who applied, who is due a downgrade, and change records.

A grading run tells us each client's *eligible* tier; this module compares it with the *current*
tier and the client's applications and says what should happen. Every change of tier is a
:class:`LevelChange` record, produced only by the functions here, so the full history (A3) is a
plain append-only list kept by the caller.

Downgrades are not immediate: a client must stay below the current tier's threshold for
``grace_days`` (counted from ``below_since``, which the caller tracks with :func:`track_below_since`)
so a one-day dip in the market does not strip a client of their service.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from brokerql.domain.common import Rejection
from brokerql.domain.identity._time import require_aware
from brokerql.domain.identity.tiers import TierCode

DEFAULT_GRACE_DAYS = 30


class LevelStatus(StrEnum):
    """Where a client stands relative to the tier they are eligible for."""

    UP_TO_DATE = "UP_TO_DATE"  # eligible tier == current tier
    ELIGIBLE_NOT_APPLIED = "ELIGIBLE_NOT_APPLIED"  # qualifies for a higher tier, has not applied
    APPLIED = "APPLIED"  # applied for a higher tier they qualify for: waiting for approval
    PENDING_DOWNGRADE = "PENDING_DOWNGRADE"  # below the current tier, still within the grace period
    DOWNGRADE_DUE = "DOWNGRADE_DUE"  # below the current tier for the whole grace period
    TRIAL_EXPIRED = "TRIAL_EXPIRED"  # a trial user whose trial period is over
    FORCED = "FORCED"  # an operator forced the current tier: grading leaves it until lifted or expired


class ChangeReason(StrEnum):
    """Why a client's tier changed."""

    APPLICATION_APPROVED = "APPLICATION_APPROVED"
    FORCED = "FORCED"
    DOWNGRADE = "DOWNGRADE"
    UPGRADE = "UPGRADE"
    TRIAL_EXPIRED = "TRIAL_EXPIRED"


@dataclass(frozen=True, slots=True)
class LevelApplication:
    """A client's open (undecided) request to move up to ``tier``."""

    client_id: str
    tier: TierCode
    applied_at: datetime


@dataclass(frozen=True, slots=True)
class LevelClassification:
    """The outcome of :func:`classify`: status, the tier it points to, and the grace end if any."""

    status: LevelStatus
    target_tier: TierCode | None
    grace_ends_at: datetime | None = None
    application: LevelApplication | None = None


@dataclass(frozen=True, slots=True)
class LevelChange:
    """One entry of a client's level history. ``to_tier`` is None when a trial ends with no tier.

    ``by_operator`` is None for changes the system made on its own (downgrades, expiries, upgrades).
    """

    client_id: str
    from_tier: TierCode | None
    to_tier: TierCode | None
    reason: ChangeReason
    by_operator: str | None
    at: datetime
    note: str = ""


def track_below_since(
    below_since: datetime | None, current: TierCode, eligible: TierCode, now: datetime
) -> datetime | None:
    """Update "below threshold since" after a grading run: start the clock, keep it, or clear it.

    Clearing on any run at or above the current tier means the grace period restarts after a
    recovery, which is the lenient reading and the one brokers' clients expect.
    """
    require_aware(now)
    if eligible.rank < current.rank:
        return below_since if below_since is not None else now
    return None


def classify(
    *,
    current: TierCode,
    eligible: TierCode,
    applications: list[LevelApplication],
    below_since: datetime | None,
    now: datetime,
    grace_days: int = DEFAULT_GRACE_DAYS,
    trial_expires_at: datetime | None = None,
    forced: bool = False,
) -> LevelClassification:
    """Classify one client for the A3 lists.

    ``applications`` are the client's open applications; only one for a tier above the current one
    and no higher than the eligible one counts (the highest such wins). A trial user past
    ``trial_expires_at`` is TRIAL_EXPIRED regardless of grading. A tier an operator forced
    (``forced``, see :func:`forced_hold`) is FORCED: no downgrade clock, no due change.
    """
    require_aware(now)
    if current is TierCode.TRIAL and trial_expires_at is not None and now >= trial_expires_at:
        return LevelClassification(LevelStatus.TRIAL_EXPIRED, None)
    if forced:
        return LevelClassification(LevelStatus.FORCED, current)
    if eligible.rank > current.rank:
        valid = [a for a in applications if current.rank < a.tier.rank <= eligible.rank]
        if valid:
            best = max(valid, key=lambda a: (a.tier.rank, a.applied_at))
            return LevelClassification(LevelStatus.APPLIED, best.tier, application=best)
        return LevelClassification(LevelStatus.ELIGIBLE_NOT_APPLIED, eligible)
    if eligible.rank < current.rank:
        # A caller that forgot to track below_since gets the full grace period from now, never less.
        started = below_since if below_since is not None else now
        grace_ends_at = started + timedelta(days=grace_days)
        status = LevelStatus.DOWNGRADE_DUE if now >= grace_ends_at else LevelStatus.PENDING_DOWNGRADE
        return LevelClassification(status, eligible, grace_ends_at=grace_ends_at)
    return LevelClassification(LevelStatus.UP_TO_DATE, current)


def approve_application(
    client_id: str,
    current: TierCode,
    application: LevelApplication,
    eligible: TierCode,
    by_operator: str,
    now: datetime,
) -> LevelChange | Rejection:
    """Approve an application if the client still qualifies (NOT_ELIGIBLE otherwise)."""
    require_aware(now)
    if not current.rank < application.tier.rank <= eligible.rank:
        return Rejection("NOT_ELIGIBLE", f"client is not eligible for {application.tier}", "tier")
    reason = ChangeReason.APPLICATION_APPROVED
    return LevelChange(client_id, current, application.tier, reason, by_operator, now)


def force_level(
    client_id: str, current: TierCode | None, to: TierCode, by_operator: str, reason_text: str, now: datetime
) -> LevelChange | Rejection:
    """An operator sets a tier regardless of grading; the reason text is mandatory (REASON_REQUIRED).

    Forcing to the current tier is refused (SAME_TIER) so the history holds only real changes.
    """
    require_aware(now)
    if not reason_text.strip():
        return Rejection("REASON_REQUIRED", "a forced level change needs a reason", "reason")
    if not by_operator.strip():
        return Rejection("OPERATOR_REQUIRED", "a forced level change needs an operator", "operator")
    if current is to:
        return Rejection("SAME_TIER", f"client is already {to}", "tier")
    return LevelChange(client_id, current, to, ChangeReason.FORCED, by_operator, now, reason_text.strip())


def forced_hold(forced_tier: str | None, forced_until: datetime | None, current: TierCode, now: datetime) -> bool:
    """Whether an operator's forced tier still holds: it is the current tier (a later approved change
    ends it) and its expiry, if one was stated, has not passed. Only an operator lifts it otherwise."""
    require_aware(now)
    if forced_tier is None or forced_tier != current.value:
        return False
    return forced_until is None or now < forced_until


def due_change(client_id: str, current: TierCode, outcome: LevelClassification, now: datetime) -> LevelChange | None:
    """The change the system applies by itself for a classification, if any.

    DOWNGRADE_DUE -> a DOWNGRADE to the eligible tier; TRIAL_EXPIRED -> TRIAL_EXPIRED to no tier.
    Upgrades wait for an application (see :func:`auto_upgrade` for schemes that upgrade unasked).
    """
    require_aware(now)
    if outcome.status is LevelStatus.DOWNGRADE_DUE:
        return LevelChange(client_id, current, outcome.target_tier, ChangeReason.DOWNGRADE, None, now)
    if outcome.status is LevelStatus.TRIAL_EXPIRED:
        return LevelChange(client_id, current, None, ChangeReason.TRIAL_EXPIRED, None, now)
    return None


def auto_upgrade(client_id: str, current: TierCode, eligible: TierCode, now: datetime) -> LevelChange | None:
    """An UPGRADE straight to the eligible tier, for brokers that upgrade without an application."""
    require_aware(now)
    if current is TierCode.TRIAL or eligible.rank <= current.rank:
        # Trial users have no trading account to grade; they move on by registering, not by score.
        return None
    return LevelChange(client_id, current, eligible, ChangeReason.UPGRADE, None, now)
