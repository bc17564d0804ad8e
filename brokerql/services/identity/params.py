"""System parameters (A5): editable at run time, read through a one-second cache.

Every open stream asks for `session.idle_minutes` at its heartbeat and every HTTP request for the login
policy, so the cache is refreshed in a single flight (18,000 streams each reading it used to exhaust the
connection pool), and while that refresh runs callers get the values it replaces rather than waiting
for it: a database busy with orders would otherwise hold every stream's heartbeat for as long as the
read queues. An operator's change in this process drops the cache at once (`forget`: the next caller
waits for the new values); other processes see it within CACHE_SECONDS plus one read.
"""

from __future__ import annotations

import asyncio
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
        self._reading: asyncio.Future[dict[str, str]] | None = None
        self._generation = 0  # bumped by forget(): a read that started before a change is not cached

    def forget(self) -> None:
        self._cache = None
        self._reading = None  # callers from now on start a fresh read
        self._generation += 1

    async def all(self) -> dict[str, str]:
        cached = self._cache
        if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
        if self._reading is None or self._reading.done():
            self._reading = asyncio.ensure_future(self._read())
            self._reading.add_done_callback(lambda f: f.cancelled() or f.exception())  # nobody may be waiting
        if cached is not None:  # expired, not forgotten: the old values while the refresh runs
            return cached[1]
        # shield: one caller that gives up (a closed stream) must not cancel the read the others await
        return await asyncio.shield(self._reading)

    async def _read(self) -> dict[str, str]:
        started, generation = time.monotonic(), self._generation
        async with self.db.read() as session:
            rows = (await session.scalars(select(SystemParameterRow))).all()
        values = {**DEFAULTS, **{r.key: r.value for r in rows}}
        if generation == self._generation:
            self._cache = (started, values)
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
