"""Onboarding in the back office (A1): an operator creates a client, then opens its trading accounts.

This is how a production deployment gets its clients (demo data is refused there): `brokerql bootstrap`
creates the first operator, who creates clients (`createClient`) and opens their accounts
(`openAccount`, with an opening deposit: the cash the client paid in at the branch). Trial users come in
by themselves (`registerTrial`) and never have an account.

The rules, pure and testable without I/O:
- a login name is 3-64 characters: a letter, then letters, digits, `.`, `_` or `-`;
- operators create clients in the trading tiers (STANDARD and up); TRIAL is for self-registered users;
- one account of each type per client, only for an ACTIVE client, and only where its tier grants
  trading in that account type (a margin account needs `trading.margin`, like its orders do);
- the opening deposit is a CNY amount in cents, from 0 to 1,000,000,000,000.

Each change is recorded as a typed event (`ClientCreated`, `AccountOpened`, registered in the bus codec)
in the same transaction, next to the operator log entry.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from brokerql.domain.common import Rejection
from brokerql.domain.entitlement_rules import trading_entitlement
from brokerql.domain.identity.tiers import TierCode
from brokerql.domain.trading.account import AccountType

USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9._-]{2,63}$")
MAX_NAME_CHARS = 128
MAX_OPENING_DEPOSIT = Decimal("1000000000000")
CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientCreated:
    """An operator created a client (its login and tier; the password is never part of an event)."""

    client_id: str
    username: str
    name: str
    tier: str
    by_operator: str
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountOpened:
    """An operator opened a trading account for a client, funded with the opening deposit."""

    account_id: str
    client_id: str
    type: str
    currency: str
    opening_deposit: Decimal
    by_operator: str
    at: datetime


def check_new_client(username: str, name: str, tier: str) -> list[Rejection]:
    """Why a client cannot be created with these values ([] when it can; the password has its own policy)."""
    errors: list[Rejection] = []
    if not USERNAME.match(username):
        errors.append(
            Rejection(
                "BAD_USERNAME",
                "A login name is 3-64 characters: a letter, then letters, digits, '.', '_' or '-'.",
                "username",
            )
        )
    if not name.strip() or len(name) > MAX_NAME_CHARS:
        errors.append(Rejection("BAD_NAME", f"The name is 1-{MAX_NAME_CHARS} characters.", "name"))
    if tier not in TierCode.__members__ or tier == TierCode.TRIAL:
        errors.append(
            Rejection("TIER_NOT_ALLOWED", "Create clients in STANDARD or a higher tier; trial users register.", "tier")
        )
    return errors


def check_account_opening(
    account_type: str,
    client_status: str,
    grants: Callable[[str], bool],
    open_types: Collection[str],
    opening_deposit: Decimal,
) -> list[Rejection]:
    """Why this account cannot be opened for the client ([] when it can).

    `grants` answers for the client's tier; `open_types` are the types of the accounts it already has.
    """
    errors: list[Rejection] = []
    if account_type not in AccountType.__members__:
        return [Rejection("BAD_ACCOUNT_TYPE", "The type is CASH, MARGIN or FUTURES.", "type")]
    if client_status != "ACTIVE":
        errors.append(Rejection("CLIENT_NOT_ACTIVE", f"The client is {client_status}.", "clientId"))
    if account_type in open_types:
        errors.append(Rejection("ACCOUNT_EXISTS", f"The client already has a {account_type} account.", "type"))
    needed = trading_entitlement(account_type)
    if not grants(needed):
        errors.append(
            Rejection("TIER_NOT_ELIGIBLE", f"The client's tier does not grant {needed} for this account.", "type")
        )
    if not (opening_deposit.is_finite() and Decimal(0) <= opening_deposit <= MAX_OPENING_DEPOSIT):
        errors.append(
            Rejection("BAD_AMOUNT", f"The opening deposit is 0 to {MAX_OPENING_DEPOSIT:,} CNY.", "openingDeposit")
        )
    elif opening_deposit != opening_deposit.quantize(CENT):
        errors.append(Rejection("BAD_AMOUNT", "The opening deposit is an amount in whole cents.", "openingDeposit"))
    return errors
