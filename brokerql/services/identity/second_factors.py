"""A6 second secrets: TOTP enrolment, the communication password (idle unlock), USB-Key certificates,
and password changes. Every failed secret goes through the same login guard as a failed login."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select

from brokerql.domain.common import Rejection
from brokerql.domain.identity.certificates import load_public_key, new_challenge, verify_challenge_signature
from brokerql.domain.identity.login_policy import conclude_attempt, evaluate_attempt, screen_attempt
from brokerql.domain.identity.otp import new_secret, provisioning_uri, verify_totp
from brokerql.domain.identity.passwords import check_password_policy
from brokerql.services.auth import AuthService, LoginOutcome, _subject_table
from brokerql.services.identity.audit import client_log
from brokerql.services.identity.guard import load_guard, store_guard
from brokerql.services.tokens import Principal
from brokerql.store.columns import new_id
from brokerql.store.database import UnitOfWork
from brokerql.store.tables import ClientRow
from brokerql.store.tables_identity import CertificateRow, CredentialRow, LoginChallengeRow

BAD_SIGNATURE = Rejection("INVALID_CREDENTIALS", "The signature does not match a registered key.", "signature")


@dataclass
class TotpEnrolment:
    secret: str | None = None
    uri: str | None = None
    errors: list[Rejection] | None = None


async def _credential(uow: UnitOfWork, kind: str, subject_id: str) -> CredentialRow:
    row = await uow.session.get(CredentialRow, (kind, subject_id), with_for_update=not uow.is_sqlite)
    if row is None:
        row = CredentialRow(subject_kind=kind, subject_id=subject_id)
        uow.session.add(row)
    return row


class SecondFactors:
    def __init__(self, auth: AuthService) -> None:
        self.auth = auth
        self.db = auth.db
        self.clock = auth.clock

    async def _subject(self, uow: UnitOfWork, principal: Principal) -> Any:
        return await uow.session.get(_subject_table(principal.kind), principal.subject_id)

    async def _check_secret(
        self, uow: UnitOfWork, principal: Principal, ok: bool, wrong: Rejection
    ) -> Rejection | None:
        """Run a secret check through the subject's login guard (lock, failures)."""
        subject = await self._subject(uow, principal)
        policy = await self.auth.params.login_policy()
        guard_row, state = await load_guard(uow, principal.kind, subject.username)
        # The caller is logged in already: a captcha is not asked for, but the lock applies.
        decision = evaluate_attempt(state, policy, self.clock.now(), password_ok=ok, captcha_ok=True, wrong=wrong)
        store_guard(guard_row, decision.state)
        if decision.newly_locked and principal.kind == "client":
            client_log(uow, "LOGIN_LOCKED", subject.username, subject.id, "wrong second secret")
        return decision.rejection

    # -- TOTP ---------------------------------------------------------------------------------------
    async def enrol_totp(self, principal: Principal) -> TotpEnrolment:
        secret = new_secret()
        async with self.db.transaction() as uow:
            subject = await self._subject(uow, principal)
            credential = await _credential(uow, principal.kind, principal.subject_id)
            credential.totp_pending_secret = secret
        return TotpEnrolment(secret, provisioning_uri(secret, subject.username), [])

    async def confirm_totp(self, principal: Principal, code: str) -> list[Rejection]:
        """Turn TOTP on with the first code from the authenticator (proves it was set up)."""
        async with self.db.transaction() as uow:
            credential = await _credential(uow, principal.kind, principal.subject_id)
            if credential.totp_pending_secret is None:
                return [Rejection("NO_TOTP_ENROLMENT", "Call enrolTotp first.", "code")]
            ok, step = verify_totp(credential.totp_pending_secret, code, self.clock.now(), None)
            if not ok:
                return [Rejection("OTP_INVALID", "The code is wrong.", "code")]
            credential.totp_secret, credential.totp_pending_secret = credential.totp_pending_secret, None
            credential.totp_last_step = step
        return []

    async def disable_totp(self, principal: Principal, code: str) -> list[Rejection]:
        async with self.db.transaction() as uow:
            credential = await _credential(uow, principal.kind, principal.subject_id)
            if credential.totp_secret is None:
                return [Rejection("TOTP_NOT_ENABLED", "The dynamic password is not enabled.", "code")]
            ok, step = verify_totp(credential.totp_secret, code, self.clock.now(), credential.totp_last_step)
            wrong = Rejection("OTP_INVALID", "The dynamic password is wrong or already used.", "code")
            rejection = await self._check_secret(uow, principal, ok, wrong)
            if rejection is None:
                credential.totp_secret, credential.totp_last_step = None, step
        return [rejection] if rejection else []

    # -- passwords ----------------------------------------------------------------------------------
    async def _verify_password(self, principal: Principal, password: str) -> bool:
        async with self.db.read() as session:
            subject = await session.get(_subject_table(principal.kind), principal.subject_id)
        return await asyncio.to_thread(self.auth.passwords.verify, subject.password_hash if subject else None, password)

    async def change_password(self, principal: Principal, current: str, new: str) -> list[Rejection]:
        ok = await self._verify_password(principal, current)
        async with self.db.transaction() as uow:
            subject = await self._subject(uow, principal)
            wrong = Rejection("INVALID_CREDENTIALS", "The current password is wrong.", "currentPassword")
            rejection = await self._check_secret(uow, principal, ok, wrong)
            if rejection is not None:
                return [rejection]
            weak = check_password_policy(new, username=subject.username, field="newPassword")
            if weak:
                return weak
            subject.password_hash = await asyncio.to_thread(self.auth.passwords.hash, new)
            # Every other session ends (a thief's too); the one that proved the old password keeps going.
            ids = await self.auth.sessions.revoke_subject(
                uow, principal.subject_id, principal.kind, keep=principal.session_id
            )
            if principal.kind == "client":
                client_log(uow, "PASSWORD_CHANGED", subject.username, subject.id, f"{len(ids)} other sessions ended")
        return []

    async def set_communication_password(self, principal: Principal, password: str, new: str) -> list[Rejection]:
        """Set the communication password (通讯密码), proving the login password."""
        ok = await self._verify_password(principal, password)
        new_hash = await asyncio.to_thread(self.auth.passwords.hash, new)
        async with self.db.transaction() as uow:
            subject = await self._subject(uow, principal)
            wrong = Rejection("INVALID_CREDENTIALS", "The login password is wrong.", "password")
            rejection = await self._check_secret(uow, principal, ok, wrong)
            if rejection is not None:
                return [rejection]
            weak = check_password_policy(new, username=subject.username, field="communicationPassword")
            if weak:
                return weak
            (await _credential(uow, principal.kind, principal.subject_id)).communication_password_hash = new_hash
        return []

    async def unlock_session(self, principal: Principal, communication_password: str) -> list[Rejection]:
        """Lift the idle lock of the caller's session: only the communication password does that."""
        async with self.db.read() as session:
            credential = await session.get(CredentialRow, (principal.kind, principal.subject_id))
        stored = credential.communication_password_hash if credential else None
        if stored is None:
            return [Rejection("NO_COMMUNICATION_PASSWORD", "Set a communication password first.", None)]
        ok = await asyncio.to_thread(self.auth.passwords.verify, stored, communication_password)
        async with self.db.transaction() as uow:
            wrong = Rejection("INVALID_CREDENTIALS", "Wrong communication password.", "communicationPassword")
            rejection = await self._check_secret(uow, principal, ok, wrong)
            subject = await self._subject(uow, principal)
            if principal.kind == "client":
                client_log(uow, "SESSION_UNLOCKED" if ok else "UNLOCK_FAILED", subject.username, subject.id)
        if rejection is not None:
            return [rejection]
        await self.auth.sessions.touch(principal.session_id, self.clock.now())
        return []

    # -- certificates (USB-Key) ----------------------------------------------------------------------
    async def register_certificate(self, principal: Principal, pem: str, label: str) -> tuple[str | None, list]:
        key = load_public_key(pem, self.clock.now())
        if isinstance(key, Rejection):
            return None, [key]
        cert_id = new_id("crt")
        async with self.db.transaction() as uow:
            uow.session.add(CertificateRow(id=cert_id, client_id=principal.subject_id, label=label, public_key_pem=pem))
        return cert_id, []

    async def challenge(self, username: str) -> tuple[str, str, datetime]:
        """A fresh challenge for any login name (unknown names get one too, and simply fail later)."""
        issued = new_challenge(self.clock.now())
        challenge_id = new_id("chl")
        async with self.db.transaction() as uow:
            await uow.session.execute(delete(LoginChallengeRow).where(LoginChallengeRow.expires_at < self.clock.now()))
            uow.session.add(
                LoginChallengeRow(id=challenge_id, username=username, nonce=issued.nonce, expires_at=issued.expires_at)
            )
        return challenge_id, issued.nonce, issued.expires_at

    async def certificate_login(self, challenge_id: str, signature: str, account_type: str | None) -> LoginOutcome:
        policy = await self.auth.params.login_policy()
        async with self.db.transaction() as uow:
            challenge = await uow.session.get(LoginChallengeRow, challenge_id)
            if challenge is None:
                return LoginOutcome(errors=[Rejection("BAD_CHALLENGE", "Unknown or spent challenge.", "challengeId")])
            await uow.session.delete(challenge)  # single use, whatever happens next
            now = self.clock.now()
            guard_row, state = await load_guard(uow, "client", challenge.username)
            # The signed challenge stands in for the captcha (a script cannot sign without the key).
            if (screened := screen_attempt(state, policy, now, captcha_ok=True)) is not None:
                return LoginOutcome(errors=screened.errors)
            client = await uow.session.scalar(select(ClientRow).where(ClientRow.username == challenge.username))
            keys = (
                (
                    await uow.session.scalars(
                        select(CertificateRow.public_key_pem).where(
                            CertificateRow.client_id == client.id, CertificateRow.revoked_at.is_(None)
                        )
                    )
                ).all()
                if client
                else []
            )
            ok = any(verify_challenge_signature(k, challenge.nonce, signature, now, challenge.expires_at) for k in keys)
            decision = conclude_attempt(state, policy, now, secret_ok=ok, wrong=BAD_SIGNATURE)
            store_guard(guard_row, decision.state)
            if not decision.allowed:
                client_log(uow, "CERT_LOGIN_FAILED", challenge.username, client.id if client else None)
                return LoginOutcome(errors=decision.errors)
            refused = await self.auth._refuse_subject(uow, "client", client, account_type)
            if isinstance(refused, Rejection):
                return LoginOutcome(errors=[refused])
            return await self.auth.start_session(uow, "client", client, refused, "CERTIFICATE")
