"""Logging in and refreshing: password check, account choice, token issue."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from sqlalchemy import select

from brokerql.domain.common import Rejection
from brokerql.domain.identity.passwords import Passwords
from brokerql.services.tokens import AccessTokens, RefreshTokens, TokenError
from brokerql.store.columns import utcnow
from brokerql.store.database import Database
from brokerql.store.tables import AccountRow, ClientRow

TIER_CACHE_SECONDS = 1.0
INVALID_CREDENTIALS = Rejection("INVALID_CREDENTIALS", "Wrong username or password.", "password")


@dataclass
class LoginOutcome:
    """Tokens and the client on success; otherwise the reasons."""

    client: ClientRow | None = None
    access_token: str | None = None
    refresh_token: str | None = None
    expires_in: int = 0
    account_type: str | None = None
    errors: list[Rejection] = field(default_factory=list)


class AuthService:
    def __init__(self, db: Database, passwords: Passwords, access: AccessTokens, refresh: RefreshTokens) -> None:
        self.db = db
        self.passwords = passwords
        self.access = access
        self.refresh = refresh
        self._tiers: dict[str, tuple[float, str]] = {}

    async def tier_of(self, client_id: str) -> str:
        """The client's tier, cached for a second: fresh enough that a downgrade reaches open streams
        within one heartbeat, cheap enough for per-event checks on busy quote streams."""
        now = time.monotonic()
        cached = self._tiers.get(client_id)
        if cached is not None and now - cached[0] < TIER_CACHE_SECONDS:
            return cached[1]
        async with self.db.read() as session:
            tier = await session.scalar(select(ClientRow.tier_code).where(ClientRow.id == client_id))
        if tier is None:
            raise LookupError(client_id)
        self._tiers[client_id] = (now, tier)
        return tier

    async def login(self, username: str, password: str, account_type: str | None) -> LoginOutcome:
        async with self.db.read() as session:
            client = await session.scalar(select(ClientRow).where(ClientRow.username == username))
            accounts = (
                (await session.scalars(select(AccountRow).where(AccountRow.client_id == client.id))).all()
                if client
                else []
            )
        # argon2 is deliberately slow: keep it off the event loop. Unknown users verify a dummy hash.
        ok = await asyncio.to_thread(self.passwords.verify, client.password_hash if client else None, password)
        if not ok or client is None:
            return LoginOutcome(errors=[INVALID_CREDENTIALS])
        if client.status == "LOCKED":
            return LoginOutcome(errors=[Rejection("ACCOUNT_LOCKED", "This login is locked.", "username")])
        chosen = account_type or (accounts[0].type if accounts else None)
        if account_type and not any(a.type == account_type for a in accounts):
            return LoginOutcome(
                errors=[Rejection("NO_SUCH_ACCOUNT_TYPE", f"No {account_type} account.", "accountType")]
            )
        return await self._issue(client, chosen)

    async def refresh_session(self, token: str) -> LoginOutcome:
        try:
            async with self.db.transaction() as uow:
                row, new_refresh = await self.refresh.rotate(uow, token)
                client = await uow.session.get(ClientRow, row.subject_id)
        except TokenError as exc:
            return LoginOutcome(errors=[Rejection("INVALID_REFRESH_TOKEN", f"Refresh token {exc.reason}.")])
        assert client is not None
        access, expires_at = self.access.issue(client.id, "client", now=utcnow())
        return LoginOutcome(client, access, new_refresh, self._seconds(expires_at))

    async def logout(self, refresh_token: str) -> bool:
        async with self.db.transaction() as uow:
            return await self.refresh.revoke_token(uow, refresh_token)

    async def _issue(self, client: ClientRow, account_type: str | None) -> LoginOutcome:
        access, expires_at = self.access.issue(client.id, "client", now=utcnow(), account_type=account_type)
        async with self.db.transaction() as uow:
            refresh = await self.refresh.issue(uow, client.id, "client")
        return LoginOutcome(client, access, refresh, self._seconds(expires_at), account_type)

    @staticmethod
    def _seconds(expires_at) -> int:  # type: ignore[no-untyped-def]
        return max(0, int((expires_at - utcnow()).total_seconds()))
