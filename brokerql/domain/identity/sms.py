"""A6 trial registration: SMS verification codes for mainland China mobile numbers, and trial expiry.

Flow: :func:`validate_phone` -> :func:`can_send` (resend limit) -> :func:`issue_code` (store the
returned :class:`IssuedSmsCode`, hand the plain code to an :class:`SmsSender`) ->
:func:`verify_sms_code` for each attempt (store the returned state) -> on success the trial user is
created with :func:`trial_expires_at`. Only a salted hash of the code is ever stored.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

from brokerql.domain.common import Rejection
from brokerql.domain.identity._time import require_aware

logger = logging.getLogger(__name__)

TRIAL_PERIOD = timedelta(days=14)
_PHONE = re.compile(r"^1[3-9]\d{9}$", re.ASCII)


@dataclass(frozen=True, slots=True)
class SmsCodePolicy:
    """Code lifetime, attempts allowed per code, minimum gap between sends, and code length."""

    ttl: timedelta = timedelta(minutes=5)
    max_attempts: int = 5
    resend_after: timedelta = timedelta(seconds=60)
    length: int = 6


DEFAULT_SMS_POLICY = SmsCodePolicy()


@dataclass(frozen=True, slots=True)
class IssuedSmsCode:
    """What is stored for a sent code: the phone, a salted hash, when it was sent, attempts so far."""

    phone: str
    code_hash: str
    issued_at: datetime
    attempts: int = 0
    consumed: bool = False


def normalise_phone(raw: str) -> str:
    """Drop spaces and hyphens and a +86 / 0086 country prefix: "+86 138-0013-8000" -> "13800138000"."""
    digits = re.sub(r"[\s-]", "", raw)
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            return digits[len(prefix) :]
    return digits


def validate_phone(phone: str) -> Rejection | None:
    """BAD_PHONE unless ``phone`` (after :func:`normalise_phone`) is a mainland mobile number."""
    if _PHONE.fullmatch(normalise_phone(phone)):
        return None
    return Rejection("BAD_PHONE", "enter a mainland China mobile number (11 digits starting 13-19)", "phone")


def generate_sms_code(length: int = 6) -> str:
    """A uniformly random numeric code from the OS CSPRNG, zero-padded (e.g. "004217")."""
    return f"{secrets.randbelow(10**length):0{length}d}"


def _digest(salt: str, phone: str, code: str) -> str:
    # Binding the phone into the hash stops a code issued for one number verifying another.
    return hashlib.sha256(f"{salt}:{phone}:{code}".encode()).hexdigest()


def hash_sms_code(phone: str, code: str) -> str:
    """``salt$sha256hex`` over salt, phone and code."""
    salt = secrets.token_hex(16)
    return f"{salt}${_digest(salt, normalise_phone(phone), code)}"


def sms_code_matches(code_hash: str, phone: str, code: str) -> bool:
    """Whether ``code`` for ``phone`` matches ``code_hash`` (constant-time)."""
    salt, sep, expected = code_hash.partition("$")
    return bool(sep) and hmac.compare_digest(_digest(salt, normalise_phone(phone), code.strip()), expected)


def can_send(
    previous: IssuedSmsCode | None, now: datetime, policy: SmsCodePolicy = DEFAULT_SMS_POLICY
) -> Rejection | None:
    """SMS_TOO_SOON if the last code to this phone went out less than ``resend_after`` ago."""
    require_aware(now)
    if previous is not None and now < previous.issued_at + policy.resend_after:
        wait = int((previous.issued_at + policy.resend_after - now).total_seconds()) + 1
        return Rejection("SMS_TOO_SOON", f"wait {wait} s before asking for another code", "phone")
    return None


def issue_code(phone: str, now: datetime, policy: SmsCodePolicy = DEFAULT_SMS_POLICY) -> tuple[str, IssuedSmsCode]:
    """A new code (to send) and its stored record (to keep). Validate and rate-limit first."""
    require_aware(now)
    normalised = normalise_phone(phone)
    code = generate_sms_code(policy.length)
    return code, IssuedSmsCode(normalised, hash_sms_code(normalised, code), now)


def verify_sms_code(
    issued: IssuedSmsCode, code: str, now: datetime, policy: SmsCodePolicy = DEFAULT_SMS_POLICY
) -> tuple[IssuedSmsCode, Rejection | None]:
    """Check an attempt; returns the state to store and a rejection, or None on success.

    Every attempt counts, so the 1,000,000 possible codes cannot be walked through. Codes:
    SMS_CODE_USED, SMS_CODE_EXPIRED, SMS_TOO_MANY_ATTEMPTS, SMS_CODE_INVALID.
    """
    require_aware(now)
    if issued.consumed:
        return issued, Rejection("SMS_CODE_USED", "this code was already used; request a new one", "smsCode")
    if now >= issued.issued_at + policy.ttl:
        return issued, Rejection("SMS_CODE_EXPIRED", "the code has expired; request a new one", "smsCode")
    if issued.attempts >= policy.max_attempts:
        too_many = Rejection("SMS_TOO_MANY_ATTEMPTS", "too many wrong codes; request a new one", "smsCode")
        return issued, too_many
    attempted = replace(issued, attempts=issued.attempts + 1)
    if not sms_code_matches(issued.code_hash, issued.phone, code):
        return attempted, Rejection("SMS_CODE_INVALID", "the code is wrong", "smsCode")
    return replace(attempted, consumed=True), None


def sms_text(code: str, policy: SmsCodePolicy = DEFAULT_SMS_POLICY) -> str:
    """The message body sent to the phone."""
    minutes = int(policy.ttl.total_seconds() // 60)
    return f"【BrokerQL】您的验证码是{code}，{minutes}分钟内有效。请勿泄露给他人。"


def mask_phone(phone: str) -> str:
    """138****8000: enough to recognise a number in logs without publishing it."""
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 7 else "****"


def trial_expires_at(registered_at: datetime, period: timedelta = TRIAL_PERIOD) -> datetime:
    """When a trial user's TRIAL tier ends."""
    return require_aware(registered_at, "registered_at") + period


