"""A6 image captcha with the ``captcha`` library, storing only a salted hash of the answer.

Flow: :func:`new_captcha` gives the answer and a PNG; the caller stores
``hash_captcha_answer(answer)`` under a random captcha id with a short expiry, sends the PNG and the
id to the client, and forgets the answer. At login it calls :func:`check_captcha_answer`.

Single use is the caller's job: delete the stored hash on the first check, right or wrong, so one
captcha can never be tried twice or reused after it was solved.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import secrets
from functools import lru_cache

from captcha.image import ImageCaptcha

# No 0/O, 1/I/L: characters people misread in a distorted image only annoy honest users.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
DEFAULT_LENGTH = 5
_SALT_BYTES = 16


@lru_cache(maxsize=1)
def _image_captcha() -> ImageCaptcha:
    # Loading the fonts is the slow part; one generator serves every request.
    return ImageCaptcha(width=160, height=60)


def normalise_answer(answer: str) -> str:
    """Answers are case-insensitive and ignore spaces: upper-case and strip whitespace."""
    return "".join(answer.split()).upper()


def new_captcha(rng: random.Random, length: int = DEFAULT_LENGTH) -> tuple[str, bytes]:
    """A random answer drawn with ``rng`` and its PNG image.

    Pass ``secrets.SystemRandom()`` in production; tests pass a seeded ``random.Random``. The
    library draws its visual noise from the global ``random`` module; that is only cosmetic.
    """
    answer = "".join(rng.choice(ALPHABET) for _ in range(length))
    png = _image_captcha().generate(answer, format="png").getvalue()
    return answer, png


def hash_captcha_answer(answer: str) -> str:
    """``salt$sha256hex`` of the normalised answer: what the caller stores, never the answer.

    A fresh salt per captcha stops a leaked store from being matched against a precomputed table.
    """
    salt = secrets.token_hex(_SALT_BYTES)
    digest = hashlib.sha256((salt + normalise_answer(answer)).encode()).hexdigest()
    return f"{salt}${digest}"


def check_captcha_answer(stored_hash: str, answer: str) -> bool:
    """Whether ``answer`` matches the stored hash (case-insensitive, constant-time comparison)."""
    salt, sep, expected = stored_hash.partition("$")
    if not sep:
        return False
    digest = hashlib.sha256((salt + normalise_answer(answer)).encode()).hexdigest()
    return hmac.compare_digest(digest, expected)
