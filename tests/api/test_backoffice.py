"""Back office over the API: client list and profiles (A1), parameters, logs (A5), tiers (A4), grading and
the level workflow (A2, A3), and the served entitlement checks."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from brokerql.store.tables_identity import DomainEventRow
from tests.api.conftest import GraphQLClient


async def as_operator(client: GraphQLClient, username: str = "admin") -> str:
    result = await client.execute(
        'mutation($u: String!) { operatorLogin(input: {username: $u, password: "Admin#2026"}) { accessToken } }',
        {"u": username},
    )
    client.token = result["data"]["operatorLogin"]["accessToken"]
    return client.token


async def client_id(client: GraphQLClient, username: str) -> str:
    found = await client.execute(
        "query($s: String!) { clients(filter: {search: $s}) { edges { node { id username } } } }", {"s": username}
    )
    return next(e["node"]["id"] for e in found["data"]["clients"]["edges"] if e["node"]["username"] == username)


async def test_client_list_pages_and_filters(client: GraphQLClient) -> None:
    await as_operator(client, "risk")
    page_q = """query($a: String) { clients(first: 3, after: $a) {
      edges { cursor node { username tier { code } risk { riskLevel } branch { branch { code } manager { name } } } }
      pageInfo { hasNextPage endCursor } } }"""
    seen, after = [], None
    while True:
        page = (await client.execute(page_q, {"a": after}))["data"]["clients"]
        seen += [e["node"]["username"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert sorted(seen) == sorted(["std001", "std002", "silver001", "gold001", "plat001", "vip001", "trial001"])
    gold = await client.execute('{ clients(filter: {tier: "GOLD"}) { edges { node { username natural { email } } } } }')
    assert [e["node"]["username"] for e in gold["data"]["clients"]["edges"]] == ["gold001"]
    capped = await client.execute("{ clients(first: 500) { edges { cursor } } }")
    assert capped["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    denied = await client.execute('mutation { unlockClientLogin(clientId: "x") { ok } }')  # risk cannot write
    assert denied["errors"][0]["extensions"] == {"code": "FORBIDDEN", "permission": "clients.write"}


async def test_profiles_self_service_and_operator_edits_are_logged(client: GraphQLClient) -> None:
    await client.login("std001")
    mine = await client.execute(
        'mutation { updateMyProfile(input: {email: "new@example.com", channels: ["APP"]}) '
        "{ client { natural { email } service { channels } } errors { code } } }"
    )
    assert mine["data"]["updateMyProfile"]["client"]["natural"]["email"] == "new@example.com"
    await as_operator(client)
    cid = await client_id(client, "std001")
    changed = await client.execute(
        'mutation($c: ID!) { updateClient(clientId: $c, input: {riskLevel: "C4", advisor: "王顾问"}) '
        "{ client { risk { riskLevel } service { advisor } } errors { code } } }",
        {"c": cid},
    )
    assert changed["data"]["updateClient"]["client"] == {"risk": {"riskLevel": "C4"}, "service": {"advisor": "王顾问"}}
    bad = await client.execute(
        'mutation($c: ID!) { updateClient(clientId: $c, input: {riskLevel: "C9"}) { errors { code } } }', {"c": cid}
    )
    assert bad["data"]["updateClient"]["errors"] == [{"code": "BAD_RISK_LEVEL"}]
    log = await client.execute('{ operatorLog(action: "client.update") { edges { node { target before after } } } }')
    entry = log["data"]["operatorLog"]["edges"][0]["node"]
    assert entry["target"] == cid and '"risk_level": "C3"' in entry["before"] and '"C4"' in entry["after"]


async def test_parameters_change_the_login_policy_at_run_time(client: GraphQLClient) -> None:
    await as_operator(client)
    result = await client.execute(
        'mutation { setSystemParameter(key: "login.lock_after", value: "2") { errors { code } } }'
    )
    assert result["data"]["setSystemParameter"]["errors"] == []
    bad = await client.execute(
        'mutation { setSystemParameter(key: "login.lock_after", value: "-1") { errors { code } } }'
    )
    assert bad["data"]["setSystemParameter"]["errors"] == [{"code": "BAD_PARAMETER"}]
    login = 'mutation { login(input: {username: "silver001", password: "nope"}) { errors { code } } }'
    client.token = None
    assert (await client.execute(login))["data"]["login"]["errors"][0]["code"] == "INVALID_CREDENTIALS"
    assert (await client.execute(login))["data"]["login"]["errors"][0]["code"] == "ACCOUNT_LOCKED"
    await as_operator(client)
    logged = await client.execute('{ clientLog(event: "LOGIN_LOCKED") { edges { node { username } } } }')
    assert [e["node"]["username"] for e in logged["data"]["clientLog"]["edges"]] == ["silver001"]
    cid = await client_id(client, "silver001")
    unlock = await client.execute("mutation($c: ID!) { unlockClientLogin(clientId: $c) { ok } }", {"c": cid})
    assert unlock["data"]["unlockClientLogin"]["ok"]


async def test_tier_edit_changes_entitlements_at_once_and_is_an_event(client: GraphQLClient) -> None:
    await client.login("silver001")
    depth = '{ quote(symbol: "600000") { last depth { bids { price } } } }'
    before = await client.execute(depth)
    assert before["errors"][0]["extensions"]["requiredTier"] == "GOLD"
    silver_token = client.token
    await as_operator(client)
    edit = await client.execute(
        'mutation { editTier(input: {code: "SILVER", grant: ["quotes.level2"]}) { entitlements } }'
    )
    assert "quotes.level2" in edit["data"]["editTier"]["entitlements"]
    after = await client.execute(depth, token=silver_token)
    assert "errors" not in after and after["data"]["quote"]["depth"]["bids"]
    catalog = await client.execute("{ entitlementCatalog { key lowestTier fields } }")
    level2 = next(e for e in catalog["data"]["entitlementCatalog"] if e["key"] == "quotes.level2")
    assert level2["lowestTier"] == "SILVER" and "Quote.depth" in level2["fields"]
    async with client.container.db.read() as session:
        kinds = (await session.scalars(select(DomainEventRow.kind))).all()
    assert "TierCatalogEdited" in kinds


async def test_grading_run_explains_scores_and_drives_the_level_workflow(client: GraphQLClient) -> None:
    await as_operator(client)
    run = await client.execute("mutation { runGrading { id clients } }")
    assert run["data"]["runGrading"]["clients"] == 7
    results = await client.execute(
        "{ gradingResults(first: 100) { edges { node { clientId currentTier eligibleTier score status "
        "contributions { dimension contribution } } } } }"
    )
    nodes = [e["node"] for e in results["data"]["gradingResults"]["edges"]]
    for node in nodes:  # the explanation adds up to the score
        assert sum(Decimal(c["contribution"]) for c in node["contributions"]) == Decimal(node["score"])
    std = await client_id(client, "std001")
    std_result = next(n for n in nodes if n["clientId"] == std)
    assert std_result["status"] in ("ELIGIBLE_NOT_APPLIED", "UP_TO_DATE", "PENDING_DOWNGRADE")
    forced = await client.execute(
        'mutation($c: ID!) { forceLevel(clientId: $c, tier: "GOLD", reason: "VIP campaign") { ok errors { code } } }',
        {"c": std},
    )
    assert forced["data"]["forceLevel"]["ok"]
    no_reason = await client.execute(
        'mutation($c: ID!) { forceLevel(clientId: $c, tier: "SILVER", reason: " ") { errors { code } } }', {"c": std}
    )
    assert no_reason["data"]["forceLevel"]["errors"] == [{"code": "REASON_REQUIRED"}]
    history = await client.execute(
        "query($c: ID!) { levelHistory(clientId: $c) { edges { node { fromTier toTier reason note } } } }", {"c": std}
    )
    assert history["data"]["levelHistory"]["edges"][0]["node"] == {
        "fromTier": "STANDARD", "toTier": "GOLD", "reason": "FORCED", "note": "VIP campaign"
    }  # fmt: skip
    admin_token = client.token
    await client.login("std001")  # the new tier applies to the client at once
    assert (await client.execute("{ me { tier { code } } }"))["data"]["me"]["tier"]["code"] == "GOLD"
    applied = await client.execute(
        'mutation { applyForLevel(tier: "PLATINUM") { application { id } errors { code } } }'
    )
    application = applied["data"]["applyForLevel"]["application"]["id"]
    await client.execute('mutation { recordBrowsing(kind: "ARTICLE", ref: "research/123") { ok } }')
    client.token = admin_token
    decide = await client.execute(
        "mutation($a: ID!) { decideLevelApplication(applicationId: $a, approve: true) { ok errors { code } } }",
        {"a": application},
    )
    # std001's score earns less than PLATINUM: the approval is refused by the domain rule.
    assert decide["data"]["decideLevelApplication"]["errors"] == [{"code": "NOT_ELIGIBLE"}]
    browsing = await client.execute(
        "query($c: ID!) { browsingRecords(clientId: $c) { edges { node { kind ref } } } }", {"c": std}
    )
    assert browsing["data"]["browsingRecords"]["edges"][0]["node"] == {"kind": "ARTICLE", "ref": "research/123"}


async def test_served_entitlements_depth_and_hk_delay(client: GraphQLClient) -> None:
    await client.login("std001")
    std = await client.execute('{ quote(symbol: "600000") { last depth { bids { price } } } }')
    assert std["data"]["quote"] is not None and std["data"]["quote"]["last"]  # Level-1 still resolves
    error = std["errors"][0]
    assert error["path"] == ["quote", "depth"]
    assert error["extensions"] == {"code": "FORBIDDEN", "entitlement": "quotes.level2", "requiredTier": "GOLD"}
    hk_std = await client.execute('{ quote(symbol: "00700") { delayed } }')
    assert hk_std["data"]["quote"]["delayed"] is True
    await client.login("gold001")
    gold = await client.execute('{ quote(symbol: "600000") { last depth { bids { price } } } }')
    assert "errors" not in gold and gold["data"]["quote"]["depth"]["bids"]
    await client.login("vip001")
    assert (await client.execute('{ quote(symbol: "00700") { delayed } }'))["data"]["quote"]["delayed"] is False
    tiers = await client.execute("{ tiers { code entitlements } }")
    assert [t["code"] for t in tiers["data"]["tiers"]] == ["TRIAL", "STANDARD", "SILVER", "GOLD", "PLATINUM", "DIAMOND"]
