"""Authorisation matrix: every root operation x every kind of caller, against a declared expectation table.

The operations are read from the schema, so an operation added without an entry in EXPECTED fails
`test_every_operation_has_an_expectation`. Each call uses minimal, type-correct dummy arguments; a
call is "denied" when its field errors with UNAUTHENTICATED or FORBIDDEN, and "allowed" otherwise
(a business rejection in the payload, NOT_FOUND or BAD_USER_INPUT all mean the caller got past the
door). The test fails on any unexpected allow, and on any unexpected deny.

To add an operation: add a line to EXPECTED with who may call it (PUBLIC, ANY, SELF, CLIENT, OPERATOR
or op(Permission.X) for back-office operations, which follows brokerql.domain.identity.roles).
"""

from __future__ import annotations

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    Undefined,
)

from brokerql.domain.identity.roles import ROLE_PERMISSIONS, Permission, Role
from brokerql.domain.identity.tiers import (
    QUOTES_LEVEL2,
    TRADING_BASKETS,
    TRADING_ETF_ARBITRAGE,
    TRADING_FAST,
    TRADING_MARGIN,
    TRADING_PARKED,
    TierCode,
)
from brokerql.resolvers.tiers import guarded_fields
from brokerql.schema import build_schema
from brokerql.services.identity.demo import DEMO_API_CLIENT_ID, DEMO_API_CLIENT_SECRET
from tests.api.conftest import GraphQLClient

TIER_USERS = {"TRIAL": "trial001", "STANDARD": "std001", "SILVER": "silver001", "GOLD": "gold001",
              "PLATINUM": "plat001", "DIAMOND": "vip001"}  # fmt: skip
OPERATOR_USERS = {"ADMIN": "admin", "EDITOR": "editor", "REVIEWER": "reviewer", "RISK": "risk", "OPS": "ops",
                  "BRANCH_MANAGER": "branch"}  # fmt: skip
CLIENTS = frozenset(f"client:{t}" for t in TIER_USERS)
OPERATORS = frozenset(f"operator:{r}" for r in OPERATOR_USERS)
PARTNER = frozenset({"partner", "partner:bare"})  # the demo partner with all its scopes; one with tiers.read only
QUOTES_PARTNER = frozenset({"partner"})  # a partner token holding quotes.read (F1)
PUBLIC = CLIENTS | OPERATORS | PARTNER | {"anonymous"}
ANY = CLIENTS | OPERATORS | PARTNER  # any valid token
SELF = CLIENTS | OPERATORS  # people with passwords and second secrets
CLIENT = CLIENTS
FAST_CLIENTS = frozenset(f"client:{t}" for t in ("GOLD", "PLATINUM", "DIAMOND"))  # trading.fast in the demo
GOLD_UP = frozenset({"client:GOLD", "client:PLATINUM", "client:DIAMOND"})  # trading.margin, trading.etf_arbitrage
OPERATOR = OPERATORS
PARKED = frozenset(f"client:{t}" for t in ("SILVER", "GOLD", "PLATINUM", "DIAMOND"))  # trading.parked in the demo
BASKETS = frozenset(f"client:{t}" for t in ("SILVER", "GOLD", "PLATINUM", "DIAMOND"))  # trading.baskets in the demo


def op(permission: Permission) -> frozenset[str]:
    """Operators whose single demo role grants `permission` (admin holds every role)."""
    return frozenset(f"operator:{r.value}" for r in Role if permission in ROLE_PERMISSIONS[r])


