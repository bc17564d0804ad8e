"""A6 TOTP: drift window and replay protection."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest

from brokerql.domain.identity.otp import (
    STEP_SECONDS,
    check_otp,
    code_at_step,
    current_step,
    new_secret,
    provisioning_uri,
    verify_totp,
)

from .conftest import T0

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def test_new_secret_is_random_base32() -> None:
    a, b = new_secret(), new_secret()
    assert a != b and len(a) == 32 and set(a) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")


def test_provisioning_uri() -> None:
    uri = urlparse(provisioning_uri(SECRET, "gold001"))
    assert uri.scheme == "otpauth" and uri.netloc == "totp"
    query = parse_qs(uri.query)
    assert query["secret"] == [SECRET] and query["issuer"] == ["BrokerQL"]


@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_codes_within_one_step_are_accepted(offset: int) -> None:
    step = current_step(T0) + offset
    assert verify_totp(SECRET, code_at_step(SECRET, step), T0, None) == (True, step)


@pytest.mark.parametrize("offset", [-2, 2, -10])
def test_codes_two_steps_away_are_rejected(offset: int) -> None:
    step = current_step(T0) + offset
    assert verify_totp(SECRET, code_at_step(SECRET, step), T0, None) == (False, None)


def test_replay_is_rejected() -> None:
    code = code_at_step(SECRET, current_step(T0))
    ok, step = verify_totp(SECRET, code, T0, None)
    assert ok
    # Same code again, even a few seconds later while it is still in the window.
    assert verify_totp(SECRET, code, T0 + timedelta(seconds=5), step) == (False, None)
    # An older code that is still in the window is refused too once a newer step was used.
    older = code_at_step(SECRET, current_step(T0) - 1)
    assert verify_totp(SECRET, older, T0, step) == (False, None)
    # The next step's code is fine.
    later = T0 + timedelta(seconds=STEP_SECONDS)
    assert verify_totp(SECRET, code_at_step(SECRET, step + 1), later, step) == (True, step + 1)


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "１２３４５６"])
def test_malformed_codes(code: str) -> None:
    assert verify_totp(SECRET, code, T0, None) == (False, None)


def test_check_otp_codes() -> None:
    assert check_otp(None, None, T0, None) == (None, None)
    step, rejection = check_otp(SECRET, None, T0, None)
    assert step is None and rejection is not None and rejection.code == "OTP_REQUIRED"
    stale = code_at_step(SECRET, current_step(T0) - 100)
    _, rejection = check_otp(SECRET, stale, T0, None)
    assert rejection is not None and rejection.code == "OTP_INVALID"
    good = code_at_step(SECRET, current_step(T0))
    step, rejection = check_otp(SECRET, good[:3] + " " + good[3:], T0, None)
    assert rejection is None and step == current_step(T0)


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        verify_totp(SECRET, "123456", T0.replace(tzinfo=None), None)
