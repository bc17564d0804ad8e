"""Single placements that arrive together are placed in one unit of work (`PlaceOrderService.place`
through `placement_groups.py`) and leave exactly what placing them one by one leaves: the same answers
(reservations cumulative in arrival order, a refused order writing nothing, a repeated clientOrderId
answering for the first order, someone else's account not found and untouched), the same funds,
positions, orders and gapless event log (both backends)."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from sqlalchemy import event

from brokerql.domain.common import OrderType, Side
from brokerql.domain.trading.commands import PlaceOrder
from brokerql.services.trading import TradingServices
from brokerql.services.trading.outcomes import PlaceOutcome
from brokerql.store.database import Database
from tests.api.test_bookings_together import _state
from tests.api.test_trading_expiry import open_account
from tests.api.trading_helpers import trading_services

# (symbol, side, quantity, price, clientOrderId) on 100,000 CNY and 500 shares of 600000
ORDERS = [
    ("600000", Side.BUY, 3000, "13.50", None),  # 40,500 reserved
    ("600036", Side.BUY, 1000, "35.00", None),  # 35,000 more
    ("600000", Side.BUY, 2000, "13.50", None),  # 27,000 more: refused, only the first two fit
    ("600000", Side.SELL, 300, "13.50", None),
    ("600000", Side.SELL, 300, "13.50", None),  # 200 left to sell: refused
    ("600000", Side.BUY, 100, "13.50", "c-1"),
    ("600000", Side.BUY, 100, "13.50", "c-1"),  # the same request again: the first order back
]


def _commands(account_id: str) -> list[PlaceOrder]:
    return [
        PlaceOrder(
            account_id=account_id,
            symbol=symbol,
            side=side,
            type=OrderType.LIMIT,
            quantity=quantity,
            price=Decimal(price),
            client_order_id=client_order_id,
        )
        for symbol, side, quantity, price, client_order_id in ORDERS
    ]


def _answers(outcomes: list[PlaceOutcome]) -> list[Any]:
    return [(o.order is not None, [e.code for e in o.errors]) for o in outcomes]


async def _together(services: TradingServices, requests: list[tuple[str, PlaceOrder]]) -> list[Any]:
    """Place `requests` concurrently (arriving in their order), returning answers or raised errors."""
    tasks = [asyncio.create_task(services.place.place(client_id, command)) for client_id, command in requests]
    return await asyncio.gather(*tasks, return_exceptions=True)


async def test_a_group_places_what_one_by_one_places(backend) -> None:  # type: ignore[no-untyped-def]
    db = Database(backend.settings.database_url)
    services = trading_services(db)
    try:
        alone_client, alone_account = await open_account(db)
        group_client, group_account = await open_account(db)
        alone = [await services.place.place(alone_client, command) for command in _commands(alone_account)]
        before = await _state(db, alone_account)
        groups = services.place.groups
        groups.groups = groups.placed = 0
        begins: list[object] = []

        def began(connection: object) -> None:
            begins.append(connection)

        event.listen(db.writer.sync_engine, "begin", began)
        try:
            # Someone else's account in the same group: not found, and written back as it was.
            theirs = _commands(alone_account)[0]
            requests = [*((group_client, c) for c in _commands(group_account)), (group_client, theirs)]
            together = await _together(services, requests)
        finally:
            event.remove(db.writer.sync_engine, "begin", began)
        assert all(isinstance(o, PlaceOutcome) for o in together), together
        assert _answers(together) == [*_answers(alone), (False, ["NOT_FOUND"])]
        assert together[6].order.id == together[5].order.id  # type: ignore[union-attr]
        assert groups.placed == len(requests) and groups.groups < len(requests)  # they shared units of work
        assert 1 <= len(begins) <= groups.groups  # a group is one transaction (SQLite's group commit may join two)
        assert await _state(db, group_account) == await _state(db, alone_account) == before
    finally:
        await db.dispose()


async def test_a_failing_member_fails_alone(backend, monkeypatch, caplog) -> None:  # type: ignore[no-untyped-def]
    db = Database(backend.settings.database_url)
    services = trading_services(db)
    try:
        client_id, account_id = await open_account(db)
        admit = services.place.admitter.admit

        def admit_or_fail(account: Any, command: PlaceOrder, *args: Any, **kwargs: Any) -> Any:
            if command.quantity == 700:
                raise RuntimeError("a bug in one order's path")
            return admit(account, command, *args, **kwargs)

        monkeypatch.setattr(services.place.admitter, "admit", admit_or_fail)
        commands = [
            PlaceOrder(
                account_id=account_id, symbol="600000", side=Side.BUY, type=OrderType.LIMIT, quantity=q,
                price=Decimal("13.50"),
            )
            for q in (100, 700, 200)
        ]  # fmt: skip
        answers = await _together(services, [(client_id, c) for c in commands])
        assert isinstance(answers[1], RuntimeError)
        assert "placing 3 orders together failed" in caplog.text  # then one by one
        assert answers[0].order is not None and answers[2].order is not None
        state = await _state(db, account_id)
        assert [kind for _seq, kind in state["events"]] == ["ACCEPTED", "ACCEPTED"]
        assert sorted(o[4] for o in state["orders"]) == [100, 200]  # leaves_qty: the two placed, nothing else
    finally:
        await db.dispose()
