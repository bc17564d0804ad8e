"""A6: captcha after failures, lockout with growing waits, and the idle lock — a pure state machine.

The service loads a :class:`LoginGuardState` per user and runs an attempt in two steps, so that no
secret is checked for a locked login: :func:`screen_attempt` (lock, captcha), then, after the secret
was checked, :func:`conclude_attempt`. :func:`evaluate_attempt` is both at once, for checks whose
result is known up front (second secrets). The service stores the returned state and reports the
rejection, if any.

Sequence with the default :class:`LoginPolicy`: failures 1-2 only say INVALID_CREDENTIALS; from the
3rd the captcha is required, and an attempt without it (or with a wrong one) counts as a failure;
the 5th locks the account for 1 minute (ACCOUNT_LOCKED). Attempts
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
    """The outcome of one attempt: whether to let the user in, the new state, and why not.

    ``newly_locked`` says that this attempt started a lock (the service logs it); ``hints`` are extra
    rejections shown alongside (the captcha the next attempt will need).
    """

    allowed: bool
    state: LoginGuardState
    rejection: Rejection | None = None
    newly_locked: bool = False
    hints: tuple[Rejection, ...] = ()

    @property
    def locked_until(self) -> datetime | None:
        """When the lock ends, for ACCOUNT_LOCKED payloads (Rejection carries no timestamp)."""
        return self.state.locked_until if self.rejection and self.rejection.code == "ACCOUNT_LOCKED" else None

    @property
    def errors(self) -> list[Rejection]:
        """The rejection followed by its hints: what a payload's `errors` lists."""
        return ([self.rejection] if self.rejection else []) + list(self.hints)


def lock_duration(policy: LoginPolicy, lock_number: int) -> timedelta:
    """The wait of the ``lock_number``-th lock (1-based): first_lock doubled each time, capped."""
    # Cap the exponent too: 2**n of a huge n would be a waste before min() caps it.
    doublings = min(max(lock_number - 1, 0), 32)
    return min(policy.first_lock * (2**doublings), policy.max_lock)


def locked_rejection(state: LoginGuardState) -> Rejection:
    """ACCOUNT_LOCKED, naming when the lock ends."""
    until = state.locked_until.isoformat() if state.locked_until else "later"
    return Rejection("ACCOUNT_LOCKED", f"Too many failed attempts; this login is locked until {until}.", "username")


CAPTCHA_REQUIRED = Rejection("CAPTCHA_REQUIRED", "Enter the captcha (requestCaptcha) to continue.", "captchaAnswer")
CAPTCHA_NEXT = Rejection("CAPTCHA_REQUIRED", "The next attempt needs a captcha.", "captchaAnswer")
INVALID_CREDENTIALS = Rejection("INVALID_CREDENTIALS", "Wrong username or password.", "password")


def check_attempt(state: LoginGuardState, policy: LoginPolicy, now: datetime, captcha_ok: bool) -> Rejection | None:
    """What stops an attempt before the password is even checked: a lock, or a missing captcha.

    Callers must not verify the password when this returns a rejection: a locked account must not
    become a password oracle.
    """
    require_aware(now)
    if state.is_locked(now):
        return locked_rejection(state)
    if state.captcha_required and not captcha_ok:
        return CAPTCHA_REQUIRED
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


def _failed(state: LoginGuardState, policy: LoginPolicy, now: datetime, wrong: Rejection) -> LoginDecision:
    new = record_failure(state, policy, now)
    if new.is_locked(now):
        return LoginDecision(False, new, locked_rejection(new), newly_locked=True)
    return LoginDecision(False, new, wrong)


def screen_attempt(
    state: LoginGuardState, policy: LoginPolicy, now: datetime, *, captcha_ok: bool
) -> LoginDecision | None:
    """The first step of an attempt, before any secret is checked: None lets it go on to the secret.

    While locked the attempt is refused and changes nothing. An attempt that should have carried a
    captcha and did not (or carried a wrong one) counts as a failure: a script that cannot read
    captchas is walked into the lock instead of retrying for ever.
    """
    blocked = check_attempt(state, policy, now, captcha_ok)
    if blocked is None:
        return None
    if blocked.code == "ACCOUNT_LOCKED":
        return LoginDecision(False, state, blocked)
    return _failed(state, policy, now, CAPTCHA_REQUIRED)


def conclude_attempt(
    state: LoginGuardState,
    policy: LoginPolicy,
    now: datetime,
    *,
    secret_ok: bool,
    wrong: Rejection = INVALID_CREDENTIALS,
    hint_captcha: bool = False,
) -> LoginDecision:
    """The second step, once the secret (password, OTP, signature...) has been checked.

    Right: everything resets. Wrong: one more failure, which may lock (ACCOUNT_LOCKED replaces
    ``wrong``); with ``hint_captcha`` the decision also says when the next attempt needs a captcha.
    """
    if secret_ok:
        if state.is_locked(now):  # the lock began between the two steps (a concurrent attempt)
            return LoginDecision(False, state, locked_rejection(state))
        return LoginDecision(True, record_success(state, now))
    decision = _failed(state, policy, now, wrong)
    if hint_captcha and decision.state.captcha_required and not decision.newly_locked:
        return replace(decision, hints=(CAPTCHA_NEXT,))
    return decision


def evaluate_attempt(
    state: LoginGuardState,
    policy: LoginPolicy,
    now: datetime,
    *,
    password_ok: bool,
    captcha_ok: bool = False,
    wrong: Rejection = INVALID_CREDENTIALS,
) -> LoginDecision:
    """Run one attempt through the guard when the secret's check is already known (both steps).

    ``password_ok`` is the result of verifying the secret (False for unknown users too, so both
    get the same error; see ``passwords.Passwords.verify``); it is ignored when the attempt is
    screened out. Rejection codes: ACCOUNT_LOCKED, CAPTCHA_REQUIRED, INVALID_CREDENTIALS (or ``wrong``).
    """
    screened = screen_attempt(state, policy, now, captcha_ok=captcha_ok)
    if screened is not None:
        return screened
    return conclude_attempt(state, policy, now, secret_ok=password_ok, wrong=wrong)


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


GUARD_RETENTION = timedelta(days=7)  # an unknown name's failure record is kept this long after its last attempt


def stale_guard_cutoff(now: datetime, retention: timedelta = GUARD_RETENTION) -> datetime:
    """Guard rows of login names that belong to nobody, idle since before this and not locked now,
    may be deleted: they only ever held failures against a name that does not exist. A week is much
    longer than any lock (max_lock), so a purge never shortens a lock in force."""
    require_aware(now)
    return now - retention
