"""A6 login paths over the API: password, unknown user, lockout, captcha, TOTP (and replay), account type,
operator login, trial registration by SMS, certificate (USB-Key) login."""

from __future__ import annotations

import base64
from datetime import timedelta

import pyotp
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.hashes import SHA256

from brokerql.domain.identity.certificates import challenge_message
from brokerql.services.identity.guard import Captchas
from tests.api.conftest import PASSWORD, GraphQLClient
from tests.fakes import RecordingSmsSender

LOGIN = """mutation($i: LoginInput!) { login(input: $i) {
  accessToken refreshToken expiresIn client { username tier { code } } errors { code message field } } }"""


async def login(client: GraphQLClient, **fields: object) -> dict:
    result = await client.execute(LOGIN, {"i": {"password": PASSWORD, **fields}})
    assert "errors" not in result, result
    return result["data"]["login"]


def codes(payload: dict) -> list[str]:
    return [e["code"] for e in payload["errors"]]


class KnownCaptchas(Captchas):
    """The real captcha service, remembering the answers it generated (a test seam, not a mock)."""

    answers: list[str]

    def generate(self) -> tuple[str, bytes]:
        answer, png = super().generate()
        self.answers = [*getattr(self, "answers", []), answer]
        return answer, png


def know_captchas(client: GraphQLClient) -> KnownCaptchas:
    identity = client.container.identity
    known = KnownCaptchas(identity.captchas.db, identity.clock)
    identity.captchas = identity.auth.captchas = known
    return known


async def test_password_login_and_account_type(client: GraphQLClient) -> None:
    ok = await login(client, username="vip001", accountType="FUTURES")
    assert ok["errors"] == [] and ok["client"]["tier"]["code"] == "DIAMOND"
    principal = client.container.access_tokens.verify(ok["accessToken"], now=client.container.clock.now())
    assert principal.account_type == "FUTURES" and principal.session_id
    missing = await login(client, username="std001", accountType="FUTURES")
    assert codes(missing) == ["NO_SUCH_ACCOUNT_TYPE"] and missing["accessToken"] is None


async def test_unknown_user_and_wrong_password_get_the_same_error(client: GraphQLClient) -> None:
    wrong = await login(client, username="std001", password="Wrong#2026")
    unknown = await login(client, username="nobody42", password="Wrong#2026")
    assert (
        wrong["errors"]
        == unknown["errors"]
        == [{"code": "INVALID_CREDENTIALS", "message": "Wrong username or password.", "field": "password"}]
    )


async def test_twelve_wrong_passwords_lock_std002(client: GraphQLClient) -> None:
    results = [await login(client, username="std002", password=f"Wrong#{n}") for n in range(12)]
    assert codes(results[0]) == ["INVALID_CREDENTIALS"]
    assert "CAPTCHA_REQUIRED" in codes(results[2])
    assert codes(results[-1]) == ["ACCOUNT_LOCKED"]
    # Locked means locked: the right password is refused too, without being checked.
    assert codes(await login(client, username="std002")) == ["ACCOUNT_LOCKED"]
    log = await client.execute("{ __typename }")
    assert log["data"]


async def test_lock_ends_and_the_next_one_is_longer(client: GraphQLClient) -> None:
    clock = client.container.clock
    for n in range(5):
        await login(client, username="std002", password=f"Wrong#{n}")
    assert codes(await login(client, username="std002")) == ["ACCOUNT_LOCKED"]
    clock.advance(timedelta(seconds=61))  # first lock: 60 s; a failure now locks again, for 120 s
    assert codes(await login(client, username="std002", password="Wrong#x")) == ["ACCOUNT_LOCKED"]
    clock.advance(timedelta(seconds=61))
    assert codes(await login(client, username="std002")) == ["ACCOUNT_LOCKED"]
    clock.advance(timedelta(seconds=60))
    known = know_captchas(client)  # after a lock the captcha stays on
    captcha = (await client.execute("mutation { requestCaptcha { id imagePngBase64 } }"))["data"]["requestCaptcha"]
    assert base64.b64decode(captcha["imagePngBase64"]).startswith(b"\x89PNG")
    ok = await login(client, username="std002", captchaId=captcha["id"], captchaAnswer=known.answers[-1])
    assert ok["errors"] == []


async def test_captcha_is_required_after_failures_and_single_use(client: GraphQLClient) -> None:
    known = know_captchas(client)
    for n in range(3):
        await login(client, username="std001", password=f"Wrong#{n}")
    assert codes(await login(client, username="std001")) == ["CAPTCHA_REQUIRED"]
    captcha = (await client.execute("mutation { requestCaptcha { id } }"))["data"]["requestCaptcha"]
    wrong = await login(client, username="std001", captchaId=captcha["id"], captchaAnswer="WRONG")
    assert codes(wrong) == ["ACCOUNT_LOCKED"]  # 5th counted attempt: the wrong answer counted too
    client.container.clock.advance(timedelta(minutes=2))
    captcha = (await client.execute("mutation { requestCaptcha { id } }"))["data"]["requestCaptcha"]
    right = {"captchaId": captcha["id"], "captchaAnswer": known.answers[-1].lower()}
    assert (await login(client, username="std001", **right))["errors"] == []
    again = await login(client, username="std001", **right)  # the same captcha, already spent: not needed now
    assert again["errors"] == []


