"""Password hashing (argon2id via argon2-cffi) and the password policy.

Used for the login password, the communication password (通讯密码) and operator passwords alike.
:meth:`Passwords.verify` never raises on a mismatch and, given ``None`` for an unknown user,
verifies against a dummy hash made with the same parameters, so "no such user" and "wrong
password" cost the same time and the caller gives the same error for both.
"""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from brokerql.domain.common import Rejection

MIN_LENGTH = 8
MIN_CHARACTER_CLASSES = 3
# argon2 hashes whatever it is given; a cap stops a megabyte "password" from being a cheap DoS.
MAX_LENGTH = 128


class Passwords:
    """A thin wrapper over :class:`argon2.PasswordHasher` with a dummy hash for unknown users.

    The defaults are argon2-cffi's (RFC 9106 low-memory profile). Tests pass e.g.
    ``Passwords(time_cost=1, memory_cost=8, parallelism=1)`` to stay fast.
    """

    __slots__ = ("_dummy_hash", "_hasher")

    def __init__(
        self, *, time_cost: int | None = None, memory_cost: int | None = None, parallelism: int | None = None
    ) -> None:
        """Configure the hasher; unset parameters keep argon2-cffi's defaults."""
        params = {"time_cost": time_cost, "memory_cost": memory_cost, "parallelism": parallelism}
        self._hasher = PasswordHasher(**{k: v for k, v in params.items() if v is not None})
        # Precomputed once, with *these* parameters: a dummy made with other costs would verify in a
        # different time and give unknown usernames away.
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(24))

    @property
    def dummy_hash(self) -> str:
        """The hash verified against when the user does not exist."""
        return self._dummy_hash

    def hash(self, password: str) -> str:
        """An argon2id hash of ``password`` with a fresh random salt (PHC string format)."""
        return self._hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """Whether ``password`` matches ``stored_hash``; ``None`` (unknown user) is always False.

        argon2's own comparison is constant-time. Mismatches, corrupt hashes and unknown users all
        return False rather than raising, so callers cannot accidentally give different errors.
        """
        candidate = stored_hash if stored_hash is not None else self._dummy_hash
        try:
            matched = self._hasher.verify(candidate, password)
        except (VerificationError, InvalidHashError):
            return False
        return matched and stored_hash is not None

    def needs_rehash(self, stored_hash: str) -> bool:
        """Whether the hash was made with other parameters and should be replaced after a login."""
        try:
            return self._hasher.check_needs_rehash(stored_hash)
        except InvalidHashError:
            return True


def _character_classes(password: str) -> int:
    """How many of lower case, upper case, digits and other characters ``password`` uses."""
    checks = (
        any(c.islower() for c in password),
        any(c.isupper() for c in password),
        any(c.isdigit() for c in password),
        # Anything not a letter or digit counts as a symbol, including CJK and spaces.
        any(not c.isalnum() or not c.isascii() for c in password),
    )
    return sum(checks)


def check_password_policy(
    password: str, *, username: str | None = None, min_length: int = MIN_LENGTH, field: str = "password"
) -> list[Rejection]:
    """Rejections (code WEAK_PASSWORD) for a new password; an empty list means it is acceptable.

    Rules: at least ``min_length`` characters, at most ``MAX_LENGTH``, at least 3 of the 4
    character classes (lower, upper, digit, symbol), and not containing the username.
    """
    out: list[Rejection] = []
    if len(password) < min_length:
        out.append(Rejection("WEAK_PASSWORD", f"password must have at least {min_length} characters", field))
    if len(password) > MAX_LENGTH:
        out.append(Rejection("WEAK_PASSWORD", f"password must have at most {MAX_LENGTH} characters", field))
    if _character_classes(password) < MIN_CHARACTER_CLASSES:
        out.append(
            Rejection(
                "WEAK_PASSWORD",
                "password must use at least 3 of: lower case, upper case, digits, symbols",
                field,
            )
        )
    if username and len(username) >= 3 and username.casefold() in password.casefold():
        out.append(Rejection("WEAK_PASSWORD", "password must not contain the username", field))
    return out
