"""Product lines (C6-C8): parse, one service call, map."""

from __future__ import annotations

from typing import Annotated

import strawberry

from brokerql.domain.common import OrderType, Rejection, Side
from brokerql.domain.identity.roles import Permission as P
from brokerql.domain.trading.commands import (
    ConvertEtf,
    PlaceOrder,
    RepayMargin,
    ReturnShares,
    RunEtfArbitrage,
    TradeEtfBasket,
)
from brokerql.domain.trading.orders import OrderPurpose
from brokerql.resolvers.guards import require_operator
from brokerql.schema.errors import UserError, not_found
from brokerql.schema.types.etf import (
    ArbitrageEstimate,
    ConvertEtfInput,
    ConvertEtfPayload,
    EtfArbitrageRun,
    EtfChange,
    RunEtfArbitrageInput,
    RunEtfArbitragePayload,
    TradeEtfBasketInput,
    TradeEtfBasketPayload,
)
from brokerql.schema.types.futures import (
    FuturesSettlement,
    SettleFuturesInput,
    SettleFuturesPayload,
)
from brokerql.schema.types.margin import (
    CreditChange,
    MarginChangePayload,
    MarginOrderInput,
    MarginOrderPayload,
    RepayMarginInput,
    ReturnSharesInput,
)
from brokerql.schema.types.trading import Order
from brokerql.services.products.etf_arbitrage import ArbitrageOutcome
from brokerql.services.products.margin import CreditOutcome


async def settle_futures(
    info: strawberry.Info,
    input: Annotated[SettleFuturesInput, strawberry.argument(description="The contract and its settlement price.")],
) -> SettleFuturesPayload:
    await require_operator(info, P.FUTURES_SETTLE)
    outcome = await info.context.container.products.futures.settle(input.symbol, input.settlement_price)
    return SettleFuturesPayload(
        final=outcome.final,
        settlements=[FuturesSettlement.of(s) for s in outcome.settled],
        errors=[UserError.of(e) for e in outcome.errors],
    )


async def margin_order(
    info: strawberry.Info,
    input: Annotated[MarginOrderInput, strawberry.argument(description="The credit order.")],
) -> MarginOrderPayload:
    principal = info.context.require_client()
    command = _margin_command(input)
    if isinstance(command, Rejection):
        return MarginOrderPayload(order=None, errors=[UserError.of(command)])
    place = info.context.container.trading.place.place
    outcome = await place(principal.subject_id, command, session_account_type=principal.account_type)
    order = Order.from_view(outcome.order) if outcome.order else None
    return MarginOrderPayload(order=order, errors=[UserError.of(e) for e in outcome.errors])


async def repay_margin(
    info: strawberry.Info,
    input: Annotated[RepayMarginInput, strawberry.argument(description="How much to repay.")],
) -> MarginChangePayload:
    principal = info.context.require_client()
    command = RepayMargin(account_id=str(input.account_id), amount=input.amount, symbol=input.symbol)
    outcome = await info.context.container.products.margin.repay(
        principal.subject_id, command, session_account_type=principal.account_type
    )
    return _change_payload(outcome)


async def return_shares(
    info: strawberry.Info,
    input: Annotated[ReturnSharesInput, strawberry.argument(description="Which shares to return.")],
) -> MarginChangePayload:
    principal = info.context.require_client()
    command = ReturnShares(account_id=str(input.account_id), symbol=input.symbol, quantity=input.quantity)
    outcome = await info.context.container.products.margin.return_shares(
        principal.subject_id, command, session_account_type=principal.account_type
    )
    return _change_payload(outcome)


def _change_payload(outcome: CreditOutcome) -> MarginChangePayload:
    change = CreditChange.of(outcome.detail) if outcome.detail is not None else None
    return MarginChangePayload(change=change, errors=[UserError.of(e) for e in outcome.errors])


_SIDE_OF = {
    OrderPurpose.FINANCING_BUY: Side.BUY,
    OrderPurpose.BUY_TO_RETURN: Side.BUY,
    OrderPurpose.SHORT_SELL: Side.SELL,
    OrderPurpose.SELL_TO_REPAY: Side.SELL,
}