async def test_totp_enrol_login_and_replay(client: GraphQLClient) -> None:
    clock = client.container.clock
    await client.login("gold001")
    enrol = await client.execute("mutation { enrolTotp { secret provisioningUri errors { code } } }")
    secret = enrol["data"]["enrolTotp"]["secret"]
    assert enrol["data"]["enrolTotp"]["provisioningUri"].startswith("otpauth://totp/")
    totp = pyotp.TOTP(secret)
    confirm = await client.execute(
        "mutation($c: String!) { confirmTotp(code: $c) { ok } }", {"c": totp.at(clock.now())}
    )
    assert confirm["data"]["confirmTotp"]["ok"]
    assert codes(await login(client, username="gold001")) == ["OTP_REQUIRED"]
    clock.advance(timedelta(seconds=30))
    code = totp.at(clock.now())
    assert (await login(client, username="gold001", otp=code))["errors"] == []
    assert codes(await login(client, username="gold001", otp=code)) == ["OTP_INVALID"]  # replay refused
    clock.advance(timedelta(seconds=30))
    previous_step = totp.at(clock.now() - timedelta(seconds=30))
    assert codes(await login(client, username="gold001", otp=previous_step)) == ["OTP_INVALID"]  # not older either
    assert (await login(client, username="gold001", otp=totp.at(clock.now() + timedelta(seconds=30))))["errors"] == []


async def test_operator_login_is_a_separate_principal(client: GraphQLClient) -> None:
    result = await client.execute(
        'mutation { operatorLogin(input: {username: "risk", password: "Admin#2026"}) '
        "{ accessToken operator { username roles } errors { code } } }"
    )
    payload = result["data"]["operatorLogin"]
    assert payload["errors"] == [] and payload["operator"] == {"username": "risk", "roles": ["RISK"]}
    me = await client.execute("{ me { id } }", token=payload["accessToken"])
    assert me["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    as_client = await login(client, username="risk", password="Admin#2026")
    assert codes(as_client) == ["INVALID_CREDENTIALS"]


async def test_trial_registration_by_sms(client: GraphQLClient) -> None:
    sender = RecordingSmsSender()
    client.container.identity.trial.sender = sender
    bad = await client.execute('mutation { requestSmsCode(phone: "12345") { ok errors { code } } }')
    assert bad["data"]["requestSmsCode"]["errors"] == [{"code": "BAD_PHONE"}]
    sent = await client.execute('mutation { requestSmsCode(phone: "+86 139-0000-1234") { ok } }')
    assert sent["data"]["requestSmsCode"]["ok"]
    again = await client.execute('mutation { requestSmsCode(phone: "13900001234") { errors { code } } }')
    assert again["data"]["requestSmsCode"]["errors"] == [{"code": "SMS_TOO_SOON"}]
    register = """mutation($c: String!) { registerTrial(input: {phone: "13900001234", smsCode: $c,
      password: "Trial#2026", name: "试用"}) { accessToken client { username tier { code } trialExpiresAt }
      errors { code } } }"""
    wrong = await client.execute(register, {"c": "000000" if sender.last_code("13900001234") != "000000" else "1"})
    assert wrong["data"]["registerTrial"]["errors"][0]["code"] == "SMS_CODE_INVALID"
    done = (await client.execute(register, {"c": sender.last_code("13900001234")}))["data"]["registerTrial"]
    assert done["errors"] == [] and done["client"]["tier"]["code"] == "TRIAL" and done["client"]["trialExpiresAt"]
    replay = await client.execute(register, {"c": sender.last_code("13900001234")})
    assert replay["data"]["registerTrial"]["errors"][0]["code"] == "SMS_CODE_USED"
    assert (await login(client, username="13900001234", password="Trial#2026"))["errors"] == []
    client.container.clock.advance(timedelta(days=15))
    assert codes(await login(client, username="13900001234", password="Trial#2026")) == ["TRIAL_EXPIRED"]


def _sign_ed25519(key: Ed25519PrivateKey, nonce: str) -> str:
    return base64.b64encode(key.sign(challenge_message(nonce))).decode()


def _sign_p256(key: ec.EllipticCurvePrivateKey, nonce: str) -> str:
    return base64.b64encode(key.sign(challenge_message(nonce), ec.ECDSA(SHA256()))).decode()


async def test_certificate_login_with_ed25519_and_p256(client: GraphQLClient) -> None:
    await client.login("plat001")
    challenge_q = 'mutation { certificateChallenge(username: "plat001") { challengeId nonce } }'
    cert_login = """mutation($i: CertificateLoginInput!) { certificateLogin(input: $i) {
      accessToken client { username } errors { code } } }"""
    for key, sign in (
        (Ed25519PrivateKey.generate(), _sign_ed25519),
        (ec.generate_private_key(ec.SECP256R1()), _sign_p256),
    ):
        pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        reg = await client.execute(
            'mutation($p: String!) { registerCertificate(publicKeyPem: $p, label: "usb") '
            "{ certificateId errors { code } } }",
            {"p": pem.decode()},
        )
        assert reg["data"]["registerCertificate"]["errors"] == []
        challenge = (await client.execute(challenge_q))["data"]["certificateChallenge"]
        signed = {"challengeId": challenge["challengeId"], "signature": sign(key, challenge["nonce"])}
        done = (await client.execute(cert_login, {"i": signed}))["data"]["certificateLogin"]
        assert done["errors"] == [] and done["client"] == {"username": "plat001"}
        spent = (await client.execute(cert_login, {"i": signed}))["data"]["certificateLogin"]
        assert spent["errors"] == [{"code": "BAD_CHALLENGE"}]
    stranger = Ed25519PrivateKey.generate()
    challenge = (await client.execute(challenge_q))["data"]["certificateChallenge"]
    forged = {"challengeId": challenge["challengeId"], "signature": _sign_ed25519(stranger, challenge["nonce"])}
    assert (await client.execute(cert_login, {"i": forged}))["data"]["certificateLogin"]["errors"] == [
        {"code": "INVALID_CREDENTIALS"}
    ]
