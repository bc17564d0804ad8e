"""ETF creation, redemption and arbitrage (C6): inputs, payloads, the run and the event detail."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from brokerql.domain import rounding
from brokerql.domain.trading import etf as rules
from brokerql.domain.trading.messages import EtfChanged
from brokerql.schema.errors import UserError
from brokerql.schema.types.trading import Order, OrderSide
from brokerql.store.tables_trading import EtfArbitrageRow


def _money(value: Decimal | None) -> Decimal | None:
    return None if value is None else rounding.money(value)


@strawberry.type(description="An ETF creation or redemption, or a step of an arbitrage run (on orderEvents as `etf`).")
class EtfChange:
    action: str = strawberry.field(description="CREATED, REDEEMED or ARBITRAGE.")
    etf: str = strawberry.field(description="The ETF.")
    units: int = strawberry.field(description="Creation units.")
    etf_shares: int = strawberry.field(description="ETF shares created or redeemed (units x creation unit).")
    cash: Decimal = strawberry.field(description="Cash paid (creation) or received (redemption).")
    substituted: Decimal = strawberry.field(description="Of which cash substituted for constituents.")
    cash_component: Decimal = strawberry.field(description="Of which the PCF's cash component x units.")
    fee: Decimal = strawberry.field(description="The creation/redemption fee.")
    run_id: str | None = strawberry.field(description="The arbitrage run it belongs to, if any.")
    status: str | None = strawberry.field(description="ARBITRAGE: STARTED, CONVERTED, DONE or BROKEN.")
    estimated_pnl: Decimal | None = strawberry.field(description="ARBITRAGE: the P&L estimated when it was sent.")
    realised_pnl: Decimal | None = strawberry.field(description="ARBITRAGE DONE: the P&L booked.")

    @classmethod
    def of(cls, e: EtfChanged) -> EtfChange:
        return cls(
            action=e.action, etf=e.etf, units=e.units, etf_shares=e.etf_shares, cash=rounding.money(e.cash),
            substituted=rounding.money(e.substituted), cash_component=rounding.money(e.cash_component),
            fee=rounding.money(e.fee), run_id=e.run_id, status=e.status, estimated_pnl=_money(e.estimated_pnl),
            realised_pnl=_money(e.realised_pnl),
        )  # fmt: skip


@strawberry.input(description="Create (申购) or redeem (赎回) whole creation units of an ETF.")
class ConvertEtfInput:
    account_id: strawberry.ID = strawberry.field(description="Your CASH or MARGIN account.")
    etf: str = strawberry.field(description="The ETF, e.g. 510300.")
    units: int = strawberry.field(description="Creation units (510300: 900,000 ETF shares each).")


@strawberry.type(description="Result of createEtf or redeemEtf.")
class ConvertEtfPayload:
    change: EtfChange | None = strawberry.field(description="What moved (null if refused).")
    errors: list[UserError] = strawberry.field(
        description="e.g. NOT_AN_ETF, BAD_UNITS, INSUFFICIENT_POSITION (a FORBIDDEN line short), INSUFFICIENT_FUNDS."
    )


@strawberry.input(description="Buy or sell an ETF's in-kind constituents (PCF lines but MUST_CASH) x units.")
class TradeEtfBasketInput:
    account_id: strawberry.ID = strawberry.field(description="Your CASH or MARGIN account.")
    etf: str = strawberry.field(description="The ETF whose PCF to trade, e.g. 510300.")
    units: int = strawberry.field(description="Creation units: each line's quantity is multiplied by it.")
    side: OrderSide = strawberry.field(description="BUY or SELL every leg.")  # type: ignore[valid-type]
    risk_acknowledged: bool = strawberry.field(
        default=False,
        description="You read the risk warning of legs rated above your risk level and buy anyway (each leg "
        "order records it). Without it such legs are SUITABILITY_MISMATCH.",
    )


@strawberry.type(description="Result of tradeEtfBasket: every leg's order, or none.")
class TradeEtfBasketPayload:
    orders: list[Order] = strawberry.field(description="One marketable limit order per leg (empty if refused).")
    errors: list[UserError] = strawberry.field(description="The refused legs' codes (nothing was placed).")


@strawberry.type(description="An arbitrage priced before it is sent, at the latest prices.")
class ArbitrageEstimate:
    direction: str = strawberry.field(description="PREMIUM or DISCOUNT.")
    units: int = strawberry.field(description="Creation units.")
    basket_value: Decimal = strawberry.field(description="In-kind constituents x quantity x units at the last price.")
    basket_fees: Decimal = strawberry.field(description="Trading fees of the basket legs (one order per line).")
    etf_value: Decimal = strawberry.field(description="ETF shares x the ETF's last price.")
    etf_fees: Decimal = strawberry.field(description="Trading fees of the ETF leg (no stamp duty on ETFs).")
    substituted: Decimal = strawberry.field(description="MUST_CASH lines' cash.")
    cash_component: Decimal = strawberry.field(description="The PCF's cash component x units.")
    conversion_fee: Decimal = strawberry.field(description="The creation or redemption fee.")
    pnl: Decimal = strawberry.field(description="The estimated P&L after every cost above.")

    @classmethod
    def of(cls, e: rules.ArbitrageEstimate) -> ArbitrageEstimate:
        return cls(
            direction=e.direction, units=e.units, basket_value=rounding.money(e.basket_value),
            basket_fees=rounding.money(e.basket_fees), etf_value=rounding.money(e.etf_value),
            etf_fees=rounding.money(e.etf_fees), substituted=rounding.money(e.substituted),
            cash_component=rounding.money(e.cash_component), conversion_fee=rounding.money(e.conversion_fee),
            pnl=rounding.money(e.pnl),
        )  # fmt: skip


@strawberry.type(description="One ETF arbitrage run: its legs, where it stands, estimated and realised P&L.")
class EtfArbitrageRun:
    id: strawberry.ID = strawberry.field(description="Run id (its orders' clientOrderIds start with it).")
    account_id: strawberry.ID = strawberry.field(description="The account.")
    etf: str = strawberry.field(description="The ETF.")
    direction: str = strawberry.field(description="PREMIUM or DISCOUNT.")
    units: int = strawberry.field(description="Creation units.")
    status: str = strawberry.field(description="LEGS_WORKING, CONVERTING, CONVERTED, DONE or BROKEN.")
    first_order_ids: list[strawberry.ID] = strawberry.field(
        description="PREMIUM: the basket buys; DISCOUNT: the ETF buy."
    )
    second_order_ids: list[strawberry.ID] = strawberry.field(
        description="PREMIUM: the ETF sell; DISCOUNT: basket sells."
    )
    estimated_pnl: Decimal = strawberry.field(description="The P&L estimated when it was sent.")
    conversion_cash: Decimal = strawberry.field(
        description="Cash paid by the creation (or received by the redemption)."
    )
    realised_pnl: Decimal | None = strawberry.field(
        description="Once DONE: sold after fees - bought with fees -/+ cash."
    )
    note: str = strawberry.field(description="Why it broke, if it did.")
    updated_at: datetime = strawberry.field(description="When it last moved.")

    @classmethod
    def of(cls, r: EtfArbitrageRow) -> EtfArbitrageRun:
        return cls(
            id=strawberry.ID(r.id), account_id=strawberry.ID(r.account_id), etf=r.etf, direction=r.direction,
            units=r.units, status=r.status, first_order_ids=[strawberry.ID(i) for i in r.first_orders],
            second_order_ids=[strawberry.ID(i) for i in r.second_orders], estimated_pnl=rounding.money(r.estimated_pnl),
            conversion_cash=rounding.money(r.conversion_cash), realised_pnl=_money(r.realised_pnl), note=r.note,
            updated_at=r.updated_at,
        )  # fmt: skip


@strawberry.input(description="T+0 ETF arbitrage as one action (premium: buy basket, create, sell ETF).")
class RunEtfArbitrageInput:
    account_id: strawberry.ID = strawberry.field(description="Your CASH or MARGIN account.")
    etf: str = strawberry.field(description="The ETF, e.g. 510300.")
    units: int = strawberry.field(description="Creation units.")
    direction: str = strawberry.field(
        description="PREMIUM (ETF above its IOPV: buy basket, create, sell ETF) or DISCOUNT (buy ETF, redeem, "
        "sell basket)."
    )
    estimate_only: bool = strawberry.field(default=False, description="Only price it; send nothing.")
    risk_acknowledged: bool = strawberry.field(
        default=False,
        description="You read the risk warning of legs rated above your risk level and buy anyway (the "
        "first legs, which buy, record it). Without it such legs are SUITABILITY_MISMATCH.",
    )


@strawberry.type(description="Result of runEtfArbitrage.")
class RunEtfArbitragePayload:
    estimate: ArbitrageEstimate | None = strawberry.field(
        description="The P&L estimate it was (or would be) sent with."
    )
    run: EtfArbitrageRun | None = strawberry.field(description="The run (null with estimateOnly or when refused).")
    errors: list[UserError] = strawberry.field(description="e.g. NOT_AN_ETF, BAD_ARGUMENT, a leg's placeOrder code.")
