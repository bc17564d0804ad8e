"""F1 partner scopes: quotes.read is Level-1 real-time (quote, bars, instruments, the quotes stream);
quotes.level2 adds depth and trades; without the scope the partner gets FORBIDDEN with `scope`."""

from __future__ import annotations

from brokerql.services.identity.demo import DEMO_API_CLIENT_ID, DEMO_API_CLIENT_SECRET
from tests.api.conftest import GraphQLClient

QUOTE = '{ quote(symbol: "00700") { symbol last delayed depth { bids { price } } } }'


async def partner_token(client: GraphQLClient, client_id: str, secret: str, scope: str | None = None) -> str:
    data = {"grant_type": "client_credentials", **({"scope": scope} if scope else {})}
    response = await client.http.post("/oauth/token", data=data, auth=(client_id, secret))
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


async def test_quotes_read_is_level1_real_time_and_level2_needs_its_scope(client: GraphQLClient) -> None:
    token = await partner_token(client, DEMO_API_CLIENT_ID, DEMO_API_CLIENT_SECRET)  # quotes.read, no level2
    result = await client.execute(QUOTE, token=token)
    assert result["data"] is None or result["data"]["quote"] is None or result["data"]["quote"]["depth"] is None
    quote = (await client.execute('{ quote(symbol: "00700") { symbol last delayed } }', token=token))["data"]
    assert quote["quote"]["symbol"] == "00700" and quote["quote"]["delayed"] is False  # HK real-time
    error = result["errors"][0]
    assert error["path"][-1] == "depth"
    assert error["extensions"] == {"code": "FORBIDDEN", "scope": "quotes.level2"}
    bars = await client.execute(
        '{ bars(symbol: "600000", interval: MINUTE, first: 5) { symbol delayed } }', token=token
    )
    assert bars["data"]["bars"] == {"symbol": "600000", "delayed": False}
    instruments = await client.execute("{ instruments(first: 2) { totalCount } }", token=token)
    assert instruments["data"]["instruments"]["totalCount"] > 2
    async with client.subscribe('subscription { quotes(symbols: ["600000"]) { symbol } }', token=token) as stream:
        assert (await stream.next_data())["data"]["quotes"]["symbol"] == "600000"


async def test_a_partner_with_quotes_level2_sees_depth(client: GraphQLClient) -> None:
    op = await client.execute(
        'mutation { operatorLogin(input: {username: "admin", password: "Admin#2026"}) { accessToken } }'
    )
    created = await client.execute(
        'mutation { createApiClient(name: "depth vendor", scopes: ["quotes.read", "quotes.level2"]) '
        "{ apiClient { clientId } clientSecret errors { code } } }",
        token=op["data"]["operatorLogin"]["accessToken"],
    )
    payload = created["data"]["createApiClient"]
    assert payload["errors"] == [], created
    token = await partner_token(client, payload["apiClient"]["clientId"], payload["clientSecret"])
    result = await client.execute('{ quote(symbol: "600000") { depth { bids { price } } } }', token=token)
    assert "errors" not in result and result["data"]["quote"]["depth"]["bids"]


async def test_without_quotes_read_a_partner_is_forbidden(client: GraphQLClient) -> None:
    token = await partner_token(client, DEMO_API_CLIENT_ID, DEMO_API_CLIENT_SECRET, scope="tiers.read")
    for query in (QUOTE, "{ instruments { totalCount } }"):
        result = await client.execute(query, token=token)
        assert result["errors"][0]["extensions"] == {"code": "FORBIDDEN", "scope": "quotes.read"}, result
    async with client.subscribe('subscription { quotes(symbols: ["600000"]) { symbol } }', token=token) as stream:
        message = await stream.next()
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert errors[0]["extensions"]["code"] == "FORBIDDEN"
