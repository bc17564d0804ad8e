"""Inputs and payloads of back-office onboarding (A1): createClient and openAccount."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from brokerql.schema.errors import UserError
from brokerql.schema.inputs import AccountType
from brokerql.schema.types.client import Client
from brokerql.schema.types.trading import Account


@strawberry.input(description="A client created by an operator (trial users register themselves).")
class CreateClientInput:
    username: str = strawberry.field(
        description="Login name: 3-64 characters, a letter first, then letters, digits, '.', '_' or '-'."
    )
    name: str = strawberry.field(description="Full name (1-128 characters).")
    tier: str = strawberry.field(default="STANDARD", description="Tier code: STANDARD or higher.")
    password: str | None = strawberry.field(
        default=None,
        description="Initial password (the password policy applies). Omit it to have one generated and "
        "returned once in initialPassword.",
    )


@strawberry.type(description="Result of createClient.")
class CreateClientPayload:
    client: Client | None = strawberry.field(description="The new client.")
    initial_password: str | None = strawberry.field(
        description="The generated password when none was given: in this answer only, never stored in clear. "
        "Hand it to the client, who changes it with changePassword."
    )
    errors: list[UserError] = strawberry.field(description="Why the client was not created, if it was not.")


@strawberry.input(description="A trading account to open for a client: one of each type per client.")
class OpenAccountInput:
    client_id: strawberry.ID = strawberry.field(description="The client's id.")
    type: AccountType = strawberry.field(description="CASH, MARGIN (needs a tier granting margin) or FUTURES.")
    opening_deposit: Decimal = strawberry.field(
        default=Decimal(0),
        description="Cash the client paid in at opening: CNY in whole cents, 0 to 1,000,000,000,000.",
    )


@strawberry.type(description="Result of openAccount.")
class OpenAccountPayload:
    account: Account | None = strawberry.field(description="The new account, with its cash.")
    errors: list[UserError] = strawberry.field(description="Why the account was not opened, if it was not.")