P = Permission
EXPECTED: dict[str, frozenset[str]] = {
    # Query
    "Query.tiers": PUBLIC, "Query.entitlementCatalog": PUBLIC, "Query.dictionary": PUBLIC,
    "Query.bookableServices": PUBLIC, "Query.servers": PUBLIC,
    "Query.me": CLIENT, "Query.myLoginHistory": CLIENT, "Query.myLevelHistory": CLIENT,
    "Query.quote": CLIENT | QUOTES_PARTNER, "Query.bars": CLIENT | QUOTES_PARTNER,
    "Query.instruments": SELF | QUOTES_PARTNER, "Query.account": CLIENT,
    "Query.tradingDesk": FAST_CLIENTS, "Query.syncState": CLIENT, "Query.tradingPreferences": CLIENT,
    "Query.branches": OPERATOR, "Query.currentOperator": OPERATOR,
    "Query.clients": op(P.CLIENTS_READ), "Query.client": op(P.CLIENTS_READ),
    "Query.levelHistory": op(P.CLIENTS_READ), "Query.browsingRecords": op(P.CLIENTS_READ),
    "Query.operators": op(P.OPERATORS_MANAGE), "Query.operatorLog": op(P.LOGS_READ),
    "Query.clientLog": op(P.LOGS_READ), "Query.systemParameters": op(P.PARAMS_EDIT),
    "Query.apiClients": op(P.API_CLIENTS_MANAGE), "Query.gradingModel": op(P.GRADING_RUN),
    "Query.latestGradingRun": op(P.GRADING_RUN), "Query.gradingResults": op(P.GRADING_RUN),
    "Query.levelApplications": op(P.LEVELS_FORCE),
    "Query.monitorStats": op(P.MONITOR_READ), "Query.liveServers": PUBLIC, "Query.exchangeStatus": SELF,
    # Mutation
    "Mutation.login": PUBLIC, "Mutation.refreshSession": PUBLIC, "Mutation.operatorLogin": PUBLIC,
    "Mutation.requestCaptcha": PUBLIC, "Mutation.certificateChallenge": PUBLIC, "Mutation.certificateLogin": PUBLIC,
    "Mutation.requestSmsCode": PUBLIC, "Mutation.registerTrial": PUBLIC,
    "Mutation.logout": ANY,
    "Mutation.enrolTotp": SELF, "Mutation.confirmTotp": SELF, "Mutation.disableTotp": SELF,
    "Mutation.changePassword": SELF, "Mutation.setCommunicationPassword": SELF, "Mutation.unlockSession": SELF,
    "Mutation.registerCertificate": CLIENT, "Mutation.updateMyProfile": CLIENT, "Mutation.recordBrowsing": CLIENT,
    "Mutation.bookService": CLIENT, "Mutation.applyForLevel": CLIENT, "Mutation.placeOrder": CLIENT,
    "Mutation.cancelOrders": CLIENT, "Mutation.updatePreferences": CLIENT,
    "Mutation.updateClient": op(P.CLIENTS_WRITE), "Mutation.unlockClientLogin": op(P.CLIENTS_WRITE),
    "Mutation.revokeClientSessions": op(P.CLIENTS_WRITE), "Mutation.createOperator": op(P.OPERATORS_MANAGE),
    "Mutation.createClient": op(P.CLIENTS_WRITE), "Mutation.openAccount": op(P.CLIENTS_WRITE),
    "Mutation.setOperatorRoles": op(P.OPERATORS_MANAGE), "Mutation.setSystemParameter": op(P.PARAMS_EDIT),
    "Mutation.upsertDictionaryEntry": op(P.DICTIONARY_EDIT), "Mutation.upsertBookableService": op(P.SERVICES_MANAGE),
    "Mutation.upsertServer": op(P.SERVERS_MANAGE), "Mutation.createApiClient": op(P.API_CLIENTS_MANAGE),
    "Mutation.revokeApiClient": op(P.API_CLIENTS_MANAGE), "Mutation.editTier": op(P.TIERS_EDIT),
    "Mutation.setGradingModel": op(P.GRADING_EDIT), "Mutation.runGrading": op(P.GRADING_RUN),
    "Mutation.applyDueLevelChanges": op(P.GRADING_RUN), "Mutation.decideLevelApplication": op(P.LEVELS_FORCE),
    "Mutation.forceLevel": op(P.LEVELS_FORCE),
    "Query.myBoardEligibility": CLIENT, "Query.clientBoardEligibility": op(P.CLIENTS_READ),
    "Mutation.switchAccount": CLIENT, "Mutation.setBoardEligibility": op(P.CLIENTS_WRITE),
    "Mutation.liftForcedLevel": op(P.LEVELS_FORCE), "Mutation.importGradingDimensions": op(P.GRADING_EDIT),
    "Query.myBookings": CLIENT, "Query.serviceBookings": op(P.CLIENTS_READ),
    "Mutation.haltTrading": op(P.MONITOR_CONTROL), "Mutation.resumeTrading": op(P.MONITOR_CONTROL),
    "Mutation.pauseSimulator": op(P.MONITOR_CONTROL), "Mutation.resumeSimulator": op(P.MONITOR_CONTROL),
    "Mutation.drainProcess": op(P.MONITOR_CONTROL), "Mutation.forceCloseClient": op(P.MONITOR_CONTROL),
    "Mutation.setAlertRule": op(P.MONITOR_CONTROL), "Mutation.acknowledgeAlert": op(P.MONITOR_CONTROL),
    "Mutation.settleFutures": op(P.FUTURES_SETTLE),
    "Mutation.marginOrder": GOLD_UP, "Mutation.repayMargin": GOLD_UP, "Mutation.returnShares": GOLD_UP,
    "Mutation.createEtf": GOLD_UP, "Mutation.redeemEtf": GOLD_UP, "Mutation.runEtfArbitrage": GOLD_UP,
    "Query.etfArbitrageRun": GOLD_UP, "Mutation.tradeEtfBasket": GOLD_UP,
    # Subscription
    "Subscription.quotes": CLIENT | QUOTES_PARTNER, "Subscription.orderEvents": CLIENT,
    "Subscription.heartbeat": CLIENT, "Subscription.monitorStats": op(P.MONITOR_READ),
    # Information platform: clients and operators read; operators write (approval is decided per column)
    "Query.articles": SELF, "Query.article": SELF, "Query.articleColumns": PUBLIC, "Query.positionInfo": CLIENT,
    "Query.infoMines": SELF, "Query.f10": SELF, "Query.stockPool": SELF, "Query.editorialQueue": OPERATOR,
    "Query.articleHistory": OPERATOR, "Mutation.createArticle": op(P.ARTICLES_EDIT),
    "Mutation.reviseArticle": op(P.ARTICLES_EDIT), "Mutation.submitArticle": op(P.ARTICLES_EDIT),
    "Mutation.approveArticle": OPERATOR, "Mutation.rejectArticle": OPERATOR,
    "Mutation.publishArticle": op(P.ARTICLES_PUBLISH), "Mutation.withdrawArticle": op(P.ARTICLES_PUBLISH),
    "Mutation.importArticles": op(P.ARTICLES_PUBLISH), "Subscription.articlePublished": SELF,
    # Baskets (C4) from SILVER up; the order wizard and paired orders for any client (the placement rules decide)
    "Query.baskets": BASKETS, "Query.basketRun": BASKETS, "Query.basketRuns": BASKETS, "Mutation.createBasket": BASKETS,
    "Mutation.updateBasket": BASKETS, "Mutation.deleteBasket": BASKETS, "Mutation.submitBasket": BASKETS,
    "Mutation.cancelBasketRun": BASKETS, "Mutation.topUpBasketRun": BASKETS,
    "Query.previewOrder": CLIENT, "Mutation.placePairedOrder": CLIENT,
    # Parked orders (C5): clients whose tier grants trading.parked
    "Query.parkedOrders": PARKED, "Mutation.parkOrder": PARKED, "Mutation.cancelParkedOrder": PARKED,
}  # fmt: skip
SILENT_STREAM_SECONDS = 3.0
# Streams that stay silent until there is news: for them silence means "let in"; every other stream answers
# at once (data or a refusal), so it is awaited for as long as a loaded machine may need.
SILENT_STREAMS = {"Subscription.articlePublished"}
# Operations that end the caller's session run last, so they do not spoil the others.
LAST = ("Mutation.logout",)
# Fields guarded by a tier entitlement, with a query that reaches them.
ENTITLED_FIELDS = {
    "Quote.depth": (QUOTES_LEVEL2, '{ quote(symbol: "600000") { depth { bids { price } } } }'),
    "Quote.trades": (QUOTES_LEVEL2, '{ quote(symbol: "600000") { trades { __typename } } }'),
    "Query.tradingDesk": (TRADING_FAST, '{ tradingDesk(accountId: "x") { lastSeq } }'),
    "Mutation.marginOrder": (
        TRADING_MARGIN,
        'mutation { marginOrder(input: {accountId: "x", purpose: FINANCING_BUY, '
        'symbol: "600000", price: "13.52", quantity: 100}) { errors { code } } }',
    ),
    "Mutation.repayMargin": (
        TRADING_MARGIN,
        'mutation { repayMargin(input: {accountId: "x", amount: "1"}) { errors { code } } }',
    ),
    "Mutation.returnShares": (
        TRADING_MARGIN,
        'mutation { returnShares(input: {accountId: "x", symbol: "600000", quantity: 100}) { errors { code } } }',
    ),
    "Mutation.createEtf": (
        TRADING_ETF_ARBITRAGE,
        'mutation { createEtf(input: {accountId: "x", etf: "510300", units: 1}) { errors { code } } }',
    ),
    "Mutation.tradeEtfBasket": (
        TRADING_ETF_ARBITRAGE,
        'mutation { tradeEtfBasket(input: {accountId: "x", etf: "510300", units: 1, side: BUY}) { errors { code } } }',
    ),
    "Mutation.redeemEtf": (
        TRADING_ETF_ARBITRAGE,
        'mutation { redeemEtf(input: {accountId: "x", etf: "510300", units: 1}) { errors { code } } }',
    ),
    "Mutation.runEtfArbitrage": (
        TRADING_ETF_ARBITRAGE,
        'mutation { runEtfArbitrage(input: {accountId: "x", '
        'etf: "510300", units: 1, direction: "PREMIUM", estimateOnly: true}) '
        "{ errors { code } } }",
    ),
    "Query.etfArbitrageRun": (TRADING_ETF_ARBITRAGE, '{ etfArbitrageRun(id: "x") { id } }'),
    "Query.baskets": (TRADING_BASKETS, "{ baskets { id } }"),
    "Query.basketRun": (TRADING_BASKETS, '{ basketRun(id: "x") { id } }'),
    "Query.basketRuns": (TRADING_BASKETS, '{ basketRuns(accountId: "x") { edges { cursor } } }'),
    **{
        f"Mutation.{name}": (TRADING_BASKETS, f"mutation {{ {name}({args}) {{ errors {{ code }} }} }}")
        for name, args in (
            ("createBasket", 'input: {name: "", legs: []}'),
            ("updateBasket", 'id: "x", input: {name: "", legs: []}'),
            ("deleteBasket", 'id: "x"'),
            ("submitBasket", 'input: {basketId: "x", accountId: "x", side: BUY}'),
            ("cancelBasketRun", 'id: "x"'),
            ("topUpBasketRun", 'id: "x", priceLevel: ASK1'),
        )
    },
    "Query.parkedOrders": (TRADING_PARKED, '{ parkedOrders(accountId: "x") { id } }'),
    "Mutation.parkOrder": (
        TRADING_PARKED,
        'mutation { parkOrder(input: {order: {accountId: "x", symbol: "x", '
        "side: BUY, type: LIMIT, quantity: 1}, trigger: {}}) { errors { code } } }",
    ),
    "Mutation.cancelParkedOrder": (TRADING_PARKED, 'mutation { cancelParkedOrder(id: "x") { errors { code } } }'),
}
SCALARS = {"String": '"x"', "ID": '"x"', "Int": "1", "Float": "1.0", "Boolean": "false", "Decimal": '"1"',
           "DateTime": '"2026-01-01T00:00:00+00:00"', "Date": '"2000-01-01"', "Upload": '"x"'}  # fmt: skip


