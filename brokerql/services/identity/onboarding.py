"""A1 onboarding by an operator: create a client, open its trading accounts (rules: domain/identity/onboarding).

Each write is one transaction holding the change, its operator log entry and its typed domain event
(`ClientCreated`, `AccountOpened`, stored through the bus codec), so nothing is changed unrecorded.
"""

from __future__ import annotations

import asyncio
import secrets
import string
from decimal import Decimal

from sqlalchemy import select

from brokerql.bus import codec
from brokerql.domain.clock import Clock
from brokerql.domain.common import Rejection
from brokerql.domain.identity.onboarding import (
    AccountOpened,
    ClientCreated,
    check_account_opening,
    check_new_client,
)
from brokerql.domain.identity.passwords import Passwords, check_password_policy
from brokerql.domain.identity.tiers import TierCode
from brokerql.domain.trading.account import Account, AccountType
from brokerql.services.identity.audit import client_log, domain_event, operator_log, tier_changed
from brokerql.services.identity.tiers import TierCatalogStore
from brokerql.services.queries import AccountState, state_of
from brokerql.store.columns import new_id
from brokerql.store.database import Database, UnitOfWork
from brokerql.store.tables import AccountRow, ClientRow

PASSWORD_ALPHABET = string.ascii_letters + string.digits + "#%+-=@"


def one_time_password(length: int = 20) -> str:
    """A password the policy accepts: every character class, from the system's CSPRNG."""
    while True:
        candidate = "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(length))
        classes = (str.islower, str.isupper, str.isdigit, lambda c: not c.isalnum())
        if all(any(test(c) for c in candidate) for test in classes):
            return candidate


def record(uow: UnitOfWork, event: ClientCreated | AccountOpened) -> None:
    """The typed event in the domain-event trail, as the codec's versioned record."""
    domain_event(uow, codec.name_of(event), event.client_id, codec.to_record(event))


class Onboarding:
    def __init__(self, db: Database, passwords: Passwords, tiers: TierCatalogStore, clock: Clock) -> None:
        self.db = db
        self.passwords = passwords
        self.tiers = tiers
        self.clock = clock

    async def create_client(
        self, by: str, username: str, name: str, tier: str, password: str | None
    ) -> tuple[ClientRow | None, str | None, list[Rejection]]:
        """The new client, and its one-time password when none was given (shown once, never stored)."""
        generated = one_time_password() if password is None else None
        password = password if password is not None else generated or ""
        errors = check_new_client(username, name, tier) + check_password_policy(password, username=username)
        if errors:
            return None, None, errors
        password_hash = await asyncio.to_thread(self.passwords.hash, password)
        async with self.db.transaction() as uow:
            if await uow.session.scalar(select(ClientRow.id).where(ClientRow.username == username)):
                return None, None, [Rejection("USERNAME_TAKEN", "This username is taken.", "username")]
            row = ClientRow(
                id=new_id("cli"), username=username, name=name.strip(), password_hash=password_hash, tier_code=tier
            )
            uow.session.add(row)
            await uow.session.flush()
            created = ClientCreated(
                client_id=row.id, username=username, name=row.name, tier=tier, by_operator=by, at=self.clock.now()
            )
            record(uow, created)
            tier_changed(uow, row.id, None, tier, "CREATED_BY_OPERATOR", by_operator=by)
            client_log(uow, "CREATED", username, row.id, f"by {by}")
            operator_log(uow, by, "client.create", row.id, None, {"username": username, "name": row.name, "tier": tier})
        return row, generated, []

    async def open_account(
        self, by: str, client_id: str, account_type: str, opening_deposit: Decimal
    ) -> tuple[AccountState | None, list[Rejection]]:
        """The new account, funded with the opening deposit."""
        async with self.db.transaction() as uow:
            client = await uow.session.get(ClientRow, client_id, with_for_update=not uow.is_sqlite)
            if client is None:
                return None, [Rejection("NOT_FOUND", "No such client.", "clientId")]
            owned = await uow.session.scalars(select(AccountRow.type).where(AccountRow.client_id == client_id))
            tier = TierCode(client.tier_code)
            errors = check_account_opening(
                account_type, client.status, lambda key: self.tiers.grants(tier, key), set(owned), opening_deposit
            )
            if errors:
                return None, errors
            account = Account(id=new_id("acc"), type=AccountType(account_type))
            if opening_deposit > 0:
                account.deposit(opening_deposit)
            row = AccountRow(
                id=account.id,
                client_id=client_id,
                type=account.type.value,
                balance=account.funds.balance,
                available=account.funds.available,
                frozen=account.funds.frozen,
            )
            uow.session.add(row)
            now = self.clock.now()
            opened = AccountOpened(
                account_id=row.id, client_id=client_id, type=row.type, currency=row.currency,
                opening_deposit=opening_deposit, by_operator=by, at=now,
            )  # fmt: skip
            record(uow, opened)
            after = {"type": row.type, "openingDeposit": str(opening_deposit)}
            operator_log(uow, by, "account.open", row.id, None, {"clientId": client_id, **after})
        return state_of(row, account), []
