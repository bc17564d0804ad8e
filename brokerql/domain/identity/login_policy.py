"""A6: captcha after failures, lockout with growing waits, and the idle lock — a pure state machine.

The service loads a :class:`LoginGuardState` per user, calls :func:`evaluate_attempt` with whether
the password (and captcha) checked out, stores the returned state and reports the rejection, if any.

Sequence with the default :class:`LoginPolicy`: failures 1-2 only say INVALID_CREDENTIALS; from the
3rd the captcha is required; the 5th locks the account for 1 minute (ACCOUNT_LOCKED). Attempts
while locked are refused without checking anything and change nothing — a lock can be neither
extended nor lifted by hammering it. Once a lock has expired, failures keep counting, so the next
failure locks again at once, for twice as long (2, 4, 8 ... minutes, capped at 24 h). A success
resets everything. Operators can lift a lock with :func:`unlock`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from brokerql.domain.common import Rejection
from brokerql.domain.identity._time import require_aware


@dataclass(frozen=True, slots=True)
class LoginPolicy:
    """The configurable numbers of the login guard (system parameters, A5)."""

    captcha_after: int = 3
    lock_after: int = 5
    first_lock: timedelta = timedelta(minutes=1)
    max_lock: timedelta = timedelta(hours=24)
    idle_minutes: int = 15


@dataclass(frozen=True, slots=True)
class LoginGuardState:
    """Per-user guard state. ``locks`` counts locks since the last success (it drives the doubling)."""

    failures: int = 0
    locked_until: datetime | None = None
    captcha_required: bool = False
    last_activity: datetime | None = None
    locks: int = 0

    def is_locked(self, now: datetime) -> bool:
        """Whether the account is locked at ``now``."""
        return self.locked_until is not None and now < self.locked_until


@dataclass(frozen=True, slots=True)
class LoginDecision:
    """The outcome of one attempt: whether to let the user in, the new state, and why not."""

    allowed: bool
    state: LoginGuardState
    rejection: Rejection | None = None

    @property
    def locked_until(self) -> datetime | None:
        """When the lock ends, for ACCOUNT_LOCKED payloads (Rejection carries no timestamp)."""
        return self.state.locked_until if self.rejection and self.rejection.code == "ACCOUNT_LOCKED" else None


def lock_duration(policy: LoginPolicy, lock_number: int) -> timedelta:
    """The wait of the ``lock_number``-th lock (1-based): first_lock doubled each time, capped."""
    # Cap the exponent too: 2**n of a huge n would be a waste before min() caps it.
    doublings = min(max(lock_number - 1, 0), 32)
    return min(policy.first_lock * (2**doublings), policy.max_lock)


def _locked(state: LoginGuardState) -> Rejection:
    until = state.locked_until.isoformat() if state.locked_until else "later"
    return Rejection("ACCOUNT_LOCKED", f"too many failed logins; try again after {until}", None)


def check_attempt(state: LoginGuardState, policy: LoginPolicy, now: datetime, captcha_ok: bool) -> Rejection | None:
    """What stops an attempt before the password is even checked: a lock, or a missing captcha.

    Callers must not verify the password when this returns a rejection: a locked account must not
    become a password oracle.
    """
    require_aware(now)
    if state.is_locked(now):
        return _locked(state)
    if state.captcha_required and not captcha_ok:
        return Rejection("CAPTCHA_REQUIRED", "enter the captcha to continue", "captchaAnswer")
    return None


def record_failure(state: LoginGuardState, policy: LoginPolicy, now: datetime) -> LoginGuardState:
    """The state after a wrong password (or communication password). A no-op while locked."""
    require_aware(now)
    if state.is_locked(now):
        return state
    failures = state.failures + 1
    captcha = state.captcha_required or failures >= policy.captcha_after
    new = replace(state, failures=failures, captcha_required=captcha)
    if failures >= policy.lock_after:
        locks = state.locks + 1
        new = replace(new, locks=locks, locked_until=now + lock_duration(policy, locks))
    return new


def record_success(state: LoginGuardState, now: datetime) -> LoginGuardState:
    """The state after a successful login: everything reset. A no-op while locked (defensive)."""
    require_aware(now)
    if state.is_locked(now):
        return state
    return LoginGuardState(last_activity=now)


def unlock(state: LoginGuardState) -> LoginGuardState:
    """An operator lifts a lock: counters reset, but the captcha stays on for the next attempt."""
    return replace(state, failures=0, locked_until=None, locks=0, captcha_required=True)


def evaluate_attempt(
    state: LoginGuardState, policy: LoginPolicy, now: datetime, *, password_ok: bool, captcha_ok: bool = False
) -> LoginDecision:
    """Run one login attempt through the guard.

    ``password_ok`` is the result of verifying the password (False for unknown users too, so both
    get the same error; see ``passwords.Passwords.verify``). Verify only when
    :func:`check_attempt` passes, or call this with the result and let it ignore it when blocked.
    A missing or wrong captcha is refused without counting as a failure.
    Rejection codes: ACCOUNT_LOCKED, CAPTCHA_REQUIRED, INVALID_CREDENTIALS.
    """
    blocked = check_attempt(state, policy, now, captcha_ok)
    if blocked is not None:
        return LoginDecision(False, state, blocked)
    if password_ok:
        return LoginDecision(True, record_success(state, now))
    new = record_failure(state, policy, now)
    if new.is_locked(now):
        return LoginDecision(False, new, _locked(new))
    wrong = Rejection("INVALID_CREDENTIALS", "wrong username or password", "password")
    return LoginDecision(False, new, wrong)


def session_is_idle_locked(last_activity: datetime, now: datetime, idle_minutes: int) -> bool:
    """Whether a session idle for more than ``idle_minutes`` is locked (E1 auto-lock).

    A locked session is unlocked only by the communication password (通讯密码); failed unlock
    attempts go through :func:`record_failure` like failed logins, so they lead to the same lockout.
    """
    require_aware(now)
    return now - last_activity > timedelta(minutes=idle_minutes)


def touch(state: LoginGuardState, now: datetime) -> LoginGuardState:
    """The state after session activity (a request), restarting the idle clock."""
    require_aware(now)
    return replace(state, last_activity=now)