def literal(gql_type) -> str:  # type: ignore[no-untyped-def]
    if isinstance(gql_type, GraphQLNonNull):
        return literal(gql_type.of_type)
    if isinstance(gql_type, GraphQLList):
        return f"[{literal(gql_type.of_type)}]"
    if isinstance(gql_type, GraphQLEnumType):
        return next(iter(gql_type.values))
    if isinstance(gql_type, GraphQLInputObjectType):
        required = [
            f"{name}: {literal(f.type)}"
            for name, f in gql_type.fields.items()
            if isinstance(f.type, GraphQLNonNull) and f.default_value is Undefined
        ]
        return "{" + ", ".join(required) + "}"
    assert isinstance(gql_type, GraphQLScalarType)
    return SCALARS.get(gql_type.name, '"x"')


def operation(root: str, name: str, field) -> str:  # type: ignore[no-untyped-def]
    args = [
        f"{arg_name}: {literal(arg.type)}"
        for arg_name, arg in field.args.items()
        if isinstance(arg.type, GraphQLNonNull) and arg.default_value is Undefined
    ]
    call = f"{name}({', '.join(args)})" if args else name
    named = field.type
    while isinstance(named, GraphQLNonNull | GraphQLList):
        named = named.of_type
    selection = "" if isinstance(named, GraphQLScalarType | GraphQLEnumType) else " { __typename }"
    keyword = {"Query": "query", "Mutation": "mutation", "Subscription": "subscription"}[root]
    return f"{keyword} {{ {call}{selection} }}"


