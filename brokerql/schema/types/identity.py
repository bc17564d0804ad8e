"""Inputs and payloads of the login methods (A6), sessions, second secrets and trial registration."""

from __future__ import annotations

from datetime import datetime

import strawberry

from brokerql.schema.errors import UserError
from brokerql.schema.inputs import AccountType
from brokerql.schema.types.client import Client
from brokerql.store.tables import OperatorRow


@strawberry.type(description="The result of a mutation that only succeeds or fails.")
class ResultPayload:
    ok: bool = strawberry.field(description="True when the change was made.")
    errors: list[UserError] = strawberry.field(description="Why it was refused, if it was.")


@strawberry.type(description="An image captcha to answer in the next login (captchaId + captchaAnswer).")
class Captcha:
    id: strawberry.ID = strawberry.field(description="Pass as captchaId; each captcha can be answered once.")
    image_png_base64: str = strawberry.field(description="The PNG image, base64-encoded.")
    expires_at: datetime = strawberry.field(description="After this the captcha is refused.")


@strawberry.type(description="A certificate-login challenge: sign `brokerql-login-v1:` + nonce with your key.")
class CertificateChallenge:
    challenge_id: strawberry.ID = strawberry.field(description="Pass to certificateLogin; single use.")
    nonce: str = strawberry.field(description="Random base64url text to sign (prefixed, see docs/api.md).")
    expires_at: datetime = strawberry.field(description="The signature must arrive before this.")


@strawberry.input(description="A signed certificate challenge (USB-Key login).")
class CertificateLoginInput:
    challenge_id: strawberry.ID = strawberry.field(description="From certificateChallenge.")
    signature: str = strawberry.field(description="Base64 signature: Ed25519 raw, or ECDSA P-256 DER or r||s.")
    account_type: AccountType | None = strawberry.field(default=None, description="The account this session trades.")


@strawberry.type(description="Result of registerCertificate.")
class CertificatePayload:
    certificate_id: strawberry.ID | None = strawberry.field(description="The registered key's id.")
    errors: list[UserError] = strawberry.field(description="BAD_CERTIFICATE when the key is not usable.")


@strawberry.type(description="TOTP enrolment: show the URI as a QR code, then confirm with a code (confirmTotp).")
class TotpEnrolmentPayload:
    secret: str | None = strawberry.field(description="Base32 secret, for manual entry.")
    provisioning_uri: str | None = strawberry.field(description="otpauth:// URI for authenticator apps.")
    errors: list[UserError] = strawberry.field(description="Why enrolment was refused, if it was.")


@strawberry.input(description="Trial registration (A6): a mainland mobile number verified by an SMS code.")
class RegisterTrialInput:
    phone: str = strawberry.field(description="Mobile number; it becomes the login name.")
    sms_code: str = strawberry.field(description="The code from requestSmsCode.")
    password: str = strawberry.field(description="New password (8+ characters, 3 character classes).")
    name: str = strawberry.field(default="", description="Display name.")


@strawberry.input(description="Operator credentials.")
class OperatorLoginInput:
    username: str = strawberry.field(description="Operator login name.")
    password: str = strawberry.field(description="Password.")
    otp: str | None = strawberry.field(default=None, description="Dynamic password, when enrolled.")
    captcha_id: str | None = strawberry.field(default=None, description="Captcha being answered, when required.")
    captcha_answer: str | None = strawberry.field(default=None, description="The captcha's text.")


@strawberry.type(description="A member of staff (操作员) and their roles.")
class Operator:
    id: strawberry.ID = strawberry.field(description="Opaque operator id.")
    username: str = strawberry.field(description="Login name.")
    name: str = strawberry.field(description="Full name.")
    roles: list[str] = strawberry.field(description="ADMIN, EDITOR, REVIEWER, RISK, OPS, BRANCH_MANAGER.")

    @classmethod
    def from_row(cls, row: OperatorRow) -> Operator:
        return cls(id=strawberry.ID(row.id), username=row.username, name=row.name, roles=list(row.roles))


@strawberry.type(description="Result of operatorLogin: tokens for the back office on success.")
class OperatorLoginPayload:
    access_token: str | None = strawberry.field(description="Bearer token (principal kind operator).")
    refresh_token: str | None = strawberry.field(description="Single-use token for refreshSession.")
    expires_in: int = strawberry.field(description="Seconds until the access token expires.")
    operator: Operator | None = strawberry.field(description="Who logged in.")
    errors: list[UserError] = strawberry.field(description="Why the login was refused, if it was.")


@strawberry.input(description="Your own profile changes: contact details and channels only.")
class UpdateMyProfileInput:
    phone: str | None = strawberry.field(default=None, description="Mobile phone.")
    email: str | None = strawberry.field(default=None, description="E-mail address.")
    address: str | None = strawberry.field(default=None, description="Postal address.")
    channels: list[str] | None = strawberry.field(default=None, description="Preferred channels.")


@strawberry.type(description="Result of a profile change.")
class ClientPayload:
    client: Client | None = strawberry.field(description="The client after the change.")
    errors: list[UserError] = strawberry.field(description="Why the change was refused, if it was.")


@strawberry.type(description="An entry of the client log: logins, failures, locks, unlocks.")
class ClientLogEntry:
    id: strawberry.ID = strawberry.field(description="Opaque id.")
    client_id: strawberry.ID | None = strawberry.field(description="The client (null for unknown login names).")
    username: str = strawberry.field(description="The login name used.")
    event: str = strawberry.field(description="LOGIN_OK, LOGIN_FAILED, LOGIN_LOCKED, UNLOCKED, LOGOUT, ...")
    detail: str = strawberry.field(description="Method or other detail.")
    at: datetime = strawberry.field(description="When.")

    @classmethod
    def from_row(cls, r) -> ClientLogEntry:  # type: ignore[no-untyped-def]
        return cls(
            id=strawberry.ID(r.id), client_id=strawberry.ID(r.client_id) if r.client_id else None,
            username=r.username, event=r.event, detail=r.detail, at=r.at,
        )  # fmt: skip


@strawberry.type(description="An entitlement key, what it unlocks and the lowest tier that grants it.")
class EntitlementInfo:
    key: str = strawberry.field(description="Entitlement key, e.g. quotes.level2.")
    lowest_tier: str | None = strawberry.field(description="Lowest tier granting it (null: no tier does).")
    tiers: list[str] = strawberry.field(description="Every tier that grants it.")
    fields: list[str] = strawberry.field(description="Schema fields guarded by it, as Type.field.")
