"""Login methods, sessions, second secrets, trial registration, and the client's own profile."""

from __future__ import annotations

import base64
from collections.abc import Awaitable
from typing import Annotated

import strawberry

from brokerql.api.guarded import attempt, set_operator_cookie
from brokerql.domain.common import Rejection
from brokerql.schema.errors import UserError, unauthenticated
from brokerql.schema.inputs import LoginInput, LoginPayload, RefreshSessionInput
from brokerql.schema.types.client import Client
from brokerql.schema.types.identity import (
    Captcha,
    CertificateChallenge,
    CertificateLoginInput,
    CertificatePayload,
    ClientPayload,
    Operator,
    OperatorLoginInput,
    OperatorLoginPayload,
    RegisterTrialInput,
    ResultPayload,
    TotpEnrolmentPayload,
    UpdateMyProfileInput,
)
from brokerql.services.auth import LoginOutcome
from brokerql.services.identity.clients import ProfileChanges


def _payload(outcome: LoginOutcome) -> LoginPayload:
    return LoginPayload(
        access_token=outcome.access_token,
        refresh_token=outcome.refresh_token,
        expires_in=outcome.expires_in,
        client=Client.from_row(outcome.client) if outcome.client and not outcome.errors else None,
        errors=[UserError.of(e) for e in outcome.errors],
    )


def _result(errors: list) -> ResultPayload:  # type: ignore[type-arg]
    return ResultPayload(ok=not errors, errors=[UserError.of(e) for e in errors])


def _refused(rejection: Rejection) -> LoginOutcome:
    return LoginOutcome(errors=[rejection])


def _identity(info: strawberry.Info):  # type: ignore[no-untyped-def]
    return info.context.container.identity


async def login(
    info: strawberry.Info, input: Annotated[LoginInput, strawberry.argument(description="Credentials.")]
) -> LoginPayload:
    account_type = input.account_type.value if input.account_type else None
    captcha = (input.captcha_id, input.captcha_answer)

    def check() -> Awaitable[LoginOutcome]:
        return info.context.container.auth.login(
            input.username,
            input.password,
            account_type,
            otp=input.otp,
            captcha_id=captcha[0],
            captcha_answer=captcha[1],
        )

    return _payload(await attempt(info.context, "login", input.username, check, _refused, captcha))


async def refresh_session(
    info: strawberry.Info,
    input: Annotated[RefreshSessionInput, strawberry.argument(description="The refresh token to spend.")],
) -> LoginPayload:
    return _payload(await info.context.container.auth.refresh_session(input.refresh_token))


async def logout(info: strawberry.Info, refresh_token: str | None = None) -> ResultPayload:
    principal = info.context.principal(allow_locked=True)
    if principal is None and not refresh_token:
        raise unauthenticated()
    await info.context.container.auth.logout(principal, refresh_token)
    return ResultPayload(ok=True, errors=[])


async def operator_login(info: strawberry.Info, input: OperatorLoginInput) -> OperatorLoginPayload:
    def check() -> Awaitable[LoginOutcome]:
        return info.context.container.auth.operator_login(
            input.username,
            input.password,
            otp=input.otp,
            captcha_id=input.captcha_id,
            captcha_answer=input.captcha_answer,
        )

    captcha = (input.captcha_id, input.captcha_answer)
    outcome = await attempt(info.context, "operatorLogin", input.username, check, _refused, captcha)
    set_operator_cookie(info.context, outcome.access_token, outcome.expires_in)  # the GraphiQL page in production
    return OperatorLoginPayload(
        access_token=outcome.access_token,
        refresh_token=outcome.refresh_token,
        expires_in=outcome.expires_in,
        operator=Operator.from_row(outcome.operator) if outcome.operator and not outcome.errors else None,
        errors=[UserError.of(e) for e in outcome.errors],
    )


async def request_captcha(info: strawberry.Info) -> Captcha:
    issue = _identity(info).captchas.issue
    captcha_id, png, expires_at = await attempt(info.context, "captcha", None, issue, _refused)
    return Captcha(id=strawberry.ID(captcha_id), image_png_base64=base64.b64encode(png).decode(), expires_at=expires_at)