def all_operations() -> dict[str, str]:
    schema = build_schema()._schema
    out = {}
    for root in ("Query", "Mutation", "Subscription"):
        for name, field in schema.type_map[root].fields.items():
            out[f"{root}.{name}"] = operation(root, name, field)
    return out


def denied(errors: list[dict] | None) -> bool:
    return any(e.get("extensions", {}).get("code") in ("UNAUTHENTICATED", "FORBIDDEN") for e in errors or [])


def test_every_operation_has_an_expectation() -> None:
    operations = set(all_operations())
    assert operations - set(EXPECTED) == set(), "add these operations to EXPECTED"
    assert set(EXPECTED) - operations == set(), "these expectations name no operation"
    gated = set().union(*guarded_fields(build_schema()._schema, checked_in_code=False).values())
    assert gated <= set(ENTITLED_FIELDS), "add these entitlement-guarded fields to ENTITLED_FIELDS"


async def callers(client: GraphQLClient) -> dict[str, str | None]:
    tokens: dict[str, str | None] = {"anonymous": None}
    for tier, user in TIER_USERS.items():
        tokens[f"client:{tier}"] = await client.login(user)
    for role, user in OPERATOR_USERS.items():
        result = await client.execute(
            'mutation($u: String!) { operatorLogin(input: {username: $u, password: "Admin#2026"}) { accessToken } }',
            {"u": user},
        )
        tokens[f"operator:{role}"] = result["data"]["operatorLogin"]["accessToken"]
    response = await client.http.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(DEMO_API_CLIENT_ID, DEMO_API_CLIENT_SECRET)
    )
    tokens["partner"] = response.json()["access_token"]
    response = await client.http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "tiers.read"},
        auth=(DEMO_API_CLIENT_ID, DEMO_API_CLIENT_SECRET),
    )
    tokens["partner:bare"] = response.json()["access_token"]
    client.token = None
    return tokens


