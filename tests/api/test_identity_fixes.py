"""Issue #15 identity fixes served: a sticky forced level, grading from live data (fills), lock and
refusal events with the client id, bookings listed, stale guard rows of unknown names purged."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from brokerql.services.identity.guard import purge_stale_guards
from brokerql.store.tables_identity import LoginGuardRow
from tests.api.conftest import GraphQLClient
from tests.api.test_backoffice import as_operator, client_id
from tests.api.trading_helpers import place, sync_state, trading_client
from tests.reports import trade

RESULTS = "{ gradingResults(first: 100) { edges { node { clientId currentTier eligibleTier status } } } }"


async def result_of(client: GraphQLClient, cid: str) -> dict:  # type: ignore[type-arg]
    edges = (await client.execute(RESULTS))["data"]["gradingResults"]["edges"]
    return next(e["node"] for e in edges if e["node"]["clientId"] == cid)


async def test_a_forced_level_survives_grading_until_lifted_or_expired(client: GraphQLClient) -> None:
    await as_operator(client)
    std = await client_id(client, "std001")
    force = (
        'mutation($c: ID!, $e: DateTime) { forceLevel(clientId: $c, tier: "GOLD", reason: "campaign", '
        "expiresAt: $e) { ok errors { code } } }"
    )
    assert (await client.execute(force, {"c": std}))["data"]["forceLevel"]["ok"]
    await client.execute("mutation { runGrading { id } }")
    held = await result_of(client, std)
    assert held["status"] == "FORCED" and held["currentTier"] == "GOLD" and held["eligibleTier"] != "GOLD"
    client.container.clock.advance(days=40)  # past the 30-day grace period
    await as_operator(client)
    await client.execute("mutation { runGrading { id } }")
    assert "errors" not in await client.execute("mutation { applyDueLevelChanges }")
    assert (await result_of(client, std))["status"] == "FORCED"
    tier = await client.execute("query($c: ID!) { client(id: $c) { tier { code } } }", {"c": std})
    assert tier["data"]["client"]["tier"]["code"] == "GOLD"  # the due changes left it
    lifted = await client.execute(
        'mutation($c: ID!) { liftForcedLevel(clientId: $c, reason: "campaign over") { ok errors { code } } }',
        {"c": std},
    )
    assert lifted["data"]["liftForcedLevel"]["ok"]
    await client.execute("mutation { runGrading { id } }")
    assert (await result_of(client, std))["status"] == "PENDING_DOWNGRADE"
    # a stated expiry ends the hold by itself
    silver = await client_id(client, "silver001")
    expires = (client.container.clock.now() + timedelta(days=1)).isoformat()
    force_silver = force.replace('"GOLD"', '"PLATINUM"')
    assert (await client.execute(force_silver, {"c": silver, "e": expires}))["data"]["forceLevel"]["ok"]
    await client.execute("mutation { runGrading { id } }")
    assert (await result_of(client, silver))["status"] == "FORCED"
    client.container.clock.advance(days=2)
    await as_operator(client)
    await client.execute("mutation { runGrading { id } }")
    assert (await result_of(client, silver))["status"] == "PENDING_DOWNGRADE"


TURNOVER_MODEL = {
    "dimensions": [
        {
            "dimension": "TURNOVER",
            "weight": "1",
            "breakpoints": [{"raw": "0", "score": "0"}, {"raw": "1000000", "score": "100"}],
        }
    ],
    "thresholds": [{"tier": "STANDARD", "minScore": "0"}, {"tier": "SILVER", "minScore": "30"}],
}


async def test_turnover_from_fills_moves_a_client_in_grading(backend) -> None:  # type: ignore[no-untyped-def]
    async with trading_client(backend, with_exchange=False) as client:
        admin = await as_operator(client)
        saved = await client.execute(
            "mutation($m: GradingModelInput!) { setGradingModel(input: $m) { errors { code } } }", {"m": TURNOVER_MODEL}
        )
        assert saved["data"]["setGradingModel"]["errors"] == []
        std = await client_id(client, "std001")
        await client.execute("mutation { runGrading { id } }")
        assert (await result_of(client, std))["eligibleTier"] == "STANDARD"  # 200k imported turnover: 20 points
        await client.login("std001")
        account = await client.account_id()
        order = (await place(client, account, price="13.50", quantity=10_000))["order"]
        await client.container.trading.booking.book([trade(order["id"], "t1", Decimal("13.50"), 10_000)])
        client.token = admin
        await client.execute("mutation { runGrading { id } }")
        moved = await result_of(client, std)  # + 135,000 traded: 33.5 points
        assert (moved["eligibleTier"], moved["status"]) == ("SILVER", "ELIGIBLE_NOT_APPLIED")
        imported = await client.execute(
            'mutation($c: ID!) { importGradingDimensions(rows: [{clientId: $c, dimension: "TURNOVER", value: "0"}]) '
            "{ imported errors { code } } }",
            {"c": std},
        )
        assert imported["data"]["importGradingDimensions"] == {"imported": 1, "errors": []}
        await client.execute("mutation { runGrading { id } }")
        assert (await result_of(client, std))["eligibleTier"] == "STANDARD"  # fills alone: 13.5 points
        bad = await client.execute(
            'mutation($c: ID!) { importGradingDimensions(rows: [{clientId: $c, dimension: "ASSETS", value: "1"}]) '
            "{ imported errors { code } } }",
            {"c": std},
        )
        assert bad["data"]["importGradingDimensions"] == {"imported": 0, "errors": [{"code": "BAD_DIMENSION"}]}


async def test_an_hk_fill_is_booked_in_cny_at_the_reference_rate(backend) -> None:  # type: ignore[no-untyped-def]
    async with trading_client(backend, with_exchange=False) as client:
        await client.login("gold001")
        account = await client.account_id()
        before = await sync_state(client, account)
        order = (await place(client, account, symbol="00700", price="600.0"))["order"]
        await client.container.trading.booking.book([trade(order["id"], "h1", Decimal("600.0"), 100)])
        after = await sync_state(client, account)
        fill = next(f for f in after["todaysFills"] if f["quantity"] == 100)
        assert Decimal(fill["price"]) == Decimal("600.0")  # the trade's own price, in HKD
        paid = Decimal(before["funds"]["balance"]) - Decimal(after["funds"]["balance"])
        # 60,000 HKD at the buy reference rate 0.9476 = 56,856 CNY, plus the HK charges in CNY
        assert Decimal("56856") < paid < Decimal("57000") and Decimal(after["funds"]["frozen"]) == 0
        position = next(p for p in after["positions"] if p["symbol"] == "00700")
        assert position["sellableQuantity"] == 100  # T+0


async def test_refusals_and_locks_carry_the_client_id(client: GraphQLClient) -> None:
    login = 'mutation { login(input: {username: "std002", password: "wrong"}) { errors { code } } }'
    codes = [[e["code"] for e in (await client.execute(login))["data"]["login"]["errors"]] for _ in range(4)]
    assert "CAPTCHA_REQUIRED" in codes[-1]  # the guard refuses before any password check
    await as_operator(client)
    std2 = await client_id(client, "std002")
    log = await client.execute(
        "query($c: ID!) { clientLog(clientId: $c, first: 50) { edges { node { event } } } }", {"c": std2}
    )
    events = [e["node"]["event"] for e in log["data"]["clientLog"]["edges"]]
    assert "CAPTCHA_REQUIRED" in events and "LOGIN_FAILED" in events


async def test_bookings_are_listed_for_the_client_and_for_operators(client: GraphQLClient) -> None:
    await client.login("std001")
    booked = await client.execute('mutation { bookService(serviceCode: "IPO_REMINDER", note: "next week") { ok } }')
    assert booked["data"]["bookService"]["ok"]
    mine = await client.execute("{ myBookings { edges { node { serviceCode note status } } } }")
    assert mine["data"]["myBookings"]["edges"][0]["node"] == {
        "serviceCode": "IPO_REMINDER", "note": "next week", "status": "BOOKED"
    }  # fmt: skip
    await as_operator(client)
    std = await client_id(client, "std001")
    all_ = await client.execute('{ serviceBookings(serviceCode: "IPO_REMINDER") { edges { node { clientId } } } }')
    assert std in [e["node"]["clientId"] for e in all_["data"]["serviceBookings"]["edges"]]


async def test_stale_guard_rows_of_unknown_names_are_purged(client: GraphQLClient) -> None:
    for name in ("nobody-here", "std001"):
        await client.execute(
            f'mutation {{ login(input: {{username: "{name}", password: "x"}}) {{ errors {{ code }} }} }}'
        )
    db, clock = client.container.db, client.container.clock
    assert await purge_stale_guards(db, clock.now()) == 0  # fresh: kept
    assert await purge_stale_guards(db, clock.now() + timedelta(days=8)) == 1  # only the unknown name goes
    async with db.read() as session:
        assert await session.get(LoginGuardRow, ("client", "nobody-here")) is None
        assert await session.get(LoginGuardRow, ("client", "std001")) is not None


async def test_each_clients_assets_are_recorded_once_after_the_close(client: GraphQLClient) -> None:
    from datetime import UTC, datetime

    from sqlalchemy import func, select

    from brokerql.store.tables_identity import ClientDailyAssetsRow

    grading, clock = client.container.identity.grading, client.container.clock
    clock.current = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)  # a Wednesday, 14:00 in Shanghai: still open
    assert await grading.record_daily_assets() == 0
    clock.current = datetime(2026, 12, 2, 7, 30, tzinfo=UTC)  # 15:30: closed
    written = await grading.record_daily_assets()
    assert written >= 6 and await grading.record_daily_assets() == 0  # once a day
    async with client.container.db.read() as session:
        day = datetime(2026, 12, 2).date()
        count = await session.scalar(select(func.count()).where(ClientDailyAssetsRow.day == day))
    assert count == written
