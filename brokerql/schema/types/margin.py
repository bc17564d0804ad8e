"""Margin trading views and operations (C7): credit, liabilities, the maintenance ratio, credit orders."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from brokerql.domain import rounding
from brokerql.domain.trading.margin import Debt
from brokerql.domain.trading.messages import CreditChanged
from brokerql.domain.trading.orders import OrderPurpose as DomainPurpose
from brokerql.schema.errors import UserError
from brokerql.schema.types.trading import Order
from brokerql.services.products.margin import CreditView

MarginOrderPurpose = strawberry.enum(
    DomainPurpose,
    name="OrderPurpose",
    description="What an order is for on a margin account: NORMAL (collateral buy/sell), FINANCING_BUY "
    "(融资买入), SHORT_SELL (融券卖出), SELL_TO_REPAY (卖券还款), BUY_TO_RETURN (买券还券).",
)


@strawberry.type(description="Liabilities of a margin account by kind.")
class Liabilities:
    financing: Decimal = strawberry.field(description="Cash owed for financing buys (principal).")
    short: Decimal = strawberry.field(description="Shares owed for short sales, at their latest price.")
    interest: Decimal = strawberry.field(description="Interest accrued and unpaid.")
    total: Decimal = strawberry.field(description="financing + short + interest.")


@strawberry.type(description="One debt line: financing of a symbol, or shares of it owed.")
class MarginDebt:
    kind: str = strawberry.field(description="FINANCING or SHORT.")
    symbol: str = strawberry.field(description="Instrument code.")
    quantity: int = strawberry.field(description="FINANCING: shares it bought; SHORT: shares owed.")
    principal: Decimal = strawberry.field(description="FINANCING: cash owed; SHORT: what the short sale raised.")
    interest: Decimal = strawberry.field(description="Interest accrued and unpaid.")
    held_proceeds: Decimal = strawberry.field(description="SHORT: the sale's proceeds held as security.")
    pending_quantity: int = strawberry.field(description="Reserved by working credit orders.")

    @classmethod
    def of(cls, d: Debt) -> MarginDebt:
        return cls(
            kind=d.kind.value,
            symbol=d.symbol,
            quantity=d.quantity,
            principal=rounding.money(d.principal),
            interest=rounding.money(d.interest),
            held_proceeds=rounding.money(d.held),
            pending_quantity=d.pending_quantity,
        )


@strawberry.type(description="A margin account's credit (信用): ratio, lines, credit and liabilities, live.")
class MarginBook:
    maintenance_ratio: Decimal | None = strawberry.field(
        description="(cash + market value held) / (financing + shares owed at market + interest), 4 decimals; "
        "null without debt."
    )
    zone: str = strawberry.field(description="SAFE, WARNING (at or below warningLine) or LIQUIDATION.")
    warning_line: Decimal = strawberry.field(description="Warning line, e.g. 1.50 (150%).")
    liquidation_line: Decimal = strawberry.field(description="Liquidation line, e.g. 1.30; below it no new credit.")
    credit_line: Decimal = strawberry.field(description="The account's credit line (授信额度).")
    credit_used: Decimal = strawberry.field(description="Financing principal + short sale value + reservations.")
    credit_available: Decimal = strawberry.field(description="creditLine - creditUsed (not below 0).")
    margin_available: Decimal = strawberry.field(
        description="Collateral at its conversion rates less what debts tie up (保证金可用余额, simplified)."
    )
    assets: Decimal = strawberry.field(description="Cash + market value of every security held.")
    liabilities: Liabilities = strawberry.field(description="Liabilities by kind.")
    debts: list[MarginDebt] = strawberry.field(description="Debt lines by kind and symbol.")

    @classmethod
    def of(cls, v: CreditView) -> MarginBook:
        total = sum(v.liabilities.values(), Decimal(0))
        return cls(
            maintenance_ratio=v.ratio,
            zone=v.zone.value,
            warning_line=rounding.money(v.terms.warning_line),
            liquidation_line=rounding.money(v.terms.liquidation_line),
            credit_line=rounding.money(v.terms.credit_line),
            credit_used=rounding.money(v.credit_used),
            credit_available=rounding.money(max(Decimal(0), v.terms.credit_line - v.credit_used)),
            margin_available=rounding.money(v.margin_available),
            assets=rounding.money(v.assets),
            liabilities=Liabilities(
                financing=rounding.money(v.liabilities["financing"]),
                short=rounding.money(v.liabilities["short"]),
                interest=rounding.money(v.liabilities["interest"]),
                total=rounding.money(total),
            ),
            debts=[MarginDebt.of(d) for d in v.debts],
        )

    @classmethod
    async def load(cls, info: strawberry.Info, account_id: str) -> MarginBook | None:
        """The credit view of a margin account the caller already may see (null if it has none)."""
        view = await info.context.container.products.margin.view(account_id)
        return cls.of(view) if view is not None else None


@strawberry.type(description="What a margin-account change did (on orderEvents as `credit`).")
class CreditChange:
    action: str = strawberry.field(description="REPAY_CASH, RETURN_SHARES, INTEREST or LINE_CROSSED.")
    symbol: str | None = strawberry.field(description="The symbol, when the change is about one.")
    quantity: int = strawberry.field(description="Shares returned; for INTEREST the days it covers.")
    amount: Decimal = strawberry.field(description="Cash repaid, or short proceeds released.")
    interest: Decimal = strawberry.field(description="Interest paid (or, for INTEREST, posted).")
    principal: Decimal = strawberry.field(description="Principal repaid.")
    ratio: Decimal | None = strawberry.field(description="LINE_CROSSED: the maintenance ratio now.")
    zone: str | None = strawberry.field(description="LINE_CROSSED: SAFE, WARNING or LIQUIDATION.")
    previous_zone: str | None = strawberry.field(description="LINE_CROSSED: the zone before.")

    @classmethod
    def of(cls, c: CreditChanged) -> CreditChange:
        return cls(
            action=c.action,
            symbol=c.symbol,
            quantity=c.quantity,
            amount=rounding.money(c.amount),
            interest=rounding.money(c.interest),
            principal=rounding.money(c.principal),
            ratio=c.ratio,
            zone=c.zone,
            previous_zone=c.previous_zone,
        )


@strawberry.input(description="A credit order on a margin account (goes through placeOrder's rules).")
class MarginOrderInput:
    account_id: strawberry.ID = strawberry.field(description="Your MARGIN account.")
    purpose: MarginOrderPurpose = strawberry.field(  # type: ignore[valid-type]
        description="FINANCING_BUY, SHORT_SELL, SELL_TO_REPAY or BUY_TO_RETURN."
    )
    symbol: str = strawberry.field(description="Instrument code (credit needs the eligible list).")
    price: Decimal = strawberry.field(description="Limit price (short sales: not below the last price).")
    quantity: int = strawberry.field(description="Shares.")
    client_order_id: str | None = strawberry.field(default=None, description="Idempotency key, as in placeOrder.")


@strawberry.type(description="Result of marginOrder.")
class MarginOrderPayload:
    order: Order | None = strawberry.field(description="The accepted order (null if refused).")
    errors: list[UserError] = strawberry.field(
        description="e.g. NOT_MARGIN_ELIGIBLE, BELOW_LIQUIDATION_LINE, CREDIT_LINE_EXCEEDED, INSUFFICIENT_MARGIN, "
        "SHORT_SELL_PRICE, LENDING_POOL_EMPTY, LENDING_POOL_SHORT, NO_DEBT, and placeOrder's codes."
    )


@strawberry.input(description="直接还款: repay financing with cash, interest first.")
class RepayMarginInput:
    account_id: strawberry.ID = strawberry.field(description="Your MARGIN account.")
    amount: Decimal = strawberry.field(description="Cash to pay (at most what is owed is taken).")
    symbol: str | None = strawberry.field(default=None, description="Only this symbol's financing (default: all).")


@strawberry.input(description="直接还券: return borrowed shares from the shares you hold.")
class ReturnSharesInput:
    account_id: strawberry.ID = strawberry.field(description="Your MARGIN account.")
    symbol: str = strawberry.field(description="The symbol owed.")
    quantity: int = strawberry.field(description="Shares to return (sellable ones).")


@strawberry.type(description="Result of repayMargin or returnShares.")
class MarginChangePayload:
    change: CreditChange | None = strawberry.field(description="What was paid or returned (null if refused).")
    errors: list[UserError] = strawberry.field(description="e.g. NO_DEBT, INSUFFICIENT_FUNDS, INSUFFICIENT_POSITION.")