def trial_is_active(expires_at: datetime, now: datetime) -> bool:
    """Whether the trial is still running at ``now``."""
    return require_aware(now) < expires_at


class SmsSender(Protocol):
    """The SMS platform port. Implementations talk to a gateway; the domain only calls this."""

    async def send_code(self, phone: str, code: str) -> None:
        """Deliver ``code`` to ``phone``."""
        ...

    async def send_text(self, phone: str, text: str) -> None:
        """Deliver a notification ``text`` to ``phone`` (B4 info express)."""
        ...


class LoggingSmsSender:
    """The default sender in development: logs instead of sending.

    It logs the code itself only when ``reveal_codes`` is True — a choice the caller makes from
    settings (development mode); in production mode the code is never written anywhere.
    """

    def __init__(self, reveal_codes: bool = False, log: logging.Logger = logger) -> None:
        """``reveal_codes``: write the code into the log (development only)."""
        self.reveal_codes = reveal_codes
        self._log = log

    async def send_code(self, phone: str, code: str) -> None:
        """Log that a code went to the (masked) phone, with the code only if revealing."""
        shown = code if self.reveal_codes else "[redacted]"
        self._log.info("SMS code for %s: %s", mask_phone(phone) if not self.reveal_codes else phone, shown)

    async def send_text(self, phone: str, text: str) -> None:
        """Log that a notification went to the (masked) phone."""
        self._log.info("SMS notice for %s: %s", mask_phone(phone), text)


@dataclass
class RecordingSmsSender:
    """A fake for tests: remembers every (phone, code) sent, in order."""

    sent: list[tuple[str, str]] = field(default_factory=list)
    texts: list[tuple[str, str]] = field(default_factory=list)

    async def send_code(self, phone: str, code: str) -> None:
        """Record the message instead of sending it."""
        self.sent.append((phone, code))

    async def send_text(self, phone: str, text: str) -> None:
        """Record the notification instead of sending it."""
        self.texts.append((phone, text))

    def last_code(self, phone: str) -> str | None:
        """The latest code sent to ``phone``, if any."""
        return next((c for p, c in reversed(self.sent) if p == phone), None)
