"""Onboarding in the back office (A1): production tried end to end by one documented path (bootstrap an
operator, create a client, open its account, the client logs in and trades), and the rules, audit trail
and typed events of createClient and openAccount."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select

from brokerql.bus import codec
from brokerql.cli_admin import bootstrap
from brokerql.container import Container
from brokerql.domain.identity.onboarding import AccountOpened, ClientCreated
from brokerql.store.migrate import upgrade_async
from brokerql.store.tables_identity import DomainEventRow
from tests.api.conftest import GraphQLClient, serve_in_process, wait_for
from tests.api.test_security_production import production

ASSESS = """mutation($c: ID!) { updateClient(clientId: $c, input: {riskLevel: "C3"}) { errors { code } } }"""
CREATE = """mutation($i: CreateClientInput!) { createClient(input: $i) {
  client { id username name tier { code } } initialPassword errors { code field } } }"""
OPEN = """mutation($i: OpenAccountInput!) { openAccount(input: $i) {
  account { id type currency cash { balance available } } errors { code field } } }"""
PLACE = """mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { order { id status } errors { code } } }"""
SYNC = "query($a: ID!) { syncState(accountId: $a) { positions { symbol quantity } todaysFills { quantity } } }"


async def operator_token(client: GraphQLClient, username: str, password: str = "Admin#2026") -> str:
    result = await client.execute(
        "mutation($u: String!, $p: String!) { operatorLogin(input: {username: $u, password: $p}) "
        "{ accessToken errors { code } } }",
        {"u": username, "p": password},
    )
    assert result["data"]["operatorLogin"]["errors"] == [], result
    return result["data"]["operatorLogin"]["accessToken"]


async def test_production_from_bootstrap_to_a_first_trade(backend: Any, tmp_path: Path) -> None:
    settings = production(backend.settings, database_url=f"sqlite+aiosqlite:///{tmp_path / 'prod.db'}")
    await upgrade_async(settings.database_url)
    admin_password = await bootstrap(settings, "admin", "Administrator")  # `brokerql bootstrap`
    assert admin_password is not None
    async with serve_in_process(settings, Container.build(settings)) as client:
        admin = await operator_token(client, "admin", admin_password)
        created = await client.execute(CREATE, {"i": {"username": "first.client", "name": "First Client"}}, admin)
        payload = created["data"]["createClient"]
        assert payload["errors"] == [] and payload["client"]["tier"]["code"] == "STANDARD", created
        client_id, password = payload["client"]["id"], payload["initialPassword"]
        # Until its risk assessment is recorded a client is C1 and may buy only R1 products (no stocks).
        assessed = await client.execute(ASSESS, {"c": client_id}, admin)
        assert assessed["data"]["updateClient"]["errors"] == [], assessed
        opened = await client.execute(
            OPEN, {"i": {"clientId": client_id, "type": "CASH", "openingDeposit": "100000.00"}}, admin
        )
        account = opened["data"]["openAccount"]["account"]
        assert opened["data"]["openAccount"]["errors"] == [], opened
        assert account["cash"] == {"balance": "100000.00", "available": "100000.00"}

        await client.login("first.client", password)  # the client logs in with the password handed over
        me = await client.execute("{ me { accounts { id type } } }")
        assert me["data"]["me"]["accounts"] == [{"id": account["id"], "type": "CASH"}]
        order = {"accountId": account["id"], "symbol": "600000", "side": "BUY", "type": "MARKET", "quantity": 100}
        placed = await client.execute(PLACE, {"i": order})
        assert placed["data"]["placeOrder"]["errors"] == [], placed

        async def bought() -> bool:
            state = (await client.execute(SYNC, {"a": account["id"]}))["data"]["syncState"]
            return state["positions"] == [{"symbol": "600000", "quantity": 100}]

        assert await wait_for(bought)


async def test_create_and_open_are_checked_audited_and_recorded_as_typed_events(
    backend: Any, client: GraphQLClient
) -> None:
    admin = await operator_token(client, "admin")
    new = {"username": "gold.new", "name": "Gold New", "tier": "GOLD", "password": "Strong#Pass2026"}
    created = (await client.execute(CREATE, {"i": new}, admin))["data"]["createClient"]
    assert created["errors"] == [] and created["initialPassword"] is None  # the operator chose it
    client_id = created["client"]["id"]
    for bad, code in (
        ({**new, "name": "Other"}, "USERNAME_TAKEN"),
        ({**new, "username": "trial.new", "tier": "TRIAL"}, "TIER_NOT_ALLOWED"),
        ({**new, "username": "weak.new", "password": "short"}, "WEAK_PASSWORD"),
        ({**new, "username": "1bad"}, "BAD_USERNAME"),
    ):
        refused = (await client.execute(CREATE, {"i": bad}, admin))["data"]["createClient"]
        assert refused["client"] is None and code in [e["code"] for e in refused["errors"]], (bad, refused)

    cash = {"clientId": client_id, "type": "CASH", "openingDeposit": "250000.50"}
    opened = (await client.execute(OPEN, {"i": cash}, admin))["data"]["openAccount"]
    assert opened["errors"] == [] and opened["account"]["cash"]["available"] == "250000.50"
    margin = (await client.execute(OPEN, {"i": {"clientId": client_id, "type": "MARGIN"}}, admin))["data"]
    assert margin["openAccount"]["account"]["cash"]["balance"] == "0.00"  # GOLD trades margin; no deposit
    trial = await client.execute('{ clients(filter: {search: "trial001"}) { edges { node { id } } } }', token=admin)
    trial_id = trial["data"]["clients"]["edges"][0]["node"]["id"]
    for bad, code in (
        (cash, "ACCOUNT_EXISTS"),
        ({**cash, "clientId": trial_id}, "TIER_NOT_ELIGIBLE"),
        ({**cash, "clientId": "cli_nobody"}, "NOT_FOUND"),
        ({**cash, "type": "FUTURES", "openingDeposit": "0.001"}, "BAD_AMOUNT"),
        ({**cash, "type": "FUTURES", "openingDeposit": "-5"}, "BAD_AMOUNT"),
    ):
        refused = (await client.execute(OPEN, {"i": bad}, admin))["data"]["openAccount"]
        assert refused["account"] is None and code in [e["code"] for e in refused["errors"]], (bad, refused)

    editor = await operator_token(client, "editor")  # articles only: no clients.write
    denied = await client.execute(OPEN, {"i": {**cash, "type": "FUTURES"}}, editor)
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    log = await client.execute(
        "query($a: String) { operatorLog(action: $a) { edges { node { target after } } } }",
        {"a": "account.open"},
        admin,
    )
    entries = [json.loads(e["node"]["after"]) for e in log["data"]["operatorLog"]["edges"]]
    assert {e["type"] for e in entries if e["clientId"] == client_id} == {"CASH", "MARGIN"}
    async with client.container.db.read() as session:
        rows = (await session.scalars(select(DomainEventRow).where(DomainEventRow.subject_id == client_id))).all()
    events = [codec.from_record(row.payload) for row in rows if row.kind in ("ClientCreated", "AccountOpened")]
    assert [type(e) for e in events].count(ClientCreated) == 1
    deposits = sorted(e.opening_deposit for e in events if isinstance(e, AccountOpened))
    assert deposits == [Decimal(0), Decimal("250000.50")]


async def test_parallel_openings_of_one_account_type_open_one(backend: Any, client: GraphQLClient) -> None:
    admin = await operator_token(client, "admin")
    new = {"username": "race.new", "name": "Race", "password": "Strong#Pass2026"}
    client_id = (await client.execute(CREATE, {"i": new}, admin))["data"]["createClient"]["client"]["id"]
    cash = {"clientId": client_id, "type": "CASH", "openingDeposit": "1000.00"}
    results = await asyncio.gather(*(client.execute(OPEN, {"i": cash}, admin) for _ in range(8)))
    opened = [r["data"]["openAccount"] for r in results]
    assert sum(1 for o in opened if o["account"] is not None) == 1, opened
    assert all(o["errors"][0]["code"] == "ACCOUNT_EXISTS" for o in opened if o["account"] is None)
