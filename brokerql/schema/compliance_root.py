"""The compliance part of the root types: the session's account type and board eligibility."""

from __future__ import annotations

import strawberry

from brokerql.domain.entitlement_rules import ACCOUNT_SWITCH_KEYS
from brokerql.resolvers import compliance as c
from brokerql.schema.arguments import describe_arguments
from brokerql.schema.entitlements import checks_entitlements
from brokerql.schema.inputs import LoginPayload
from brokerql.schema.types.compliance import BoardEligibility
from brokerql.schema.types.identity import ResultPayload


@strawberry.type(description="Compliance reads.")
class ComplianceQuery:
    my_board_eligibility: list[BoardEligibility] = strawberry.field(
        resolver=c.my_board_eligibility, description="Your eligibility for STAR, ChiNext and Stock Connect buys."
    )
    client_board_eligibility: list[BoardEligibility] = strawberry.field(
        resolver=c.client_board_eligibility, description="Operators: a client's board eligibility (clients.read)."
    )


@strawberry.type(description="Compliance writes.")
class ComplianceMutation:
    switch_account: LoginPayload = strawberry.mutation(
        resolver=c.switch_account,
        description="Make this session act for another of your account types: a new access token for it "
        "(the refresh token is unchanged and keeps the new type). Orders on other types are refused.",
        directives=checks_entitlements(*ACCOUNT_SWITCH_KEYS),
    )
    set_board_eligibility: ResultPayload = strawberry.mutation(
        resolver=c.set_board_eligibility,
        description="Operators: grant or withdraw a client's STAR / ChiNext / Stock Connect eligibility, "
        "with the evidence as the reason; operator-logged (clients.write).",
    )


describe_arguments(ComplianceQuery, ComplianceMutation)