def _margin_command(input: MarginOrderInput) -> PlaceOrder | Rejection:
    """A credit order as placeOrder's command (a limit order; the purpose decides the side)."""
    purpose = OrderPurpose(input.purpose.value)
    if purpose not in _SIDE_OF:
        return Rejection("BAD_PURPOSE", "Collateral (NORMAL) orders go through placeOrder.", "purpose")
    return PlaceOrder(
        account_id=str(input.account_id), symbol=input.symbol, side=_SIDE_OF[purpose], type=OrderType.LIMIT,
        quantity=input.quantity, price=input.price, client_order_id=input.client_order_id, purpose=purpose,
    )  # fmt: skip


async def create_etf(
    info: strawberry.Info, input: Annotated[ConvertEtfInput, strawberry.argument(description="What to create.")]
) -> ConvertEtfPayload:
    return await _convert(info, input, create=True)


async def redeem_etf(
    info: strawberry.Info, input: Annotated[ConvertEtfInput, strawberry.argument(description="What to redeem.")]
) -> ConvertEtfPayload:
    return await _convert(info, input, create=False)


async def _convert(info: strawberry.Info, input: ConvertEtfInput, *, create: bool) -> ConvertEtfPayload:
    principal = info.context.require_client()
    command = ConvertEtf(account_id=str(input.account_id), etf=input.etf, units=input.units, create=create)
    outcome = await info.context.container.products.etf.convert(
        principal.subject_id, command, session_account_type=principal.account_type
    )
    change = EtfChange.of(outcome.detail) if outcome.detail is not None else None
    return ConvertEtfPayload(change=change, errors=[UserError.of(e) for e in outcome.errors])


async def run_etf_arbitrage(
    info: strawberry.Info,
    input: Annotated[RunEtfArbitrageInput, strawberry.argument(description="The arbitrage to run or price.")],
) -> RunEtfArbitragePayload:
    principal = info.context.require_client()
    command = RunEtfArbitrage(
        account_id=str(input.account_id), etf=input.etf, units=input.units, direction=input.direction,
        estimate_only=input.estimate_only, risk_acknowledged=input.risk_acknowledged,
    )  # fmt: skip
    outcome = await info.context.container.products.etf.runs.arbitrage(
        principal.subject_id, command, session_account_type=principal.account_type
    )
    return _arbitrage_payload(outcome)


def _arbitrage_payload(outcome: ArbitrageOutcome) -> RunEtfArbitragePayload:
    return RunEtfArbitragePayload(
        estimate=ArbitrageEstimate.of(outcome.estimate) if outcome.estimate is not None else None,
        run=EtfArbitrageRun.of(outcome.run) if outcome.run is not None else None,
        errors=[UserError.of(e) for e in outcome.errors],
    )


async def etf_arbitrage_run(
    info: strawberry.Info, id: Annotated[strawberry.ID, strawberry.argument(description="The run id.")]
) -> EtfArbitrageRun:
    principal = info.context.require_client()
    run = await info.context.container.products.etf.runs.run_of(principal.subject_id, str(id))
    if run is None:
        raise not_found("EtfArbitrageRun")
    return EtfArbitrageRun.of(run)


async def trade_etf_basket(
    info: strawberry.Info,
    input: Annotated[TradeEtfBasketInput, strawberry.argument(description="The ETF, units and side.")],
) -> TradeEtfBasketPayload:
    principal = info.context.require_client()
    command = TradeEtfBasket(
        account_id=str(input.account_id), etf=input.etf, units=input.units, side=Side(input.side.value),
        risk_acknowledged=input.risk_acknowledged,
    )  # fmt: skip
    outcome = await info.context.container.products.etf.trade_basket(
        principal.subject_id, command, session_account_type=principal.account_type
    )
    return TradeEtfBasketPayload(
        orders=[Order.from_view(o) for o in outcome.orders], errors=[UserError.of(e) for e in outcome.errors]
    )
