"""A6 trial registration: phone validation, SMS code policy, senders, trial expiry."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest

from brokerql.domain.identity.sms import (
    IssuedSmsCode,
    LoggingSmsSender,
    SmsCodePolicy,
    can_send,
    generate_sms_code,
    issue_code,
    normalise_phone,
    sms_text,
    trial_expires_at,
    trial_is_active,
    validate_phone,
    verify_sms_code,
)

from .conftest import T0

PHONE = "13800138000"


@pytest.mark.parametrize("phone", [PHONE, "19912345678", "+86 138-0013-8000", "0086 13800138000"])
def test_valid_phones(phone: str) -> None:
    assert validate_phone(phone) is None
    assert normalise_phone(phone) in (PHONE, "19912345678")


@pytest.mark.parametrize(
    "phone", ["", "12800138000", "1380013800", "138001380001", "2380013800a", "１３８００１３８０００"]
)
def test_bad_phones(phone: str) -> None:
    rejection = validate_phone(phone)
    assert rejection is not None and rejection.code == "BAD_PHONE" and rejection.field == "phone"


def test_codes_are_six_digits() -> None:
    codes = {generate_sms_code() for _ in range(200)}
    assert all(len(c) == 6 and c.isdigit() for c in codes)
    assert len(codes) > 150


def test_issue_and_verify_once() -> None:
    code, issued = issue_code("+86 13800138000", T0)
    assert issued.phone == PHONE and code not in issued.code_hash
    state, rejection = verify_sms_code(issued, code, T0 + timedelta(minutes=4))
    assert rejection is None and state.consumed and state.attempts == 1
    _, again = verify_sms_code(state, code, T0 + timedelta(minutes=4))
    assert again is not None and again.code == "SMS_CODE_USED"


def test_code_expires_after_five_minutes() -> None:
    code, issued = issue_code(PHONE, T0)
    _, rejection = verify_sms_code(issued, code, T0 + timedelta(minutes=5))
    assert rejection is not None and rejection.code == "SMS_CODE_EXPIRED"


def test_five_attempts_then_locked_out_even_with_right_code() -> None:
    code, state = issue_code(PHONE, T0)
    wrong = "000000" if code != "000000" else "111111"
    for i in range(5):
        state, rejection = verify_sms_code(state, wrong, T0 + timedelta(seconds=i))
        assert rejection is not None and rejection.code == "SMS_CODE_INVALID"
    assert state.attempts == 5
    state, rejection = verify_sms_code(state, code, T0 + timedelta(seconds=10))
    assert rejection is not None and rejection.code == "SMS_TOO_MANY_ATTEMPTS"


def test_code_is_bound_to_its_phone() -> None:
    code, issued = issue_code(PHONE, T0)
    moved = IssuedSmsCode("13900139000", issued.code_hash, issued.issued_at)
    _, rejection = verify_sms_code(moved, code, T0)
    assert rejection is not None and rejection.code == "SMS_CODE_INVALID"


def test_resend_not_before_sixty_seconds() -> None:
    assert can_send(None, T0) is None
    _, issued = issue_code(PHONE, T0)
    too_soon = can_send(issued, T0 + timedelta(seconds=59))
    assert too_soon is not None and too_soon.code == "SMS_TOO_SOON"
    assert can_send(issued, T0 + timedelta(seconds=60)) is None


def test_custom_policy() -> None:
    policy = SmsCodePolicy(ttl=timedelta(minutes=1), max_attempts=1, length=4)
    code, issued = issue_code(PHONE, T0, policy)
    assert len(code) == 4
    _, rejection = verify_sms_code(issued, code, T0 + timedelta(seconds=61), policy)
    assert rejection is not None and rejection.code == "SMS_CODE_EXPIRED"
    assert "1分钟" in sms_text(code, policy)


def test_logging_sender_redacts_unless_told(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="brokerql.domain.identity.sms"):
        asyncio.run(LoggingSmsSender().send_code(PHONE, "123456"))
        assert "123456" not in caplog.text and PHONE not in caplog.text and "138****8000" in caplog.text
        caplog.clear()
        asyncio.run(LoggingSmsSender(reveal_codes=True).send_code(PHONE, "123456"))
        assert "123456" in caplog.text


def test_trial_period() -> None:
    expires = trial_expires_at(T0)
    assert expires == T0 + timedelta(days=14)
    assert trial_is_active(expires, expires - timedelta(seconds=1))
    assert not trial_is_active(expires, expires)
