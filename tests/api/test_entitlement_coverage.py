"""Every entitlement key guards at least one field or operation, as entitlementCatalog lists them
(field permissions and the operations whose own rules check keys), and trading.fast means something."""

from __future__ import annotations

from brokerql.domain.identity.tiers import ALL_ENTITLEMENTS
from brokerql.resolvers.tiers import guarded_fields
from brokerql.schema import build_schema
from tests.api.conftest import GraphQLClient
from tests.api.trading_helpers import place


def test_every_entitlement_key_guards_a_field_or_an_operation() -> None:
    guarded = guarded_fields(build_schema()._schema)
    unguarded = {key for key in ALL_ENTITLEMENTS if not guarded.get(key)}
    assert unguarded == set(), f"these keys guard nothing: {unguarded}"
    assert set(guarded) <= ALL_ENTITLEMENTS, "a field names a key that no tier can hold"


async def test_the_catalog_lists_what_each_key_guards(client: GraphQLClient) -> None:
    catalog = (await client.execute("{ entitlementCatalog { key fields lowestTier } }"))["data"]["entitlementCatalog"]
    fields = {e["key"]: e["fields"] for e in catalog}
    assert fields["trading.fast"] == ["Mutation.placeOrder", "Mutation.updatePreferences", "Query.tradingDesk"]
    assert "Mutation.placeOrder" in fields["trading.basic"] and "Mutation.placeOrder" in fields["trading.margin"]
    assert "Query.quote" in fields["quotes.hk.delayed"] and "Article.body" in fields["research.premium"]


async def test_fast_trading_is_the_desk_flash_orders_and_hotkeys(client: GraphQLClient) -> None:
    await client.login("silver001")  # no trading.fast (GOLD and up)
    account = await client.account_id()
    desk = await client.execute("query($a: ID!) { tradingDesk(accountId: $a) { lastSeq } }", {"a": account})
    error = desk["errors"][0]["extensions"]
    assert (error["code"], error["entitlement"], error["requiredTier"]) == ("FORBIDDEN", "trading.fast", "GOLD")
    sync = await client.execute("query($a: ID!) { syncState(accountId: $a) { lastSeq } }", {"a": account})
    assert "errors" not in sync  # the same read in simple mode stays open to every trading client
    flash = await place(client, account, priceLevel="BID5")
    assert [(e["code"], e["field"]) for e in flash["errors"]] == [("NOT_ENTITLED", "priceLevel")]
    assert (await place(client, account, price="12.40"))["errors"] == []
    hotkeys = await client.execute(
        'mutation { updatePreferences(input: {hotkeys: [{chord: "F1", action: BUY}]}) { errors { code } } }'
    )
    assert hotkeys["data"]["updatePreferences"]["errors"] == [{"code": "NOT_ENTITLED"}]
    plain = await client.execute("mutation { updatePreferences(input: {confirmOnOrder: false}) { errors { code } } }")
    assert plain["data"]["updatePreferences"]["errors"] == []

    await client.login("gold001")
    account = await client.account_id()
    desk = await client.execute("query($a: ID!) { tradingDesk(accountId: $a) { lastSeq } }", {"a": account})
    assert "errors" not in desk
    assert (await place(client, account, priceLevel="BID5"))["errors"] == []
    hotkeys = await client.execute(
        'mutation { updatePreferences(input: {hotkeys: [{chord: "F1", action: BUY}]}) { errors { code } } }'
    )
    assert hotkeys["data"]["updatePreferences"]["errors"] == []
