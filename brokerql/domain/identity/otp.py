"""A6 dynamic password: TOTP (RFC 6238, 30 s steps, 6 digits) with pyotp, with replay protection.

A code is accepted for the current step and one step either side (clock drift of phones), and only
once: the caller stores the returned step as ``last_used_step`` and any code for that step or an
earlier one is refused, so a code seen over someone's shoulder cannot be reused.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import NamedTuple

import pyotp

from brokerql.domain.common import Rejection
from brokerql.domain.identity._time import require_aware

DIGITS = 6
STEP_SECONDS = 30
VALID_WINDOW = 1


class TotpResult(NamedTuple):
    """``ok`` and the step the code belongs to (None when not accepted); unpacks as ``(ok, step)``."""

    ok: bool
    step: int | None


def new_secret() -> str:
    """A fresh random base32 secret (160 bits) to register for a client."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, name: str, issuer: str = "BrokerQL") -> str:
    """The ``otpauth://`` URI an authenticator app reads from a QR code."""
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    return totp.provisioning_uri(name=name, issuer_name=issuer)


def current_step(now: datetime) -> int:
    """The TOTP step (time counter) that ``now`` falls in."""
    return int(require_aware(now).timestamp()) // STEP_SECONDS


def code_at_step(secret: str, step: int) -> str:
    """The code for a given step (used by tests and by operator tooling to show the current code)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).generate_otp(step)


def verify_totp(secret: str, code: str, now: datetime, last_used_step: int | None) -> TotpResult:
    """Check ``code`` against the steps around ``now``; refuse steps at or before ``last_used_step``.

    Every candidate step is compared (no early exit) with a constant-time comparison, so timing says
    nothing about which step, if any, matched.
    """
    normalised = code.replace(" ", "").strip()
    if len(normalised) != DIGITS or not normalised.isascii() or not normalised.isdigit():
        return TotpResult(False, None)
    centre = current_step(now)
    matched: int | None = None
    for step in range(centre - VALID_WINDOW, centre + VALID_WINDOW + 1):
        if hmac.compare_digest(code_at_step(secret, step), normalised):
            matched = step
    if matched is None or (last_used_step is not None and matched <= last_used_step):
        return TotpResult(False, None)
    return TotpResult(True, matched)


class OtpOutcome(NamedTuple):
    """:func:`check_otp`'s answer: the step to store as ``last_used_step`` on success, or a rejection."""

    step: int | None
    rejection: Rejection | None


def check_otp(secret: str | None, code: str | None, now: datetime, last_used_step: int | None) -> OtpOutcome:
    """Login-flow helper: OTP_REQUIRED when a client with a secret sent no code, OTP_INVALID when wrong.

    Clients without a registered secret (``secret is None``) pass without a code.
    """
    if secret is None:
        return OtpOutcome(None, None)
    if code is None or not code.strip():
        return OtpOutcome(None, Rejection("OTP_REQUIRED", "enter the dynamic password", "otp"))
    ok, step = verify_totp(secret, code, now, last_used_step)
    if not ok:
        invalid = Rejection("OTP_INVALID", "the dynamic password is wrong or already used", "otp")
        return OtpOutcome(None, invalid)
    return OtpOutcome(step, None)
