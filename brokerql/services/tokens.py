"""Signed short-lived access tokens (joserfc JWT) and rotating opaque refresh tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cachetools import LRUCache
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey
from sqlalchemy import select, update

from brokerql.domain.clock import Clock
from brokerql.store.columns import new_id
from brokerql.store.database import UnitOfWork
from brokerql.store.tables import RefreshTokenRow

ALGORITHM = "HS256"
ISSUER = "brokerql"


class TokenError(Exception):
    """A token that cannot be used: `reason` says why (expired, invalid, revoked, reused)."""

    def __init__(self, reason: str, family_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.family_id = family_id


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a client, an operator or a partner application, as the access token says."""

    subject_id: str
    kind: str  # "client" | "operator" | "partner"
    token_id: str
    expires_at: datetime
    account_type: str | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)
    # The login session (`sid` claim): its refresh-token family, and what revocation and idle lock act on.
    session_id: str = ""


class AccessTokens:
    """Issues and verifies HS256 JWTs. Verification needs no database: that is the point of them."""

    def __init__(self, signing_key: str, lifetime: timedelta, *, cache_size: int = 50_000) -> None:
        self._key = OctKey.import_key(signing_key.encode())
        self.lifetime = lifetime
        # Bounded: a token evicted costs one more signature check when it comes back.
        self._verified: LRUCache[str, Principal] = LRUCache(maxsize=cache_size)

    def issue(
        self,
        subject_id: str,
        kind: str,
        *,
        now: datetime,
        account_type: str | None = None,
        scopes: frozenset[str] = frozenset(),
        session_id: str | None = None,
    ) -> tuple[str, datetime]:
        expires_at = now + self.lifetime
        claims = {
            "iss": ISSUER,
            "sub": subject_id,
            "knd": kind,
            "jti": secrets.token_urlsafe(12),
            "iat": int(now.timestamp()),
            "exp": int(expires_at.timestamp()),
        }
        if account_type:
            claims["act"] = account_type
        if scopes:
            claims["scp"] = " ".join(sorted(scopes))
        if session_id:
            claims["sid"] = session_id
        return jwt.encode({"alg": ALGORITHM}, claims, self._key), expires_at

    def verify(self, token: str, *, now: datetime) -> Principal:
        """The token's principal. A token's signature never changes, so it is checked once per process
        (streams re-verify at every event or heartbeat); expiry is checked on every call."""
        principal = self._verified.get(token)
        if principal is None:
            principal = self._decode(token, now)
            self._verified[token] = principal
        if principal.expires_at <= now:
            raise TokenError("expired")
        return principal

    def _decode(self, token: str, now: datetime) -> Principal:
        try:
            decoded = jwt.decode(token, self._key, algorithms=[ALGORITHM])
        except (JoseError, ValueError) as exc:
            raise TokenError("invalid") from exc
        claims = decoded.claims
        if claims.get("iss") != ISSUER or "sub" not in claims or "exp" not in claims:
            raise TokenError("invalid")
        if int(claims["exp"]) <= int(now.timestamp()):
            raise TokenError("expired")
        if not claims.get("sid"):  # every token we issue names its session: one without escapes revocation
            raise TokenError("invalid")
        return Principal(
            subject_id=claims["sub"],
            kind=claims.get("knd", "client"),
            token_id=claims.get("jti", ""),
            expires_at=datetime.fromtimestamp(int(claims["exp"]), tz=now.tzinfo),
            account_type=claims.get("act"),
            scopes=frozenset(claims.get("scp", "").split()) if claims.get("scp") else frozenset(),
            session_id=claims.get("sid", ""),
        )


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class RefreshTokens:
    """Opaque refresh tokens stored as hashes. Each use rotates; reusing a spent one revokes its family."""

    def __init__(self, lifetime: timedelta, clock: Clock) -> None:
        self.lifetime = lifetime
        self.clock = clock

    async def issue(self, uow: UnitOfWork, subject_id: str, kind: str, family_id: str | None = None) -> str:
        token = secrets.token_urlsafe(32)
        now = self.clock.now()
        uow.session.add(
            RefreshTokenRow(
                id=new_id("rt"),
                token_hash=_digest(token),
                family_id=family_id or new_id("rtf"),
                subject_id=subject_id,
                subject_kind=kind,
                expires_at=now + self.lifetime,
            )
        )
        return token

    async def rotate(self, uow: UnitOfWork, token: str) -> tuple[RefreshTokenRow, str]:
        """Spend `token` and return its row and a fresh token of the same family."""
        now = self.clock.now()
        row = await uow.session.scalar(
            uow.lock(select(RefreshTokenRow).where(RefreshTokenRow.token_hash == _digest(token)))
        )
        if row is None:
            raise TokenError("invalid")
        if row.revoked_at is not None:
            # Family already revoked (logout, reuse, operator): nothing to rotate.
            raise TokenError("revoked")
        if row.used_at is not None:
            # A spent token came back: someone holds a copy. Revoke the whole family.
            await self.revoke_family(uow, row.family_id)
            raise TokenError("reused", row.family_id)
        if row.expires_at <= now:
            raise TokenError("expired")
        row.used_at = now
        return row, await self.issue(uow, row.subject_id, row.subject_kind, row.family_id)

    async def revoke_family(self, uow: UnitOfWork, family_id: str) -> None:
        await uow.session.execute(
            update(RefreshTokenRow)
            .where(RefreshTokenRow.family_id == family_id, RefreshTokenRow.revoked_at.is_(None))
            .values(revoked_at=self.clock.now())
        )

    async def revoke_token(self, uow: UnitOfWork, token: str) -> str | None:
        """Revoke the family of `token`; returns the family (session) id, None for an unknown token."""
        row = await uow.session.scalar(select(RefreshTokenRow).where(RefreshTokenRow.token_hash == _digest(token)))
        if row is None:
            return None
        await self.revoke_family(uow, row.family_id)
        return row.family_id

    async def revoke_subject(self, uow: UnitOfWork, subject_id: str, kind: str) -> None:
        """Revoke every refresh token of one client or operator (operator action, password change)."""
        await uow.session.execute(
            update(RefreshTokenRow)
            .where(
                RefreshTokenRow.subject_id == subject_id,
                RefreshTokenRow.subject_kind == kind,
                RefreshTokenRow.revoked_at.is_(None),
            )
            .values(revoked_at=self.clock.now())
        )
