"""Paths the first identity tests left out: operator TOTP and disableTotp, revoking an API client."""

from __future__ import annotations

from datetime import timedelta

import pyotp

from brokerql.services.identity.demo import DEMO_API_CLIENT_ID, DEMO_API_CLIENT_SECRET
from tests.api.conftest import GraphQLClient

OPERATOR_LOGIN = """mutation($o: String) { operatorLogin(input: {username: "ops", password: "Admin#2026", otp: $o}) {
  accessToken errors { code } } }"""


async def operator_login(client: GraphQLClient, otp: str | None = None) -> dict:
    return (await client.execute(OPERATOR_LOGIN, {"o": otp}))["data"]["operatorLogin"]


async def test_operator_totp_enrol_login_and_disable(client: GraphQLClient) -> None:
    clock = client.container.clock
    token = (await operator_login(client))["accessToken"]
    enrol = await client.execute("mutation { enrolTotp { secret errors { code } } }", token=token)
    totp = pyotp.TOTP(enrol["data"]["enrolTotp"]["secret"])
    confirm = "mutation($c: String!) { confirmTotp(code: $c) { ok errors { code } } }"
    assert (await client.execute(confirm, {"c": totp.at(clock.now())}, token=token))["data"]["confirmTotp"]["ok"]
    assert (await operator_login(client))["errors"] == [{"code": "OTP_REQUIRED"}]
    clock.advance(timedelta(seconds=30))
    assert (await operator_login(client, "000000" if totp.at(clock.now()) != "000000" else "111111"))["errors"] == [
        {"code": "OTP_INVALID"}
    ]
    with_otp = await operator_login(client, totp.at(clock.now()))
    assert with_otp["errors"] == [] and with_otp["accessToken"]
    disable = "mutation($c: String!) { disableTotp(code: $c) { ok errors { code } } }"
    used = await client.execute(disable, {"c": totp.at(clock.now())}, token=with_otp["accessToken"])
    assert used["data"]["disableTotp"]["errors"] == [{"code": "OTP_INVALID"}]  # that code was spent on login
    clock.advance(timedelta(seconds=30))
    off = await client.execute(disable, {"c": totp.at(clock.now())}, token=with_otp["accessToken"])
    assert off["data"]["disableTotp"] == {"ok": True, "errors": []}
    assert (await operator_login(client))["errors"] == []  # no dynamic password any more
    again = await client.execute(disable, {"c": totp.at(clock.now())}, token=with_otp["accessToken"])
    assert again["data"]["disableTotp"]["errors"] == [{"code": "TOTP_NOT_ENABLED"}]


async def test_revoking_an_api_client_ends_its_tokens(client: GraphQLClient) -> None:
    response = await client.http.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(DEMO_API_CLIENT_ID, DEMO_API_CLIENT_SECRET)
    )
    partner = response.json()["access_token"]
    assert (await client.execute("{ instruments(first: 1) { totalCount } }", token=partner))["data"]["instruments"]
    admin = await client.execute(
        'mutation { operatorLogin(input: {username: "admin", password: "Admin#2026"}) { accessToken } }'
    )
    revoked = await client.execute(
        "mutation($c: String!) { revokeApiClient(clientId: $c) { ok errors { code } } }",
        {"c": DEMO_API_CLIENT_ID},
        token=admin["data"]["operatorLogin"]["accessToken"],
    )
    assert revoked["data"]["revokeApiClient"] == {"ok": True, "errors": []}
    after = await client.execute("{ instruments(first: 1) { totalCount } }", token=partner)
    assert after["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    refused = await client.http.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(DEMO_API_CLIENT_ID, DEMO_API_CLIENT_SECRET)
    )
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
