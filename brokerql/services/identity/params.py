"""System parameters (A5): editable at run time, read through a one-second cache."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import select

from brokerql.domain.identity.login_policy import LoginPolicy
from brokerql.store.database import Database
from brokerql.store.tables_backoffice import SystemParameterRow

CACHE_SECONDS = 1.0
DEFAULTS = {
    "login.captcha_after": "3",
    "login.lock_after": "5",
    "login.first_lock_seconds": "60",
    "login.max_lock_seconds": "86400",
    "session.idle_minutes": "15",
    "trial.days": "14",
    "grading.grace_days": "30",
}


class SystemParameters:
    """Reads parameters (with defaults for any key missing from the table)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._cache: tuple[float, dict[str, str]] | None = None

    def forget(self) -> None:
        self._cache = None

    async def all(self) -> dict[str, str]:
        now = time.monotonic()
        if self._cache is not None and now - self._cache[0] < CACHE_SECONDS:
            return self._cache[1]
        async with self.db.read() as session:
            rows = (await session.scalars(select(SystemParameterRow))).all()
        values = {**DEFAULTS, **{r.key: r.value for r in rows}}
        self._cache = (now, values)
        return values

    async def integer(self, key: str) -> int:
        values = await self.all()
        try:
            return int(values[key])
        except (KeyError, ValueError):
            return int(DEFAULTS[key])

    async def login_policy(self) -> LoginPolicy:
        return LoginPolicy(
            captcha_after=await self.integer("login.captcha_after"),
            lock_after=await self.integer("login.lock_after"),
            first_lock=timedelta(seconds=await self.integer("login.first_lock_seconds")),
            max_lock=timedelta(seconds=await self.integer("login.max_lock_seconds")),
            idle_minutes=await self.integer("session.idle_minutes"),
        )


def validate_parameter(key: str, value: str) -> str | None:
    """An error message if `value` is not acceptable for `key` (numeric keys must be positive integers)."""
    if key in DEFAULTS and (not value.isdigit() or int(value) <= 0):
        return f"{key} must be a positive integer"
    return None
