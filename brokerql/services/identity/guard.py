"""Persistence for the login guard (A6): guard state per login name, and single-use image captchas."""

from __future__ import annotations

import asyncio
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select

from brokerql.domain.clock import Clock
from brokerql.domain.identity.captcha_challenge import check_captcha_answer, hash_captcha_answer, new_captcha
from brokerql.domain.identity.login_policy import LoginGuardState, stale_guard_cutoff
from brokerql.store.columns import new_id
from brokerql.store.database import Database, UnitOfWork
from brokerql.store.tables import ClientRow, OperatorRow
from brokerql.store.tables_identity import CaptchaRow, LoginGuardRow

CAPTCHA_TTL = timedelta(minutes=5)


async def load_guard(uow: UnitOfWork, kind: str, username: str) -> tuple[LoginGuardRow, LoginGuardState]:
    row = await uow.session.get(LoginGuardRow, (kind, username), with_for_update=not uow.is_sqlite)
    if row is None:
        row = LoginGuardRow(subject_kind=kind, username=username)
        uow.session.add(row)
    state = LoginGuardState(
        failures=row.failures,
        locked_until=row.locked_until,
        captcha_required=row.captcha_required,
        last_activity=row.last_activity,
        locks=row.locks,
    )
    return row, state


async def purge_stale_guards(db: Database, now: datetime) -> int:
    """Delete the guard rows of unknown login names that the domain calls stale (`stale_guard_cutoff`);
    returns how many went. Known names keep theirs: their lock escalation lives there."""
    cutoff = stale_guard_cutoff(now)
    purged = 0
    async with db.transaction() as uow:
        for kind, table in (("client", ClientRow), ("operator", OperatorRow)):
            result = await uow.session.execute(
                delete(LoginGuardRow).where(
                    LoginGuardRow.subject_kind == kind,
                    LoginGuardRow.username.not_in(select(table.username)),
                    or_(LoginGuardRow.locked_until.is_(None), LoginGuardRow.locked_until <= now),
                    LoginGuardRow.updated_at < cutoff,
                )
            )
            purged += result.rowcount or 0
    return purged


def store_guard(row: LoginGuardRow, state: LoginGuardState) -> None:
    row.failures, row.locks, row.locked_until = state.failures, state.locks, state.locked_until
    row.captcha_required, row.last_activity = state.captcha_required, state.last_activity


class Captchas:
    """Issues image captchas and checks answers once (the row is deleted on the first check)."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self._rng = secrets.SystemRandom()

    async def issue(self) -> tuple[str, bytes, datetime]:
        answer, png = await asyncio.to_thread(self.generate)
        captcha_id = new_id("cap")
        expires_at = self.clock.now() + CAPTCHA_TTL
        async with self.db.transaction() as uow:
            await uow.session.execute(delete(CaptchaRow).where(CaptchaRow.expires_at < self.clock.now()))
            uow.session.add(CaptchaRow(id=captcha_id, answer_hash=hash_captcha_answer(answer), expires_at=expires_at))
        return captcha_id, png, expires_at

    def generate(self) -> tuple[str, bytes]:
        """The answer and its PNG (tests subclass this to learn the answer)."""
        return new_captcha(self._rng)

    async def consume(self, uow: UnitOfWork, captcha_id: str | None, answer: str | None) -> bool:
        """Whether the answer is right; the captcha is spent either way."""
        if not captcha_id:
            return False
        row = await uow.session.get(CaptchaRow, captcha_id)
        if row is None:
            return False
        await uow.session.delete(row)
        return (
            bool(answer) and row.expires_at > self.clock.now() and check_captcha_answer(row.answer_hash, answer or "")
        )
