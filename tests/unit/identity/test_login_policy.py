"""A6 login guard: captcha, lockout with growing waits, idle lock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from brokerql.domain.common import Rejection
from brokerql.domain.identity.login_policy import (
    CAPTCHA_REQUIRED,
    LoginGuardState,
    LoginPolicy,
    conclude_attempt,
    evaluate_attempt,
    lock_duration,
    record_failure,
    record_success,
    screen_attempt,
    session_is_idle_locked,
    touch,
    unlock,
)

from .conftest import T0

POLICY = LoginPolicy()


def test_failures_then_captcha_then_lock() -> None:
    state = LoginGuardState()
    codes = []
    for i in range(5):
        decision = evaluate_attempt(state, POLICY, T0 + timedelta(seconds=i), password_ok=False, captcha_ok=True)
        state = decision.state
        codes.append(decision.rejection.code if decision.rejection else None)
    assert codes == ["INVALID_CREDENTIALS"] * 4 + ["ACCOUNT_LOCKED"]
    assert state.captcha_required and state.failures == 5
    assert state.locked_until == T0 + timedelta(seconds=4) + timedelta(minutes=1)


def test_a_missing_captcha_counts_as_a_failure_once_required() -> None:
    state = LoginGuardState()
    for _ in range(3):
        state = evaluate_attempt(state, POLICY, T0, password_ok=False).state
    assert state.captcha_required and state.failures == 3
    decision = evaluate_attempt(state, POLICY, T0, password_ok=True, captcha_ok=False)
    assert not decision.allowed and decision.rejection and decision.rejection.code == "CAPTCHA_REQUIRED"
    assert decision.state.failures == 4  # even with the right password: a script is walked into the lock
    locked = evaluate_attempt(decision.state, POLICY, T0, password_ok=True, captcha_ok=False)
    assert locked.rejection is not None and locked.rejection.code == "ACCOUNT_LOCKED" and locked.newly_locked
    assert evaluate_attempt(state, POLICY, T0, password_ok=True, captcha_ok=True).allowed


def test_screening_checks_no_secret_and_concluding_applies_it() -> None:
    state = LoginGuardState()
    assert screen_attempt(state, POLICY, T0, captcha_ok=False) is None  # nothing required yet: go on
    for _ in range(2):
        state = conclude_attempt(state, POLICY, T0, secret_ok=False).state
    third = conclude_attempt(state, POLICY, T0, secret_ok=False, hint_captcha=True)
    assert [e.code for e in third.errors] == ["INVALID_CREDENTIALS", "CAPTCHA_REQUIRED"]  # the hint rides along
    screened = screen_attempt(third.state, POLICY, T0, captcha_ok=False)
    assert screened is not None and screened.errors == [CAPTCHA_REQUIRED] and screened.state.failures == 4
    wrong_otp = Rejection("OTP_INVALID", "wrong code", "otp")
    assert conclude_attempt(LoginGuardState(), POLICY, T0, secret_ok=False, wrong=wrong_otp).rejection == wrong_otp
    assert conclude_attempt(third.state, POLICY, T0, secret_ok=True).state == LoginGuardState(last_activity=T0)


def test_a_lock_begun_between_the_two_steps_refuses_the_right_secret() -> None:
    state = LoginGuardState()
    for _ in range(5):
        state = record_failure(state, POLICY, T0)
    late = conclude_attempt(state, POLICY, T0, secret_ok=True)
    assert not late.allowed and late.rejection is not None and late.rejection.code == "ACCOUNT_LOCKED"
    assert late.state == state


def test_twelve_wrong_passwords_at_once_end_locked() -> None:
    state = LoginGuardState()
    decisions = []
    for i in range(12):
        decision = evaluate_attempt(state, POLICY, T0 + timedelta(seconds=i), password_ok=False, captcha_ok=True)
        decisions.append(decision)
        state = decision.state
    last = decisions[-1]
    assert not last.allowed and last.rejection is not None and last.rejection.code == "ACCOUNT_LOCKED"
    assert last.locked_until == T0 + timedelta(seconds=4, minutes=1)
    assert state.is_locked(T0 + timedelta(seconds=11))
    # Hammering a locked account changes nothing: no longer lock, no reset, no extra count.
    assert all(d.state == decisions[4].state for d in decisions[5:])
    # Even the right password is refused while locked.
    assert not evaluate_attempt(state, POLICY, T0 + timedelta(seconds=30), password_ok=True, captcha_ok=True).allowed


def test_twelve_wrong_passwords_spaced_out_lock_longer_each_time() -> None:
    state = LoginGuardState()
    now = T0
    waits = []
    for _ in range(12):
        decision = evaluate_attempt(state, POLICY, now, password_ok=False, captcha_ok=True)
        state = decision.state
        if decision.locked_until is not None:
            waits.append(decision.locked_until - now)
            now = decision.locked_until  # the next attempt comes when the lock has just ended
        else:
            now += timedelta(seconds=10)
    assert decision.rejection is not None and decision.rejection.code == "ACCOUNT_LOCKED"
    assert waits == [timedelta(minutes=m) for m in (1, 2, 4, 8, 16, 32, 64, 128)]
    assert state.is_locked(now - timedelta(seconds=1))


def test_lock_wait_is_capped() -> None:
    assert lock_duration(POLICY, 1) == timedelta(minutes=1)
    assert lock_duration(POLICY, 11) == timedelta(minutes=1024)
    assert lock_duration(POLICY, 12) == timedelta(hours=24)
    assert lock_duration(POLICY, 10_000) == timedelta(hours=24)


def test_success_resets_everything() -> None:
    state = LoginGuardState()
    for _ in range(4):
        state = record_failure(state, POLICY, T0)
    assert state.captcha_required
    after = evaluate_attempt(state, POLICY, T0, password_ok=True, captcha_ok=True)
    assert after.allowed and after.rejection is None
    assert after.state == LoginGuardState(last_activity=T0)


def test_success_cannot_lift_a_lock_but_expiry_and_operator_can() -> None:
    state = LoginGuardState()
    for _ in range(5):
        state = record_failure(state, POLICY, T0)
    assert record_success(state, T0 + timedelta(seconds=59)) == state
    assert evaluate_attempt(state, POLICY, T0 + timedelta(minutes=1), password_ok=True, captcha_ok=True).allowed
    lifted = unlock(state)
    assert not lifted.is_locked(T0) and lifted.captcha_required and lifted.failures == 0


def test_configurable_policy() -> None:
    strict = LoginPolicy(captcha_after=1, lock_after=2, first_lock=timedelta(minutes=5))
    state = record_failure(LoginGuardState(), strict, T0)
    assert state.captcha_required and not state.is_locked(T0)
    state = record_failure(state, strict, T0)
    assert state.locked_until == T0 + timedelta(minutes=5)


def test_idle_lock() -> None:
    assert not session_is_idle_locked(T0, T0 + timedelta(minutes=15), 15)
    assert session_is_idle_locked(T0, T0 + timedelta(minutes=15, seconds=1), 15)
    assert touch(LoginGuardState(), T0).last_activity == T0


@given(st.lists(st.tuples(st.integers(min_value=0, max_value=600), st.booleans(), st.booleans()), max_size=40))
def test_a_locked_account_never_changes_until_the_lock_ends(attempts: list[tuple[int, bool, bool]]) -> None:
    state = LoginGuardState()
    now = T0
    for gap, password_ok, captcha_ok in attempts:
        now += timedelta(seconds=gap)
        decision = evaluate_attempt(state, POLICY, now, password_ok=password_ok, captcha_ok=captcha_ok)
        if state.is_locked(now):
            assert not decision.allowed and decision.state == state
            assert decision.rejection is not None and decision.rejection.code == "ACCOUNT_LOCKED"
        if decision.allowed:
            assert decision.state.failures == 0 and decision.state.locked_until is None
        state = decision.state


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        record_failure(LoginGuardState(), POLICY, T0.replace(tzinfo=None))
