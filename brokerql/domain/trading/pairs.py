"""Paired buy/sell (对买对卖): a buy and a sell sent together, accepted together or not at all."""

from __future__ import annotations

from dataclasses import dataclass

from brokerql.domain.common import Rejection, Side
from brokerql.domain.trading.commands import PlaceOrder


@dataclass(frozen=True, slots=True, kw_only=True)
class PlacePairedOrder:
    """Place `buy` and `sell` in one account, in one transaction: both are accepted or neither is.
    The two may be the same instrument or related ones (a switch between two holdings, an ETF and a
    constituent...); each is checked by every placement rule, with the buy's cash and the sell's
    shares reserved together."""

    buy: PlaceOrder
    sell: PlaceOrder


def pair_rejections(command: PlacePairedOrder) -> list[Rejection]:
    """Why two orders cannot form a pair ([] when they can)."""
    errors = []
    if command.buy.side is not Side.BUY:
        errors.append(Rejection("BAD_PAIR", "The buy leg must be a BUY.", "buy.side"))
    if command.sell.side is not Side.SELL:
        errors.append(Rejection("BAD_PAIR", "The sell leg must be a SELL.", "sell.side"))
    if command.buy.account_id != command.sell.account_id:
        errors.append(Rejection("BAD_PAIR", "Both legs trade in the same account.", "sell.accountId"))
    return errors