async def certificate_challenge(info: strawberry.Info, username: str) -> CertificateChallenge:
    challenge_id, nonce, expires_at = await _identity(info).second_factors.challenge(username)
    return CertificateChallenge(challenge_id=strawberry.ID(challenge_id), nonce=nonce, expires_at=expires_at)


async def certificate_login(info: strawberry.Info, input: CertificateLoginInput) -> LoginPayload:
    account_type = input.account_type.value if input.account_type else None
    factors = _identity(info).second_factors
    outcome = await attempt(
        info.context,
        "certificateLogin",
        None,
        lambda: factors.certificate_login(str(input.challenge_id), input.signature, account_type),
        _refused,
    )
    return _payload(outcome)


async def request_sms_code(info: strawberry.Info, phone: str) -> ResultPayload:
    trial = _identity(info).trial
    return _result(await attempt(info.context, "smsCode", None, lambda: trial.request_code(phone), _refused))


async def register_trial(info: strawberry.Info, input: RegisterTrialInput) -> LoginPayload:
    trial = _identity(info).trial
    register = lambda: trial.register(input.phone, input.sms_code, input.password, input.name)  # noqa: E731
    return _payload(await attempt(info.context, "smsCodeCheck", None, register, _refused))


# -- a logged-in client or operator managing their own secrets -----------------------------------------
def _self(info: strawberry.Info, allow_locked: bool = False):  # type: ignore[no-untyped-def]
    principal = info.context.principal(allow_locked=allow_locked)
    if principal is None or principal.kind not in ("client", "operator"):
        raise unauthenticated()
    return principal


async def enrol_totp(info: strawberry.Info) -> TotpEnrolmentPayload:
    enrolment = await _identity(info).second_factors.enrol_totp(_self(info))
    return TotpEnrolmentPayload(secret=enrolment.secret, provisioning_uri=enrolment.uri, errors=[])


async def confirm_totp(info: strawberry.Info, code: str) -> ResultPayload:
    factors, principal = _identity(info).second_factors, _self(info)
    return _result(await attempt(info.context, "otp", None, lambda: factors.confirm_totp(principal, code), _refused))


async def disable_totp(info: strawberry.Info, code: str) -> ResultPayload:
    factors, principal = _identity(info).second_factors, _self(info)
    return _result(await attempt(info.context, "otp", None, lambda: factors.disable_totp(principal, code), _refused))


async def change_password(info: strawberry.Info, current_password: str, new_password: str) -> ResultPayload:
    return _result(await _identity(info).second_factors.change_password(_self(info), current_password, new_password))


async def set_communication_password(
    info: strawberry.Info, password: str, communication_password: str
) -> ResultPayload:
    factors = _identity(info).second_factors
    return _result(await factors.set_communication_password(_self(info), password, communication_password))


async def unlock_session(info: strawberry.Info, communication_password: str) -> ResultPayload:
    principal = _self(info, allow_locked=True)
    return _result(await _identity(info).second_factors.unlock_session(principal, communication_password))


async def register_certificate(info: strawberry.Info, public_key_pem: str, label: str = "") -> CertificatePayload:
    principal = info.context.require_client()
    cert_id, errors = await _identity(info).second_factors.register_certificate(principal, public_key_pem, label)
    return CertificatePayload(
        certificate_id=strawberry.ID(cert_id) if cert_id else None, errors=[UserError.of(e) for e in errors]
    )


async def me(info: strawberry.Info) -> Client:
    principal = info.context.require_client()
    row = await info.context.container.trading_queries.client(principal.subject_id)
    if row is None:
        raise unauthenticated("The client of this token no longer exists.")
    return Client.from_row(row)


async def update_my_profile(info: strawberry.Info, input: UpdateMyProfileInput) -> ClientPayload:
    principal = info.context.require_client()
    changes = ProfileChanges(phone=input.phone, email=input.email, address=input.address, channels=input.channels)
    row, errors = await _identity(info).clients.update(principal.subject_id, changes, operator_id=None)
    return ClientPayload(client=Client.from_row(row) if row else None, errors=[UserError.of(e) for e in errors])


async def record_browsing(info: strawberry.Info, kind: str, ref: str) -> ResultPayload:
    principal = info.context.require_client()
    await _identity(info).clients.record_browsing(principal.subject_id, kind, ref)
    return ResultPayload(ok=True, errors=[])
