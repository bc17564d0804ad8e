"""Basket runs (C4): submit a basket (or preview it), follow its completion, cancel the rest, top up.

A submission prices every leg (one quote level, or a limit per leg), sizes it (the domain's
`scale_legs`), then admits all legs through the shared placement path in one transaction: all are
placed or none (`baskets.REJECTION_POLICY`). A preview runs the very same admission and writes
nothing, so what it shows is what a submission then places (at an unchanged book). Every leg's order
carries the run id, and so does every event of it on `orderEvents`. Cancelling a run is a
`cancelOrders` of its working legs (scope SELECTED); a top-up places each stopped leg's remainder at
a new quote level, linked to the same run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select

from brokerql.domain.clock import Clock
from brokerql.domain.common import OrderType, Rejection, Side
from brokerql.domain.market.instruments import Instrument
from brokerql.domain.trading.basket_runs import (
    RunAction,
    refuse_action,
    top_up_quantities,
)
from brokerql.domain.trading.baskets import (
    Basket,
    LotRule,
    ScaledLeg,
    SubmitBasket,
    pricing_rejection,
    scale_legs,
    scaling_rejection,
)
from brokerql.domain.trading.cancels import CancelScope
from brokerql.domain.trading.commands import CancelOrders, PlaceOrder
from brokerql.domain.trading.orders import Order
from brokerql.domain.trading.price_levels import PriceLevel
from brokerql.services.trading.admission import price_command
from brokerql.services.trading.admission_records import Admission, OrderLinks
from brokerql.services.trading.basket_run_views import BasketRunView, run_views
from brokerql.services.trading.baskets import NO_BASKET, BasketService
from brokerql.services.trading.cancel_orders import CancelOrdersService
from brokerql.services.trading.place_order import PlaceOrderService
from brokerql.store.accounts import LoadedAccount
from brokerql.store.columns import new_id
from brokerql.store.database import Database, UnitOfWork
from brokerql.store.tables_baskets import BasketRunRow

NO_RUN = Rejection("NOT_FOUND", "No such basket run.", "id")
RUN_CHANGED = Rejection("RUN_CHANGED", "The run was topped up meanwhile; look at it again.", "id")
CANCEL_PENDING = Rejection("CANCEL_PENDING", "Every working leg already has a cancel pending.", "id")


class _RunChanged(Exception):
    """Another top-up of the run committed first: roll this one back."""


@dataclass(frozen=True, slots=True)
class LegPlan:
    """One leg of a submission as sized and admitted: its figures and checks, or why it is refused."""

    symbol: str
    exact: Decimal
    quantity: int
    price: Decimal | None
    admission: Admission | None
    rejections: tuple[Rejection, ...]

    @property
    def accepted(self) -> bool:
        return not self.rejections


@dataclass
class RunOutcome:
    """A run (submitted, cancelled or topped up), the per-leg plan of a preview or refusal, or errors."""

    run: BasketRunView | None = None
    plan: list[LegPlan] = field(default_factory=list)
    errors: list[Rejection] = field(default_factory=list)


class BasketRunService:
    """Submitting, previewing, reading, cancelling and topping up basket runs."""

    def __init__(
        self,
        db: Database,
        instruments: dict[str, Instrument],
        baskets: BasketService,
        place: PlaceOrderService,
        cancel: CancelOrdersService,
        clock: Clock,
    ) -> None:
        self.db, self.instruments, self.baskets = db, instruments, baskets
        self.place, self.cancel, self.clock = place, cancel, clock

    async def submit(
        self, client_id: str, command: SubmitBasket, *, session_account_type: str | None = None
    ) -> RunOutcome:
        """Preview (`command.preview`) or place every leg, all or none (`session_account_type`: the type
        the caller's session acts for; legs on another type's account are refused)."""
        basket = await self.baskets.basket(client_id, command.basket_id)
        if basket is None:
            return RunOutcome(errors=[NO_BASKET])
        refused = [r for r in [scaling_rejection(basket, command.scaling)] if r] + pricing_rejection(basket, command)
        prices = await self._prices(client_id, basket, command) if not refused else {}
        if isinstance(prices, list):
            refused = prices
        if refused:
            return RunOutcome(errors=refused)
        assert isinstance(prices, dict)
        scaled = scale_legs(basket, command.scaling, prices, self._lots([leg.symbol for leg in basket.legs]))
        commands = [
            _leg_command(
                command.account_id,
                command.side,
                leg.symbol,
                leg.quantity,
                leg.price,
                acknowledged=command.risk_acknowledged,
            )
            for leg in scaled
            if leg.quantity
        ]
        odd_lots = any(leg.rejection for leg in scaled)
        if command.preview or odd_lots:
            preview = await self.place.preview_all(
                client_id, command.account_id, commands, session_account_type=session_account_type
            )
            plan = _plan(scaled, preview.admissions)
            return RunOutcome(plan=plan, errors=preview.errors or _leg_errors(plan))  # what a submission would answer
        run_id = new_id("brn")

        async def store_run(uow: UnitOfWork, loaded: LoadedAccount, orders: list[Order]) -> None:
            legs = [{"symbol": leg.symbol, "quantity": leg.quantity, "price": str(leg.price)} for leg in scaled]
            now = self.clock.now()
            uow.session.add(
                BasketRunRow(
                    id=run_id,
                    basket_id=basket.id,
                    basket_name=basket.name,
                    client_id=client_id,
                    account_id=loaded.row.id,
                    side=command.side.value,
                    legs=legs,
                    created_at=now,
                    updated_at=now,
                )
            )

        links = OrderLinks(basket_run_id=run_id)
        placed = await self.place.place_all(
            client_id, command.account_id, commands, links=links, before_commit=store_run, figures=True,
            session_account_type=session_account_type,
        )  # fmt: skip
        if not placed.placed:
            plan = _plan(scaled, placed.admissions)
            return RunOutcome(plan=plan, errors=placed.errors or _leg_errors(plan))
        return RunOutcome(run=await self.run(client_id, run_id), plan=_plan(scaled, placed.admissions))

    async def run(self, client_id: str, run_id: str) -> BasketRunView | None:
        """The run with its progress now (None when it is not the client's)."""
        async with self.db.read() as session:
            row = await session.get(BasketRunRow, run_id)
            if row is None or row.client_id != client_id:
                return None
            views = await run_views(session, [row])
        return views[0]

    async def runs(self, client_id: str, account_id: str, *, before_id: str | None, limit: int) -> list[BasketRunView]:
        """The client's runs in an account, newest first, `limit` of them before `before_id`."""
        query = select(BasketRunRow).where(BasketRunRow.client_id == client_id, BasketRunRow.account_id == account_id)
        if before_id is not None:
            query = query.where(BasketRunRow.id < before_id)
        async with self.db.read() as session:
            rows = list((await session.scalars(query.order_by(BasketRunRow.id.desc()).limit(limit))).all())
            return await run_views(session, rows)

    async def cancel_run(self, client_id: str, run_id: str) -> RunOutcome:
        """Cancel every working leg of the run (a cancelOrders of them, scope SELECTED)."""
        view = await self.run(client_id, run_id)
        if view is None:
            return RunOutcome(errors=[NO_RUN])
        refused = refuse_action(view.progress.status, RunAction.CANCEL)
        if refused is not None:
            return RunOutcome(view, errors=[refused])
        working = tuple(o.id for leg in view.progress.legs for o in leg.orders if o.status.is_cancelable)
        if not working:
            return RunOutcome(view, errors=[CANCEL_PENDING])
        command = CancelOrders(account_id=view.account_id, scope=CancelScope.SELECTED, order_ids=working)
        outcome = await self.cancel.cancel(client_id, command)
        return RunOutcome(await self.run(client_id, run_id), errors=outcome.errors)

    async def top_up(
        self,
        client_id: str,
        run_id: str,
        price_level: PriceLevel,
        *,
        session_account_type: str | None = None,
        acknowledged: bool = False,
    ) -> RunOutcome:
        """Place each stopped leg's remainder (to its lot) at `price_level`, linked to the run; all or none."""
        view = await self.run(client_id, run_id)
        if view is None:
            return RunOutcome(errors=[NO_RUN])
        refused = refuse_action(view.progress.status, RunAction.TOP_UP)
        lots = self._lots([leg.symbol for leg in view.progress.legs])
        quantities = top_up_quantities(view.progress, lots) if refused is None else {}
        if refused is None and not quantities:
            refused = Rejection("NOTHING_TO_TOP_UP", "No stopped leg has a whole lot left to place.", "id")
        if refused is not None:
            return RunOutcome(view, errors=[refused])
        commands = [
            _leg_command(view.account_id, view.side, s, q, None, price_level, acknowledged)
            for s, q in quantities.items()
        ]

        async def count_top_up(uow: UnitOfWork, loaded: LoadedAccount, orders: list[Order]) -> None:
            # Under the account's lock: a top-up that committed since `view` was read sized the same
            # remainders, so placing them again would buy them twice.
            row = await uow.session.get(BasketRunRow, run_id)
            if row is None or row.top_ups != view.top_ups:
                raise _RunChanged
            row.top_ups, row.updated_at = row.top_ups + 1, self.clock.now()

        links = OrderLinks(basket_run_id=run_id)
        try:
            placed = await self.place.place_all(
                client_id, view.account_id, commands, links=links, before_commit=count_top_up,
                session_account_type=session_account_type,
            )  # fmt: skip
        except _RunChanged:
            return RunOutcome(await self.run(client_id, run_id), errors=[RUN_CHANGED])
        index = {leg.symbol: i for i, leg in enumerate(view.progress.legs)}
        errors = placed.errors or [
            _leg_error(a.command.symbol, index[a.command.symbol], e) for a in placed.admissions for e in a.errors
        ]
        return RunOutcome(await self.run(client_id, run_id), errors=errors)

    async def _prices(
        self, client_id: str, basket: Basket, command: SubmitBasket
    ) -> dict[str, Decimal] | list[Rejection]:
        """Each leg's order price: its own limit, or the quote level resolved now."""
        if command.price_level is None:
            return {symbol: price for symbol, price in command.prices}
        symbols = [leg.symbol for leg in basket.legs]
        market = await self.place.market_context(client_id, symbols)
        prices: dict[str, Decimal] = {}
        errors: list[Rejection] = []
        for i, symbol in enumerate(symbols):
            probe = _leg_command(command.account_id, command.side, symbol, 0, None, command.price_level)
            priced = price_command(probe, market.snapshots.get(symbol))
            if isinstance(priced, Rejection):
                errors.append(_leg_error(symbol, i, priced))
            elif priced.price is not None:
                prices[symbol] = priced.price
        return errors or prices

    def _lots(self, symbols: list[str]) -> dict[str, LotRule]:
        instruments = (self.instruments[symbol] for symbol in symbols)
        return {i.symbol: LotRule(i.lot_size, i.buy_increment) for i in instruments}


def _leg_command(
    account_id: str,
    side: Side,
    symbol: str,
    quantity: int,
    price: Decimal | None,
    level: PriceLevel | None = None,
    acknowledged: bool = False,
) -> PlaceOrder:
    """A leg's order: a LIMIT at its price, or priced at a quote level by the admission."""
    return PlaceOrder(
        risk_acknowledged=acknowledged,
        account_id=account_id,
        symbol=symbol,
        side=side,
        type=OrderType.LIMIT,
        quantity=quantity,
        price=price,
        price_level=level,
    )


def _plan(scaled: list[ScaledLeg], admissions: list[Admission]) -> list[LegPlan]:
    """Each scaled leg with its admission (legs that rounded to nothing were not admitted)."""
    by_symbol = {a.command.symbol: a for a in admissions}
    plan = []
    for leg in scaled:
        admission = by_symbol.get(leg.symbol)
        rejections = [r for r in [leg.rejection] if r is not None]
        if admission is not None and not admission.admitted:
            rejections += admission.errors
        plan.append(LegPlan(leg.symbol, leg.exact, leg.quantity, leg.price, admission, tuple(rejections)))
    return plan


def _leg_error(symbol: str, index: int, rejection: Rejection) -> Rejection:
    field = f"legs[{index}].{rejection.field}" if rejection.field else f"legs[{index}]"
    return Rejection(rejection.code, f"{symbol}: {rejection.message}", field)


def _leg_errors(plan: list[LegPlan]) -> list[Rejection]:
    return [_leg_error(leg.symbol, i, r) for i, leg in enumerate(plan) for r in leg.rejections]
