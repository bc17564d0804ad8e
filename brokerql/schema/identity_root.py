"""The identity part of the root types (A1-A6, F1): composed into Query and Mutation by inheritance."""

from __future__ import annotations

import strawberry

from brokerql.resolvers import identity as r
from brokerql.resolvers import tiers as t
from brokerql.schema.arguments import describe_arguments
from brokerql.schema.inputs import LoginPayload
from brokerql.schema.types.client import Tier
from brokerql.schema.types.identity import (
    Captcha,
    CertificateChallenge,
    CertificatePayload,
    ClientLogEntry,
    ClientPayload,
    EntitlementInfo,
    OperatorLoginPayload,
    ResultPayload,
    TotpEnrolmentPayload,
)
from brokerql.schema.types.paging import Connection


@strawberry.type(description="Identity reads.")
class IdentityQuery:
    tiers: list[Tier] = strawberry.field(
        resolver=t.tiers, description="Every tier and its entitlements, lowest first (public: for upgrade pages)."
    )
    entitlement_catalog: list[EntitlementInfo] = strawberry.field(
        resolver=t.entitlement_catalog,
        description="Every entitlement key, the tiers granting it and the schema fields it guards.",
    )
    my_login_history: Connection[ClientLogEntry] = strawberry.field(
        resolver=t.my_login_history, description="Your own client log: logins, failures, locks (newest first)."
    )


@strawberry.type(description="Identity writes.")
class IdentityMutation:
    logout: ResultPayload = strawberry.mutation(
        resolver=r.logout, description="End this session (and the one of refreshToken, if given) everywhere at once."
    )
    operator_login: OperatorLoginPayload = strawberry.mutation(
        resolver=r.operator_login, description="Log in to the back office as an operator."
    )
    request_captcha: Captcha = strawberry.mutation(
        resolver=r.request_captcha, description="A new image captcha, for logins after repeated failures."
    )
    certificate_challenge: CertificateChallenge = strawberry.mutation(
        resolver=r.certificate_challenge, description="Start a certificate (USB-Key) login: a challenge to sign."
    )
    certificate_login: LoginPayload = strawberry.mutation(
        resolver=r.certificate_login, description="Finish a certificate login with the signed challenge."
    )
    request_sms_code: ResultPayload = strawberry.mutation(
        resolver=r.request_sms_code, description="Send a verification code to a mainland mobile number (trial users)."
    )
    register_trial: LoginPayload = strawberry.mutation(
        resolver=r.register_trial, description="Register a trial user (TRIAL tier for a limited period) and log in."
    )
    enrol_totp: TotpEnrolmentPayload = strawberry.mutation(
        resolver=r.enrol_totp, description="Start enrolling a dynamic password (TOTP) authenticator."
    )
    confirm_totp: ResultPayload = strawberry.mutation(
        resolver=r.confirm_totp, description="Turn the dynamic password on with a first code."
    )
    disable_totp: ResultPayload = strawberry.mutation(
        resolver=r.disable_totp, description="Turn the dynamic password off (needs a current code)."
    )
    change_password: ResultPayload = strawberry.mutation(
        resolver=r.change_password, description="Change your login password."
    )
    set_communication_password: ResultPayload = strawberry.mutation(
        resolver=r.set_communication_password,
        description="Set the communication password (通讯密码) that unlocks idle-locked sessions.",
    )
    unlock_session: ResultPayload = strawberry.mutation(
        resolver=r.unlock_session, description="Unlock this idle-locked session with the communication password."
    )
    register_certificate: CertificatePayload = strawberry.mutation(
        resolver=r.register_certificate, description="Register a public key or certificate (Ed25519 or P-256)."
    )
    update_my_profile: ClientPayload = strawberry.mutation(
        resolver=r.update_my_profile, description="Change your contact details and channels."
    )
    record_browsing: ResultPayload = strawberry.mutation(
        resolver=r.record_browsing, description="Record that you viewed something (an article, column, screen)."
    )


describe_arguments(IdentityQuery, IdentityMutation)
