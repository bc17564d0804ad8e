"""Inputs and payloads of the mutations. Business rejections travel in `errors`, never as exceptions."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum

import strawberry

from brokerql.domain.trading.cancels import CancelScope as DomainCancelScope
from brokerql.schema.errors import UserError
from brokerql.schema.types.client import Client
from brokerql.schema.types.trading import Order, OrderSide, OrderType, PriceLevel


@strawberry.enum(
    description="The account type a session acts for: CASH (stocks, ETFs, Stock Connect), MARGIN, FUTURES."
)
class AccountType(Enum):
    CASH = "CASH"
    MARGIN = "MARGIN"
    FUTURES = "FUTURES"


@strawberry.input(description="Credentials. otp and captcha are needed only when the server asks for them.")
class LoginInput:
    username: str = strawberry.field(description="Login name.")
    password: str = strawberry.field(description="Password.")
    otp: str | None = strawberry.field(default=None, description="Dynamic password (TOTP), when enrolled.")
    captcha_id: str | None = strawberry.field(default=None, description="Id of the captcha being answered.")
    captcha_answer: str | None = strawberry.field(default=None, description="The captcha's text.")
    account_type: AccountType | None = strawberry.field(
        default=None,
        description="The account type this session acts for; orders on other types are refused "
        "(ACCOUNT_TYPE_NOT_IN_SESSION) until switchAccount. Default: CASH, else MARGIN, else FUTURES.",
    )


@strawberry.type(description="Result of login: tokens on success, errors otherwise.")
class LoginPayload:
    access_token: str | None = strawberry.field(description="Bearer token for Authorization headers.")
    refresh_token: str | None = strawberry.field(description="Single-use token to get new tokens (refreshSession).")
    expires_in: int = strawberry.field(description="Seconds until the access token expires.")
    client: Client | None = strawberry.field(description="Who logged in.")
    errors: list[UserError] = strawberry.field(description="Why the login was refused, if it was.")


@strawberry.input(
    description="A new order. LIMIT takes exactly one of `price` or `priceLevel` (a flash order); MARKET takes "
    "neither. Both together, or MARKET with either, is BAD_USER_INPUT: a limit is never silently replaced."
)
class PlaceOrderInput:
    account_id: strawberry.ID = strawberry.field(description="The account to trade in.")
    symbol: str = strawberry.field(description="Instrument code, e.g. 600000.")
    side: OrderSide = strawberry.field(description="BUY or SELL.")
    type: OrderType = strawberry.field(description="LIMIT or MARKET.")
    quantity: int = strawberry.field(description="Shares (or contracts). Buys in whole lots.")
    price: Decimal | None = strawberry.field(default=None, description="Limit price, on the tick grid.")
    price_level: PriceLevel | None = strawberry.field(
        default=None, description="Price the order at this quote level now (e.g. ASK1: buy at the best ask)."
    )
    client_order_id: str | None = strawberry.field(
        default=None, description="Your idempotency key: the same key and order returns the same order."
    )
    time_in_force: str = strawberry.field(default="DAY", description="DAY (default), IOC or FOK.")
    risk_acknowledged: bool = strawberry.field(
        default=False,
        description="You read the risk warning of a product rated above your risk level and buy anyway "
        "(recorded in your client log). Without it such a buy is SUITABILITY_MISMATCH.",
    )


@strawberry.type(description="Result of placeOrder.")
class PlaceOrderPayload:
    order: Order | None = strawberry.field(description="The accepted order (null when rejected).")
    errors: list[UserError] = strawberry.field(
        description="Business rejections, e.g. LOT_SIZE, INSUFFICIENT_FUNDS, PRODUCT_NOT_ALLOWED, "
        "ACCOUNT_TYPE_NOT_IN_SESSION, BOARD_NOT_ELIGIBLE, SUITABILITY_MISMATCH, BAD_USER_INPUT.",
    )


CancelScope = strawberry.enum(
    DomainCancelScope, name="CancelScope", description="Which orders a cancel covers (D3 flexible cancel)."
)


@strawberry.input(description="Criteria for scope CONDITION; all given criteria must hold.")
class CancelConditionInput:
    side: OrderSide | None = strawberry.field(default=None, description="Only buys or only sells.")
    symbol: str | None = strawberry.field(default=None, description="Only this instrument.")
    min_price: Decimal | None = strawberry.field(default=None, description="Only orders priced at or above.")
    max_price: Decimal | None = strawberry.field(default=None, description="Only orders priced at or below.")
    placed_before: datetime | None = strawberry.field(default=None, description="Only orders placed before.")


@strawberry.input(description="Cancel working orders of an account.")
class CancelOrdersInput:
    account_id: strawberry.ID = strawberry.field(description="The account.")
    scope: CancelScope = strawberry.field(description="ONE, LAST, SYMBOL, SELECTED, CONDITION or ALL.")
    order_ids: list[strawberry.ID] | None = strawberry.field(default=None, description="For ONE and SELECTED.")
    symbol: str | None = strawberry.field(default=None, description="For SYMBOL.")
    side: OrderSide | None = strawberry.field(default=None, description="Narrows any bulk scope to one side.")
    condition: CancelConditionInput | None = strawberry.field(default=None, description="For CONDITION.")
    dry_run: bool = strawberry.field(default=False, description="Only list what would be cancelled.")


@strawberry.type(description="Result of cancelOrders.")
class CancelOrdersPayload:
    canceled: list[Order] = strawberry.field(
        description="Orders covered: CANCELED once the exchange confirmed, PENDING_CANCEL if it has not yet."
    )
    errors: list[UserError] = strawberry.field(description="Orders that could not be cancelled, and why.")


@strawberry.input(description="A refresh token from login.")
class RefreshSessionInput:
    refresh_token: str = strawberry.field(description="The refresh token; it is spent by this call.")