async def call(client: GraphQLClient, name: str, document: str, token: str | None) -> bool:
    """Whether the caller got past the door."""
    if name.startswith("Subscription."):
        async with client.subscribe(document, token=token) as stream:
            try:  # a refusal comes at once; a stream that waits silently for news (articlePublished) let us in
                message = await stream.next(timeout=SILENT_STREAM_SECONDS if name in SILENT_STREAMS else 30)
            except TimeoutError:
                return True
        payload = message.get("payload")
        errors = payload if message["type"] == "error" else (payload or {}).get("errors")
        return not denied(errors)
    response = await client.http.post(
        "/graphql", json={"query": document}, headers={"authorization": f"Bearer {token}"} if token else {}
    )
    return not denied(response.json().get("errors"))


async def test_authorisation_matrix(client: GraphQLClient) -> None:
    tokens = await callers(client)
    operations = all_operations()
    order = sorted(operations, key=lambda n: (n in LAST, n))
    unexpected_allows, unexpected_denies = [], []
    for name in order:
        for who, token in tokens.items():
            allowed = await call(client, name, operations[name], token)
            expected = who in EXPECTED[name]
            if allowed and not expected:
                unexpected_allows.append((name, who))
            elif expected and not allowed:
                unexpected_denies.append((name, who))
    assert unexpected_allows == []
    assert unexpected_denies == []


async def test_entitled_fields_by_tier(client: GraphQLClient) -> None:
    """Every entitlement-guarded field x every tier: allowed exactly where the catalog grants it."""
    catalog = client.container.catalog
    for field_name, (key, document) in ENTITLED_FIELDS.items():
        for tier, user in TIER_USERS.items():
            result = await client.execute(document, token=await client.login(user))
            expected = catalog.grants(TierCode(tier), key)
            assert denied(result.get("errors")) is not expected, (field_name, tier, result)
