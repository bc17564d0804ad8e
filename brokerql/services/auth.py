"""Logging in (clients and operators), refreshing and logging out.

A password login runs in three short steps so that argon2 never runs inside a write transaction:
1. the guard (lock, captcha; a spent captcha stays spent), 2. the password check (in a worker thread),
3. one transaction that applies the outcome: guard state, TOTP step, session, tokens, client log.
Unknown login names go through exactly the same steps (a dummy hash, a guard row of their own), so
they get the same error, the same captcha and the same lock as a wrong password.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cachetools import TTLCache
from sqlalchemy import select

from brokerql.domain.clock import Clock
from brokerql.domain.common import Rejection
from brokerql.domain.entitlement_rules import trading_entitlement
from brokerql.domain.identity.login_policy import INVALID_CREDENTIALS, conclude_attempt, screen_attempt
from brokerql.domain.identity.otp import check_otp
from brokerql.domain.identity.passwords import Passwords
from brokerql.domain.identity.sms import trial_is_active
from brokerql.services.identity.audit import client_log
from brokerql.services.identity.guard import Captchas, load_guard, store_guard
from brokerql.services.identity.params import SystemParameters
from brokerql.services.identity.sessions import SessionGate
from brokerql.services.identity.tier_cache import TierCache
from brokerql.services.tokens import AccessTokens, Principal, RefreshTokens, TokenError
from brokerql.store.database import Database, UnitOfWork
from brokerql.store.tables import AccountRow, ClientRow, OperatorRow
from brokerql.store.tables_identity import AuthSessionRow, ClientProfileRow, CredentialRow


@dataclass
class LoginOutcome:
    """Tokens and who logged in on success; otherwise the reasons."""

    client: ClientRow | None = None
    access_token: str | None = None
    refresh_token: str | None = None
    expires_in: int = 0
    account_type: str | None = None
    errors: list[Rejection] = field(default_factory=list)
    operator: OperatorRow | None = None
    session_id: str | None = None


# A login without an explicit type acts for the stock account first (deterministic, not row order).
_DEFAULT_TYPE_ORDER = ("CASH", "MARGIN", "FUTURES")


def default_account_type(types: Any) -> str | None:
    """The account type a login acts for when it names none: CASH, else MARGIN, else FUTURES."""
    return next((t for t in _DEFAULT_TYPE_ORDER if t in types), None)


def _subject_table(kind: str) -> Any:
    return ClientRow if kind == "client" else OperatorRow


class AuthService:
    def __init__(
        self,
        db: Database,
        passwords: Passwords,
        access: AccessTokens,
        refresh: RefreshTokens,
        *,
        sessions: SessionGate,
        params: SystemParameters,
        captchas: Captchas,
        clock: Clock,
        tier_cache: TTLCache[str, str],
    ) -> None:
        self.db = db
        self.passwords = passwords
        self.access = access
        self.refresh = refresh
        self.clock = clock
        self.sessions = sessions
        self.params = params
        self.captchas = captchas
        self.tiers = TierCache(db, tier_cache)
        # Does a tier grant an entitlement key (the tier catalog; wired by IdentityServices.build).
        self.catalog_grants: Callable[[str, str], bool] = lambda tier, key: True

    async def tier_of(self, client_id: str, *, stale_ok: bool = False) -> str:
        """The client's tier (`services/identity/tier_cache.py`)."""
        return await self.tiers.tier_of(client_id, stale_ok=stale_ok)

    def forget_tier(self, client_id: str) -> None:
        """This process changed the client's tier: the next caller waits for the new one."""
        self.tiers.forget(client_id)

    def take_tier(self, client_id: str, tier: str | None) -> None:
        """A tier change committed (heard from the bus): the client's tier is `tier` from now on."""
        self.tiers.take(client_id, tier)

    def forget_tiers(self) -> None:
        """Changes may have gone unheard (the bus link was lost): every tier is read afresh."""
        self.tiers.forget_all()

    # -- password logins ------------------------------------------------------------------------------
    async def login(
        self,
        username: str,
        password: str,
        account_type: str | None = None,
        *,
        otp: str | None = None,
        captcha_id: str | None = None,
        captcha_answer: str | None = None,
    ) -> LoginOutcome:
        return await self._password_login("client", username, password, account_type, otp, captcha_id, captcha_answer)

    async def operator_login(
        self,
        username: str,
        password: str,
        *,
        otp: str | None = None,
        captcha_id: str | None = None,
        captcha_answer: str | None = None,
    ) -> LoginOutcome:
        return await self._password_login("operator", username, password, None, otp, captcha_id, captcha_answer)

    async def _password_login(
        self,
        kind: str,
        username: str,
        password: str,
        account_type: str | None,
        otp: str | None,
        captcha_id: str | None,
        captcha_answer: str | None,
    ) -> LoginOutcome:
        policy = await self.params.login_policy()
        # 1. the guard: nothing secret is checked for a locked login or a missing captcha
        async with self.db.transaction() as uow:
            guard_row, state = await load_guard(uow, kind, username)
            captcha_ok = await self.captchas.consume(uow, captcha_id, captcha_answer)
            screened = screen_attempt(state, policy, self.clock.now(), captcha_ok=captcha_ok)
            if screened is not None:
                store_guard(guard_row, screened.state)
                assert screened.rejection is not None
                await self._log_refusal(uow, kind, username, screened.rejection.code, screened.newly_locked)
                return LoginOutcome(errors=screened.errors)
        # 2. the password, off the event loop
        table = _subject_table(kind)
        async with self.db.read() as session:
            subject = await session.scalar(select(table).where(table.username == username))
        stored = subject.password_hash if subject is not None else None
        password_ok = await asyncio.to_thread(self.passwords.verify, stored, password) and subject is not None
        # 3. apply the outcome
        async with self.db.transaction() as uow:
            now = self.clock.now()
            guard_row, state = await load_guard(uow, kind, username)
            if not password_ok:
                failed = conclude_attempt(state, policy, now, secret_ok=False, hint_captcha=True)
                store_guard(guard_row, failed.state)
                await self._log_refusal(uow, kind, username, "LOGIN_FAILED", failed.newly_locked, subject)
                return LoginOutcome(errors=failed.errors)
            assert subject is not None
            credential = await uow.session.get(CredentialRow, (kind, subject.id), with_for_update=not uow.is_sqlite)
            secret = credential.totp_secret if credential else None
            step, otp_rejection = check_otp(secret, otp, now, credential.totp_last_step if credential else None)
            if otp_rejection is not None and otp_rejection.code == "OTP_REQUIRED":
                return LoginOutcome(errors=[otp_rejection])
            decision = conclude_attempt(
                state, policy, now, secret_ok=otp_rejection is None, wrong=otp_rejection or INVALID_CREDENTIALS
            )
            store_guard(guard_row, decision.state)
            if not decision.allowed:
                event = "OTP_FAILED" if otp_rejection is not None else "ACCOUNT_LOCKED"
                await self._log_refusal(uow, kind, username, event, decision.newly_locked, subject)
                return LoginOutcome(errors=decision.errors)
            refused = await self._refuse_subject(uow, kind, subject, account_type)
            if isinstance(refused, Rejection):
                return LoginOutcome(errors=[refused])
            if credential is not None and step is not None:
                credential.totp_last_step = step
            return await self.start_session(uow, kind, subject, refused, "TOTP" if step is not None else "PASSWORD")

    async def _refuse_subject(
        self, uow: UnitOfWork, kind: str, subject: Any, account_type: str | None
    ) -> Rejection | str | None:
        """Why a correctly authenticated subject still may not log in; else the account type chosen."""
        if kind != "client":
            return None
        if subject.status == "LOCKED":
            return Rejection("ACCOUNT_LOCKED", "This login is locked; contact your branch.", "username")
        if subject.tier_code == "TRIAL":
            profile = await uow.session.get(ClientProfileRow, subject.id)
            expires = profile.trial_expires_at if profile is not None else None
            if expires is not None and not trial_is_active(expires, self.clock.now()):
                return Rejection("TRIAL_EXPIRED", "Your trial has ended; open an account to continue.", "username")
        types = list(
            (await uow.session.scalars(select(AccountRow.type).where(AccountRow.client_id == subject.id))).all()
        )
        if account_type and account_type not in types:
            return Rejection("NO_SUCH_ACCOUNT_TYPE", f"No {account_type} account.", "accountType")
        return account_type or default_account_type(types)

    async def _log_refusal(
        self, uow: UnitOfWork, kind: str, username: str, event: str, newly_locked: bool, subject: Any = None
    ) -> None:
        """Failures and locks of a client's login name, with its client id whenever the name is a client's,
        so the client's own log shows them (refusals at the guard come before the subject is read)."""
        if kind != "client":
            return
        client_id = subject.id if subject is not None else None
        if client_id is None:
            client_id = await uow.session.scalar(select(ClientRow.id).where(ClientRow.username == username))
        client_log(uow, event, username, client_id)
        if newly_locked:
            client_log(uow, "LOGIN_LOCKED", username, client_id)

    # -- sessions and tokens --------------------------------------------------------------------------
    async def start_session(
        self, uow: UnitOfWork, kind: str, subject: Any, account_type: str | None, method: str
    ) -> LoginOutcome:
        """Open a session for an authenticated subject and issue its tokens (inside the caller's uow)."""
        session = await self.sessions.open(uow, subject.id, kind, account_type, method)
        refresh = await self.refresh.issue(uow, subject.id, kind, family_id=session.id)
        access, expires_at = self.access.issue(
            subject.id, kind, now=self.clock.now(), account_type=account_type, session_id=session.id
        )
        if kind == "client":
            client_log(uow, "LOGIN_OK", subject.username, subject.id, method)
        return LoginOutcome(
            client=subject if kind == "client" else None,
            operator=subject if kind == "operator" else None,
            access_token=access,
            refresh_token=refresh,
            expires_in=self._seconds(expires_at),
            account_type=account_type,
            session_id=session.id,
        )

    async def switch_account(self, principal: Principal, account_type: str) -> LoginOutcome:
        """Make the caller's session act for another account type: a new access token for it (same
        session, so refreshing keeps the new type). The client must hold an account of that type, and
        its tier must allow trading there (MARGIN: trading.margin)."""
        async with self.db.transaction() as uow:
            client = await uow.session.get(ClientRow, principal.subject_id)
            session = await uow.session.get(AuthSessionRow, principal.session_id)
            if client is None or session is None or session.revoked_at is not None:
                return LoginOutcome(errors=[Rejection("NO_SESSION", "This session has ended; log in again.")])
            types = (await uow.session.scalars(select(AccountRow.type).where(AccountRow.client_id == client.id))).all()
            if account_type not in types:
                return LoginOutcome(
                    errors=[Rejection("NO_SUCH_ACCOUNT_TYPE", f"No {account_type} account.", "accountType")]
                )
            key = trading_entitlement(account_type)
            if not self.catalog_grants(client.tier_code, key):
                return LoginOutcome(
                    errors=[Rejection("NOT_ENTITLED", f"Trading a {account_type} account needs {key}.", "accountType")]
                )
            before, session.account_type = session.account_type, account_type
            client_log(uow, "ACCOUNT_SWITCHED", client.username, client.id, f"{before} -> {account_type}")
        access, expires_at = self.access.issue(
            client.id, "client", now=self.clock.now(), account_type=account_type, session_id=session.id
        )
        return LoginOutcome(
            client=client, access_token=access, expires_in=self._seconds(expires_at),
            account_type=account_type, session_id=session.id,
        )  # fmt: skip

    async def refresh_session(self, token: str) -> LoginOutcome:
        """Rotate the refresh token. Reusing a spent one revokes the whole session (all its tokens)."""
        failure: TokenError | None = None
        async with self.db.transaction() as uow:
            try:
                row, new_refresh = await self.refresh.rotate(uow, token)
            except TokenError as exc:
                failure = exc
                if exc.reason == "reused" and exc.family_id:
                    await self.sessions.revoke(uow, [exc.family_id])
            if failure is None:
                subject = await uow.session.get(_subject_table(row.subject_kind), row.subject_id)
                session = await uow.session.get(AuthSessionRow, row.family_id)
        if failure is not None:
            return LoginOutcome(errors=[Rejection("INVALID_REFRESH_TOKEN", f"Refresh token {failure.reason}.")])
        assert subject is not None
        account_type = session.account_type if session is not None else None
        access, expires_at = self.access.issue(
            subject.id, row.subject_kind, now=self.clock.now(), account_type=account_type, session_id=row.family_id
        )
        return LoginOutcome(
            client=subject if row.subject_kind == "client" else None,
            operator=subject if row.subject_kind == "operator" else None,
            access_token=access,
            refresh_token=new_refresh,
            expires_in=self._seconds(expires_at),
            account_type=account_type,
            session_id=row.family_id,
        )

    async def logout(self, principal: Principal | None, refresh_token: str | None = None) -> bool:
        """End the caller's session (and/or the one of `refresh_token`): its tokens stop working at once."""
        async with self.db.transaction() as uow:
            ids = [principal.session_id] if principal is not None and principal.session_id else []
            if refresh_token:
                family = await self.refresh.revoke_token(uow, refresh_token)
                if family:
                    ids.append(family)
            await self.sessions.revoke(uow, ids)
            if principal is not None and principal.kind == "client":
                client = await uow.session.get(ClientRow, principal.subject_id)
                client_log(uow, "LOGOUT", client.username if client else "", principal.subject_id)
        return bool(ids)

    def _seconds(self, expires_at) -> int:  # type: ignore[no-untyped-def]
        return max(0, int((expires_at - self.clock.now()).total_seconds()))
