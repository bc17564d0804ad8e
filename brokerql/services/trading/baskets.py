"""Baskets (C4): a client creates, edits, lists and deletes their baskets (validated by the domain)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from brokerql.domain.clock import Clock
from brokerql.domain.common import Rejection
from brokerql.domain.market.instruments import Instrument
from brokerql.domain.trading.baskets import Basket, BasketLeg, DefineBasket, validate_basket
from brokerql.store.columns import new_id
from brokerql.store.database import Database
from brokerql.store.tables_baskets import BasketRow

NO_BASKET = Rejection("NOT_FOUND", "No such basket.", "basketId")
MAX_BASKETS = 100  # per client


@dataclass
class BasketOutcome:
    basket: Basket | None = None
    errors: list[Rejection] = field(default_factory=list)


def basket_of(row: BasketRow) -> Basket:
    legs = tuple(
        BasketLeg(
            symbol=leg["symbol"],
            quantity=leg.get("quantity"),
            weight=Decimal(leg["weight"]) if leg.get("weight") is not None else None,
        )
        for leg in row.legs
    )
    return Basket(
        id=row.id,
        client_id=row.client_id,
        name=row.name,
        legs=legs,
        default_quantity=row.default_quantity,
        default_amount=row.default_amount,
        description=row.description,
    )


def _legs_json(legs: tuple[BasketLeg, ...]) -> list[dict[str, Any]]:
    return [
        {"symbol": leg.symbol, "quantity": leg.quantity, "weight": str(leg.weight) if leg.weight is not None else None}
        for leg in legs
    ]


async def owned_basket(session: AsyncSession, client_id: str, basket_id: str) -> BasketRow | None:
    row = await session.get(BasketRow, basket_id)
    return row if row is not None and row.client_id == client_id else None


class BasketService:
    """A client's basket definitions."""

    def __init__(self, db: Database, instruments: dict[str, Instrument], clock: Clock) -> None:
        self.db, self.instruments, self.clock = db, instruments, clock

    async def baskets(self, client_id: str) -> list[Basket]:
        """The client's baskets, oldest first."""
        query = select(BasketRow).where(BasketRow.client_id == client_id).order_by(BasketRow.created_at, BasketRow.id)
        async with self.db.read() as session:
            return [basket_of(row) for row in (await session.scalars(query)).all()]

    async def basket(self, client_id: str, basket_id: str) -> Basket | None:
        async with self.db.read() as session:
            row = await owned_basket(session, client_id, basket_id)
        return basket_of(row) if row is not None else None

    async def define(self, client_id: str, command: DefineBasket) -> BasketOutcome:
        """Create a basket, or replace the definition of `command.basket_id`."""
        errors = validate_basket(
            command.name,
            command.legs,
            self.instruments,
            default_quantity=command.default_quantity,
            default_amount=command.default_amount,
            description=command.description,
        )
        if errors:
            return BasketOutcome(errors=errors)
        now = self.clock.now()
        async with self.db.transaction() as uow:
            if command.basket_id is None:
                mine = select(func.count()).select_from(BasketRow).where(BasketRow.client_id == client_id)
                if (await uow.session.scalar(mine) or 0) >= MAX_BASKETS:
                    return BasketOutcome(errors=[Rejection("TOO_MANY_BASKETS", f"At most {MAX_BASKETS} baskets.")])
                row = BasketRow(id=new_id("bsk"), client_id=client_id, name=command.name, created_at=now)
            else:
                found = await owned_basket(uow.session, client_id, command.basket_id)
                if found is None:
                    return BasketOutcome(errors=[NO_BASKET])
                row = found
            row.name, row.description, row.legs = command.name, command.description, _legs_json(command.legs)
            row.default_quantity, row.default_amount = command.default_quantity, command.default_amount
            row.updated_at = now
            uow.session.add(row)
        return BasketOutcome(basket_of(row))

    async def delete(self, client_id: str, basket_id: str) -> BasketOutcome:
        """Delete a basket; its runs (and their orders) stay."""
        async with self.db.transaction() as uow:
            row = await owned_basket(uow.session, client_id, basket_id)
            if row is None:
                return BasketOutcome(errors=[NO_BASKET])
            basket = basket_of(row)
            await uow.session.delete(row)
        return BasketOutcome(basket)
