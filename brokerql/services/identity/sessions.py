"""Login sessions: revocation that reaches open streams, and the idle lock (E1 auto-lock).

Every access token carries its session id (`sid`, also the refresh-token family). Two checks use it:

- Revocation. `is_revoked(sid)` is synchronous and memory-only, so `Context.principal()` can call it on
  every request and at every subscription heartbeat. The set is filled at once by revocations made in
  this process and, for revocations made by other processes, by `poll()` every second. Only sessions
  revoked within one access-token lifetime matter (older tokens have expired anyway), so it stays small.
- Idle lock. `activity(sid)` (HTTP requests) judges the session row as this process knows it
  (`live_sessions.py`, at most identity_cache_size rows), says whether it is idle-locked, and moves
  `last_seen_at` on at most every TOUCH_SECONDS so that a busy session does not write on every request.
  `state(sid)` is the same check without recording activity, and open streams call `stream_state(sid)`
  at each heartbeat (a stream alone is not activity, see settings.idle_lock_streams). A row is read
  when this process does not know it, and again only when it would lock the session and was read more
  than settings.session_cache_seconds ago (another process may have seen activity since): never once
  per request, heartbeat or second of an active session.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select, update

from brokerql.domain.clock import Clock
from brokerql.domain.identity.login_policy import session_is_idle_locked
from brokerql.services.identity.live_sessions import LiveSessionRows
from brokerql.store.columns import new_id
from brokerql.store.database import Database, UnitOfWork
from brokerql.store.tables import RefreshTokenRow
from brokerql.store.tables_identity import AuthSessionRow

log = logging.getLogger(__name__)
TOUCH_SECONDS = 30.0


class SessionState(StrEnum):
    ACTIVE = "ACTIVE"
    REVOKED = "REVOKED"
    IDLE_LOCKED = "IDLE_LOCKED"
    UNKNOWN = "UNKNOWN"


class SessionGate:
    def __init__(self, db: Database, clock: Clock, token_lifetime: timedelta, live: LiveSessionRows) -> None:
        self.db = db
        self.clock = clock
        self.token_lifetime = token_lifetime
        # Bounded by time, not size: poll() drops what is older than a token lifetime. Evicting by size
        # would let a revoked session's token work again, so this is deliberately not an LRU cache.
        self._revoked: dict[str, datetime] = {}
        self._live = live

    # -- revocation -------------------------------------------------------------------------------
    def is_revoked(self, session_id: str) -> bool:
        return bool(session_id) and session_id in self._revoked

    async def open(
        self, uow: UnitOfWork, subject_id: str, kind: str, account_type: str | None, method: str
    ) -> AuthSessionRow:
        now = self.clock.now()
        row = AuthSessionRow(
            id=new_id("ses"),
            subject_id=subject_id,
            subject_kind=kind,
            account_type=account_type,
            method=method,
            created_at=now,
            last_seen_at=now,
        )
        uow.session.add(row)
        return row

    async def revoke(self, uow: UnitOfWork, session_ids: list[str]) -> None:
        """Revoke sessions and their refresh-token families (in the caller's transaction)."""
        if not session_ids:
            return
        now = self.clock.now()
        await uow.session.execute(
            update(AuthSessionRow)
            .where(AuthSessionRow.id.in_(session_ids), AuthSessionRow.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        await uow.session.execute(
            update(RefreshTokenRow)
            .where(RefreshTokenRow.family_id.in_(session_ids), RefreshTokenRow.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        self.note_revoked(session_ids, now)

    async def revoke_subject(self, uow: UnitOfWork, subject_id: str, kind: str, keep: str | None = None) -> list[str]:
        """Revoke every open session of one client, operator or partner (but `keep`); returns their ids."""
        ids = list(
            (
                await uow.session.scalars(
                    select(AuthSessionRow.id).where(
                        AuthSessionRow.subject_id == subject_id,
                        AuthSessionRow.subject_kind == kind,
                        AuthSessionRow.revoked_at.is_(None),
                    )
                )
            ).all()
        )
        ids = [sid for sid in ids if sid != keep]
        await self.revoke(uow, ids)
        return ids

    def note_revoked(self, session_ids: list[str], at: datetime) -> None:
        """Remember revocations at once in this process (call after, or inside, the revoking transaction).

        Noting before the commit is safe: the worst case is a session treated as revoked a moment early
        by a transaction that then fails, and those only fail on database errors.
        """
        for sid in session_ids:
            self._revoked[sid] = at
            self._live.forget(sid)

    async def poll(self) -> None:
        """Pick up sessions revoked by other processes; forget those whose tokens have all expired."""
        horizon = self.clock.now() - self.token_lifetime - timedelta(seconds=5)
        async with self.db.read() as session:
            rows = (
                await session.execute(
                    select(AuthSessionRow.id, AuthSessionRow.revoked_at).where(AuthSessionRow.revoked_at >= horizon)
                )
            ).all()
        fresh = {sid: at for sid, at in rows}
        self._revoked = {sid: at for sid, at in {**self._revoked, **fresh}.items() if at >= horizon}

    # -- idle lock --------------------------------------------------------------------------------
    def forget(self, session_id: str | None = None) -> None:
        """Drop cached session rows (all, or one): the next check reads the database."""
        self._live.forget(session_id)

    async def _row(self, session_id: str, idle_minutes: int) -> AuthSessionRow | None:
        """The session's row as this process knows it (`live_sessions.py`), read again only when it would
        not let the session act (or is unknown) and was read more than `recheck_seconds` ago. A row that
        lets the session act now cannot be wrong in a way that matters: `last_seen_at` only moves on, and
        revocations reach `is_revoked` (which every request and heartbeat checks) through `poll()`."""
        cached = self._live.cached(session_id)
        if cached is not None:
            row, read_at = cached
            if self._judge(row, idle_minutes) is SessionState.ACTIVE or self._live.fresh(read_at):
                return row
        return await self._live.read(session_id)

    async def state(self, session_id: str, idle_minutes: int) -> SessionState:
        """The session's state without recording activity."""
        return self._judge(await self._row(session_id, idle_minutes), idle_minutes)

    async def stream_state(self, session_id: str, idle_minutes: int) -> SessionState:
        """What an open stream checks at a heartbeat: memory only, unless the row in memory would end
        the stream (or is missing) and was read more than `recheck_seconds` ago."""
        if self.is_revoked(session_id):
            return SessionState.REVOKED
        return await self.state(session_id, idle_minutes)

    def _judge(self, row: AuthSessionRow | None, idle_minutes: int) -> SessionState:
        if row is None:
            return SessionState.UNKNOWN
        if row.revoked_at is not None:
            return SessionState.REVOKED
        if session_is_idle_locked(row.last_seen_at, self.clock.now(), idle_minutes):
            return SessionState.IDLE_LOCKED
        return SessionState.ACTIVE

    async def activity(self, session_id: str, idle_minutes: int) -> SessionState:
        """The session's state for an HTTP request, recording the activity when it is active."""
        row = await self._row(session_id, idle_minutes)
        state = self._judge(row, idle_minutes)
        if state is not SessionState.ACTIVE:
            return state
        now = self.clock.now()
        assert row is not None
        if (now - row.last_seen_at).total_seconds() >= TOUCH_SECONDS:
            await self.touch(session_id, now)
        return SessionState.ACTIVE

    async def touch(self, session_id: str, now: datetime) -> None:
        async with self.db.transaction() as uow:
            await uow.session.execute(
                update(AuthSessionRow).where(AuthSessionRow.id == session_id).values(last_seen_at=now)
            )
        self._live.touched(session_id, now)
