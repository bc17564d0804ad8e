"""A6 image captcha: a real PNG and a salted answer hash."""

from __future__ import annotations

import random

from brokerql.domain.identity.captcha_challenge import (
    ALPHABET,
    check_captcha_answer,
    hash_captcha_answer,
    new_captcha,
)


def test_new_captcha_is_a_png_with_a_seeded_answer() -> None:
    answer, png = new_captcha(random.Random(7))
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 500
    assert len(answer) == 5 and set(answer) <= set(ALPHABET)
    assert new_captcha(random.Random(7))[0] == answer  # the answer comes from the rng passed in


def test_answer_check_is_case_and_space_insensitive() -> None:
    stored = hash_captcha_answer("AB3K9")
    assert "AB3K9" not in stored
    assert check_captcha_answer(stored, "AB3K9")
    assert check_captcha_answer(stored, "ab3k9")
    assert check_captcha_answer(stored, " ab3 k9 ")
    assert not check_captcha_answer(stored, "AB3K8")
    assert not check_captcha_answer(stored, "")


def test_hashes_are_salted_and_malformed_hashes_fail() -> None:
    assert hash_captcha_answer("AB3K9") != hash_captcha_answer("AB3K9")
    assert not check_captcha_answer("no-separator", "AB3K9")
