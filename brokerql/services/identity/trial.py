"""A6 trial users: an SMS code to a mainland phone, then registration into the TRIAL tier.

SMS messages go through an outbox table (written with the code, in the same transaction) and are
handed to the pluggable `SmsSender` after the commit; the row records whether it went out. The
stored body is masked: only the sender ever sees the code.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy import select

from brokerql.domain.common import Rejection
from brokerql.domain.identity.passwords import check_password_policy
from brokerql.domain.identity.sms import (
    IssuedSmsCode,
    SmsSender,
    can_send,
    issue_code,
    normalise_phone,
    sms_text,
    trial_expires_at,
    validate_phone,
    verify_sms_code,
)
from brokerql.services.auth import AuthService, LoginOutcome
from brokerql.services.identity.audit import client_log, tier_changed
from brokerql.store.columns import new_id
from brokerql.store.tables import ClientRow
from brokerql.store.tables_identity import ClientProfileRow, SmsCodeRow, SmsOutboxRow

log = logging.getLogger(__name__)


class TrialRegistration:
    def __init__(self, auth: AuthService, sender: SmsSender) -> None:
        self.auth = auth
        self.db = auth.db
        self.clock = auth.clock
        self.sender = sender

    async def request_code(self, raw_phone: str) -> list[Rejection]:
        bad = validate_phone(raw_phone)
        if bad is not None:
            return [bad]
        phone = normalise_phone(raw_phone)
        now = self.clock.now()
        async with self.db.transaction() as uow:
            row = await uow.session.get(SmsCodeRow, phone, with_for_update=not uow.is_sqlite)
            previous = (
                IssuedSmsCode(row.phone, row.code_hash, row.issued_at, row.attempts, row.consumed) if row else None
            )
            too_soon = can_send(previous, now)
            if too_soon is not None:
                return [too_soon]
            code, issued = issue_code(phone, now)
            if row is None:
                row = SmsCodeRow(phone=phone, code_hash=issued.code_hash, issued_at=now)
                uow.session.add(row)
            row.code_hash, row.issued_at, row.attempts, row.consumed = issued.code_hash, now, 0, False
            outbox = SmsOutboxRow(id=new_id("sms"), phone=phone, template="VERIFY_CODE", body_masked=sms_text("******"))
            uow.session.add(outbox)
        await self._deliver(outbox.id, phone, code)
        return []

    async def _deliver(self, outbox_id: str, phone: str, code: str) -> None:
        try:
            await self.sender.send_code(phone, code)
            status = "SENT"
        except Exception:  # the SMS platform failing is reported on the outbox row, not to the caller
            log.exception("SMS sender failed for outbox %s", outbox_id)
            status = "FAILED"
        async with self.db.transaction() as uow:
            row = await uow.session.get(SmsOutboxRow, outbox_id)
            if row is not None:
                row.status, row.sent_at = status, self.clock.now()

    async def register(self, raw_phone: str, sms_code: str, password: str, name: str) -> LoginOutcome:
        phone = normalise_phone(raw_phone)
        if (bad := validate_phone(phone)) is not None:
            return LoginOutcome(errors=[bad])
        if weak := check_password_policy(password, username=phone):
            return LoginOutcome(errors=weak)
        password_hash = await asyncio.to_thread(self.auth.passwords.hash, password)
        days = await self.auth.params.integer("trial.days")
        async with self.db.transaction() as uow:
            row = await uow.session.get(SmsCodeRow, phone, with_for_update=not uow.is_sqlite)
            if row is None:
                return LoginOutcome(errors=[Rejection("SMS_CODE_INVALID", "Request a code first.", "smsCode")])
            issued = IssuedSmsCode(row.phone, row.code_hash, row.issued_at, row.attempts, row.consumed)
            now = self.clock.now()
            after, rejection = verify_sms_code(issued, sms_code, now)
            row.attempts, row.consumed = after.attempts, after.consumed
            if rejection is not None:
                return LoginOutcome(errors=[rejection])
            taken = await uow.session.scalar(select(ClientRow.id).where(ClientRow.username == phone))
            if taken is not None:
                return LoginOutcome(
                    errors=[Rejection("PHONE_REGISTERED", "This phone is already registered.", "phone")]
                )
            client = ClientRow(
                id=new_id("cli"), username=phone, name=name.strip()[:128] or phone, password_hash=password_hash,
                tier_code="TRIAL",
            )  # fmt: skip
            uow.session.add(client)
            await uow.session.flush()
            expires = trial_expires_at(now, timedelta(days=days))
            uow.session.add(ClientProfileRow(client_id=client.id, phone=phone, trial_expires_at=expires))
            client_log(uow, "REGISTERED", phone, client.id, "trial")
            tier_changed(uow, client.id, None, "TRIAL", "TRIAL_REGISTERED", note=f"until {expires.isoformat()}")
            return await self.auth.start_session(uow, "client", client, None, "SMS")
