"""The order wizard (委托精灵): what placeOrder would say about an order, and what it would cost."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from brokerql.domain import rounding
from brokerql.domain.common import Rejection
from brokerql.domain.trading.fees import Fees
from brokerql.schema.errors import UserError
from brokerql.schema.types.holdings import price_of
from brokerql.schema.types.trading import Order, OrderType
from brokerql.services.trading.admission_records import Admission
from brokerql.services.trading.admission_records import CheckOutcome as DomainCheckOutcome
from brokerql.services.trading.outcomes import PlaceOutcome

CheckOutcome = strawberry.enum(
    DomainCheckOutcome, name="CheckOutcome", description="How one placement rule applied to an order."
)


@strawberry.type(description="Fees of an order traded in full at its price, by kind.")
class FeeBreakdown:
    commission: Decimal = strawberry.field(description="Commission (minimum once per order).")
    stamp_duty: Decimal = strawberry.field(description="Stamp duty (sells of stocks only).")
    transfer_fee: Decimal = strawberry.field(description="Transfer fee (过户费).")
    total: Decimal = strawberry.field(description="The three together.")

    @classmethod
    def of(cls, fees: Fees) -> FeeBreakdown:
        return cls(
            commission=rounding.money(fees.commission),
            stamp_duty=rounding.money(fees.stamp_duty),
            transfer_fee=rounding.money(fees.transfer_fee),
            total=rounding.money(fees.total),
        )


@strawberry.type(description="One placement rule as it applied to the order, in the order the rules run.")
class RuleCheck:
    rule: str = strawberry.field(
        description="PRICE_INSTRUCTION, ENTITLEMENT, INSTRUMENT, HALT, COMPLIANCE, PRICE, VENUE, BOARD_RULES, "
        "POSITION, CREDIT or FUNDS (more may be added)."
    )
    outcome: CheckOutcome = strawberry.field(description="PASSED, FAILED, or SKIPPED after an earlier failure.")
    errors: list[UserError] = strawberry.field(description="Why the rule refused the order (empty unless FAILED).")


@strawberry.type(description="What placeOrder would answer for this order now, and its money. Nothing was changed.")
class OrderPreview:
    accepted: bool = strawberry.field(
        description="Whether placeOrder would accept the order now (or answer with existingOrder, placed before)."
    )
    errors: list[UserError] = strawberry.field(description="What placeOrder would answer in errors (empty: none).")
    checks: list[RuleCheck] = strawberry.field(description="Every placement rule, in order, with its outcome.")
    type: OrderType | None = strawberry.field(description="The order's type once priced (a priceLevel makes a LIMIT).")
    price: Decimal | None = strawberry.field(
        description="The price the order would take: the limit, or the level resolved now; "
        "market orders: the protective price a buy freezes at, the last price for a sell."
    )
    quantity: int = strawberry.field(description="The quantity asked for.")
    notional: Decimal | None = strawberry.field(description="price x quantity.")
    fees: FeeBreakdown | None = strawberry.field(description="Fees if the order trades in full at `price`.")
    frozen_cash: Decimal | None = strawberry.field(description="Cash the order would freeze (buys: notional + fees).")
    frozen_quantity: int | None = strawberry.field(description="Shares the order would freeze (sells).")
    available_before: Decimal | None = strawberry.field(description="Available cash now.")
    available_after: Decimal | None = strawberry.field(
        description="Available cash once the order froze its cash (negative: the shortfall)."
    )
    max_quantity: int | None = strawberry.field(
        description="Buys: the most shares available cash buys at `price`, fees included, in valid lots; "
        "sells: the sellable shares. Futures accounts: the most contracts an open's margin and fee fit in the "
        "available cash (within the position limit), or the contracts a close may cover. Credit orders of a "
        "margin account are sized by cash here, not by the credit line."
    )
    existing_order: Order | None = strawberry.field(
        description="When clientOrderId names an order placed before for the same request: that order, which "
        "placeOrder would return instead of placing another (null otherwise; a different request under the "
        "same clientOrderId is the error DUPLICATE_CLIENT_ORDER_ID)."
    )

    @classmethod
    def refused(cls, quantity: int, errors: list[Rejection]) -> OrderPreview:
        """A request refused before any rule ran (no such account, a bad timeInForce)."""
        return cls(
            accepted=False,
            errors=[UserError.of(e) for e in errors],
            checks=[],
            type=None,
            price=None,
            quantity=quantity,
            notional=None,
            fees=None,
            frozen_cash=None,
            frozen_quantity=None,
            available_before=None,
            available_after=None,
            max_quantity=None,
            existing_order=None,
        )

    @classmethod
    def of(cls, admission: Admission, repeated: PlaceOutcome | None = None) -> OrderPreview:
        """An admission as the wizard shows it, and what a repeated clientOrderId would answer."""
        f, symbol = admission.figures, admission.command.symbol
        # placeOrder answers a repeated clientOrderId before its later checks: the order placed then, or
        # DUPLICATE_CLIENT_ORDER_ID; the checks still show the rules as they stand now.
        errors = repeated.errors if repeated is not None else admission.errors
        checks = [
            RuleCheck(rule=c.rule, outcome=c.outcome, errors=[UserError.of(r) for r in c.rejections])
            for c in admission.checks
        ]
        quantity = admission.command.quantity
        return cls(
            accepted=repeated.order is not None if repeated is not None else admission.admitted,
            errors=[UserError.of(e) for e in errors],
            checks=checks,
            type=admission.priced.type if admission.priced else None,
            price=price_of(symbol, f.price) if f else None,
            quantity=quantity,
            notional=rounding.money(f.notional) if f else None,
            fees=FeeBreakdown.of(f.fees) if f else None,
            frozen_cash=rounding.money(f.frozen_cash) if f else None,
            frozen_quantity=f.frozen_quantity if f else None,
            available_before=rounding.money(f.available_before) if f else None,
            available_after=rounding.money(f.available_after) if f else None,
            max_quantity=f.max_quantity if f else None,
            existing_order=Order.from_view(repeated.order) if repeated and repeated.order else None,
        )
