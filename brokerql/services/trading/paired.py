"""Paired buy/sell (对买对卖): both legs through the shared placement path in one transaction, linked by a
pair id on both orders; if either leg is refused, neither is placed."""

from __future__ import annotations

from dataclasses import dataclass, field

from brokerql.domain.common import Rejection
from brokerql.domain.trading.messages import OrderView
from brokerql.domain.trading.pairs import PlacePairedOrder, pair_rejections
from brokerql.services.trading.admission_records import OrderLinks
from brokerql.services.trading.place_order import PlaceOrderService
from brokerql.store.columns import new_id


@dataclass
class PairOutcome:
    """Both orders (linked by `pair_id`), or the reasons, per leg, that neither was placed."""

    pair_id: str | None = None
    buy: OrderView | None = None
    sell: OrderView | None = None
    errors: list[Rejection] = field(default_factory=list)


class PairedOrderService:
    def __init__(self, place: PlaceOrderService) -> None:
        self.place = place

    async def place_pair(
        self, client_id: str, command: PlacePairedOrder, *, session_account_type: str | None = None
    ) -> PairOutcome:
        refused = pair_rejections(command)
        if refused:
            return PairOutcome(errors=refused)
        pair_id = new_id("par")
        outcome = await self.place.place_all(
            client_id, command.buy.account_id, [command.buy, command.sell], links=OrderLinks(pair_id=pair_id),
            session_account_type=session_account_type,
        )  # fmt: skip
        if not outcome.placed:
            errors = outcome.errors + [
                Rejection(e.code, e.message, f"{leg}.{e.field}" if e.field else leg)
                for leg, admission in zip(("buy", "sell"), outcome.admissions, strict=False)
                for e in admission.errors
            ]
            return PairOutcome(errors=errors)
        buy, sell = outcome.orders
        return PairOutcome(pair_id, buy, sell)
