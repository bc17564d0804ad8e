"""Password hashing and policy."""

from __future__ import annotations

import pytest

from brokerql.domain.identity.passwords import Passwords, check_password_policy


def test_hash_and_verify(passwords: Passwords) -> None:
    stored = passwords.hash("Demo#2026")
    assert stored.startswith("$argon2id$")
    assert stored != passwords.hash("Demo#2026")  # fresh salt every time
    assert passwords.verify(stored, "Demo#2026")
    assert not passwords.verify(stored, "demo#2026")


def test_verify_never_raises(passwords: Passwords) -> None:
    assert not passwords.verify("not-a-hash", "whatever")
    assert not passwords.verify("", "whatever")
    assert not passwords.verify(passwords.hash("a"), "")


def test_unknown_user_is_false_even_for_the_dummy_password(passwords: Passwords) -> None:
    assert not passwords.verify(None, "Demo#2026")
    assert passwords.dummy_hash.startswith("$argon2id$")
    # Same parameters as real hashes, so the unknown-user path costs the same time.
    assert not passwords.needs_rehash(passwords.dummy_hash)


def test_needs_rehash_when_parameters_change(passwords: Passwords) -> None:
    stronger = Passwords(time_cost=2, memory_cost=16, parallelism=1)
    old = passwords.hash("Demo#2026")
    assert stronger.needs_rehash(old)
    assert not passwords.needs_rehash(old)
    assert stronger.verify(old, "Demo#2026")  # old hashes keep working until rehashed
    assert passwords.needs_rehash("garbage")


@pytest.mark.parametrize("password", ["Demo#2026", "Admin#2026", "abcDEF12", "abc def 123", "密码abcd1234"])
def test_policy_accepts(password: str) -> None:
    assert check_password_policy(password) == []


@pytest.mark.parametrize(
    "password",
    ["Ab1#", "abcdefgh", "abcdefg1", "ABCDEFG1", "12345678", "abcdEFGH", "!!!!????", "a" * 200 + "B1"],
)
def test_policy_rejects_weak(password: str) -> None:
    rejections = check_password_policy(password)
    assert rejections and {r.code for r in rejections} == {"WEAK_PASSWORD"}
    assert all(r.field == "password" for r in rejections)


def test_policy_rejects_username_inside() -> None:
    assert [r.code for r in check_password_policy("Gold001#x", username="gold001")] == ["WEAK_PASSWORD"]
    assert check_password_policy("Gold001#x", username="silver001") == []
