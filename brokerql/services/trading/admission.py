"""Admission: every rule an order must pass, as one named sequence, on an account held in memory.

`Admitter.admit` runs the checks of `Admitter.checks` in order on the caller's account aggregate and,
when all pass, leaves the order accepted in memory with its cash (and shares) reserved. It writes
nothing: placing an order (`PlaceOrderService.place`), previewing one (`previewOrder`), the legs of a
basket and both sides of a paired order all call it, so they cannot disagree about a rule. A caller
that admits several orders on one account sees them reserve cumulatively (one basket's legs share
the account's cash).

The market context (tier, quotes, halts, venue liveness) is read before the transaction: none of it
needs the account's lock, and the bus must never be called under one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal

from brokerql.domain.common import OrderType, Rejection, Side
from brokerql.domain.compliance.admission import compliance_refusal
from brokerql.domain.entitlement_rules import order_entitlements
from brokerql.domain.identity.tiers import TRADING_FAST
from brokerql.domain.market.instruments import Instrument, validate_order
from brokerql.domain.market.sessions import phase_at
from brokerql.domain.trading.account import Account
from brokerql.domain.trading.baskets import LotRule
from brokerql.domain.trading.commands import PlaceOrder
from brokerql.domain.trading.gateway import refuse_without_venue
from brokerql.domain.trading.orders import Order, OrderPurpose, OrderRejected
from brokerql.domain.trading.price_levels import no_quote_at_level, resolve_price_level
from brokerql.domain.trading.products import price_instruction_refusal
from brokerql.domain.trading.wizard import OrderFigures, estimated_fees, max_quantity
from brokerql.services.products.credit_rules import CreditContext, CreditOrderRules
from brokerql.services.trading.accounts import fee_basis
from brokerql.services.trading.admission_records import (
    Admission,
    CheckOutcome,
    Entitlements,
    MarketContext,
    OrderLinks,
    Priced,
    RuleCheck,
    Snapshot,
)


@dataclass(eq=False)
class _Draft:
    """What the checks learn about the order as they run (each reads what earlier ones left)."""

    command: PlaceOrder
    account: Account
    market: MarketContext
    order_id: str
    links: OrderLinks
    with_figures: bool
    credit: CreditContext | None = None  # margin trading: holdings and lending pool, read in the transaction
    instrument: Instrument | None = None
    priced: Priced | None = None
    order: Order | None = None
    figures: OrderFigures | None = None


Check = Callable[[_Draft], list[Rejection]]


class Admitter:
    """The placement rules, run in the order of `checks`. A new rule is one more (name, method) pair."""

    def __init__(
        self,
        instruments: dict[str, Instrument],
        catalog: Entitlements,
        *,
        market_always_open: bool,
        credit_rules: CreditOrderRules | None = None,
    ) -> None:
        self.instruments, self.catalog, self.always_open = instruments, catalog, market_always_open
        self.credit_rules = credit_rules  # margin trading (C7); the product lines' one rule in admission

    @property
    def checks(self) -> tuple[tuple[str, Check], ...]:
        """The rules in the order they run; the wizard reports them under these names."""
        return (
            ("PRICE_INSTRUCTION", self._unambiguous),  # price or priceLevel, never both; MARKET takes neither
            ("ENTITLEMENT", self._entitled),  # the tier may trade on this account type (flash orders: fast)
            ("INSTRUMENT", self._known),  # the symbol exists
            ("HALT", self._not_halted),  # no operator halt (E3)
            ("COMPLIANCE", self._compliant),  # session account type, products, eligibility, suitability
            ("PRICE", self._priced),  # a limit price, or the quote level resolved now
            ("VENUE", self._venue),  # MARKET orders need a live exchange (LIMIT ones may queue)
            ("BOARD_RULES", self._board_rules),  # session, lot, tick, price limit and cage
            ("POSITION", self._sellable),  # sells: enough sellable shares (T+1); not futures, not short sales
            ("CREDIT", self._credit),  # margin credit orders: eligible list, lines, credit, lending pool, price rule
            ("FUNDS", self._reserve),  # reserve cash (fees included) and shares (the account type decides)
        )

    def admit(
        self,
        account: Account,
        command: PlaceOrder,
        market: MarketContext,
        *,
        order_id: str,
        links: OrderLinks = OrderLinks(),
        figures: bool = False,
        credit: CreditContext | None = None,
    ) -> Admission:
        """Run every check in order, stopping at the first that fails (the rest are SKIPPED). With
        `figures`, also work out the wizard's figures (they cost more than the checks themselves)."""
        draft = _Draft(command, account, market, order_id, links, figures, credit)
        admission = Admission(command)
        failed = False
        for rule, check in self.checks:
            if failed:
                admission.checks.append(RuleCheck(rule, CheckOutcome.SKIPPED))
                continue
            rejections = check(draft)
            failed = bool(rejections)
            outcome = CheckOutcome.FAILED if failed else CheckOutcome.PASSED
            admission.checks.append(RuleCheck(rule, outcome, tuple(rejections)))
        admission.priced, admission.figures = draft.priced, draft.figures
        admission.order = None if failed else draft.order
        return admission

    # -- the checks, in `checks` order --------------------------------------------------------------------

    def _unambiguous(self, draft: _Draft) -> list[Rejection]:
        command = draft.command
        refusal = price_instruction_refusal(command.type, command.price, command.price_level)
        return [refusal] if refusal is not None else []

    def _entitled(self, draft: _Draft) -> list[Rejection]:
        """The domain's rule: the entitlements trading on this account type (and a flash order) need."""
        flash = draft.market.direct_entry and draft.command.price_level is not None
        for key in order_entitlements(draft.account.type, flash=flash):
            if not self.catalog.grants(draft.market.tier, key):
                lowest = self.catalog.lowest_tier_granting(key)
                need = f"{key} ({lowest.value if lowest else 'no tier'} and up)"
                if key == TRADING_FAST:
                    return [Rejection("NOT_ENTITLED", f"A quote-linked (flash) order needs {need}.", "priceLevel")]
                return [Rejection("NOT_ENTITLED", f"Trading here needs {need}.")]
        return []

    def _compliant(self, draft: _Draft) -> list[Rejection]:
        """The domain's compliance sequence (`domain/compliance/admission.py`)."""
        assert draft.instrument is not None
        refusal = compliance_refusal(
            session_account_type=draft.market.session_account_type, account_type=draft.account.type,
            symbol=draft.instrument.symbol, board=draft.instrument.board, side=draft.command.side,
            facts=draft.market.facts, risk_acknowledged=draft.command.risk_acknowledged,
        )  # fmt: skip
        return [refusal] if refusal is not None else []

    def _known(self, draft: _Draft) -> list[Rejection]:
        draft.instrument = self.instruments.get(draft.command.symbol)
        if draft.instrument is None:
            return [Rejection("UNKNOWN_SYMBOL", f"No instrument {draft.command.symbol}.", "symbol")]
        return []

    def _not_halted(self, draft: _Draft) -> list[Rejection]:
        refusal = draft.market.halts.refusal(draft.command.symbol)
        return [refusal] if refusal is not None else []

    def _priced(self, draft: _Draft) -> list[Rejection]:
        priced = price_command(draft.command, draft.market.snapshots.get(draft.command.symbol))
        if isinstance(priced, Rejection):
            return [priced]
        draft.priced = priced
        self._candidate(draft)
        return []

    def _venue(self, draft: _Draft) -> list[Rejection]:
        assert draft.priced is not None
        refusal = refuse_without_venue(draft.priced.type, draft.market.venue_live)
        return [refusal] if refusal is not None else []

    def _board_rules(self, draft: _Draft) -> list[Rejection]:
        assert draft.instrument is not None and draft.priced is not None
        command = draft.command
        return validate_order(
            draft.instrument,
            command.side,
            draft.priced.type,
            draft.priced.price,
            command.quantity,
            phase=phase_at(draft.instrument.board, draft.market.now, always_open=self.always_open),
            reference_price=draft.priced.reference,
            sellable_quantity=_sellable_of(draft),
        )

    def _sellable(self, draft: _Draft) -> list[Rejection]:
        sellable = _sellable_of(draft)
        if sellable is not None and draft.command.side is Side.SELL and draft.command.quantity > sellable:
            return [Rejection("INSUFFICIENT_POSITION", f"Only {sellable} sellable today.", "quantity")]
        return []

    def _credit(self, draft: _Draft) -> list[Rejection]:
        if draft.command.purpose is OrderPurpose.NORMAL:
            return []
        assert draft.order is not None and draft.priced is not None
        if self.credit_rules is None:
            return [Rejection("NOT_AVAILABLE", "Margin trading is not available here.", "purpose")]
        refused = self.credit_rules.refusal(draft.account, draft.order, draft.credit, draft.priced.reference)
        return [refused] if refused is not None else []

    def _reserve(self, draft: _Draft) -> list[Rejection]:
        assert draft.order is not None and draft.instrument is not None and draft.priced is not None
        protective = protective_price(draft.instrument, draft.priced)
        basis = fee_basis(draft.instrument)
        event = draft.account.accept(draft.order, ts=draft.market.now, protective_price=protective, basis=basis)
        if isinstance(event, OrderRejected):
            return [Rejection(event.code, event.reason, "quantity")]
        if draft.figures is not None:  # what the account type's own rule set aside (futures margin, credit)
            after = draft.account.funds.available
            draft.figures = replace(
                draft.figures, frozen_cash=draft.figures.available_before - after, available_after=after
            )
        return []

    # -- the order and its figures ------------------------------------------------------------------------

    def _candidate(self, draft: _Draft) -> None:
        """The order as it would be placed, and the wizard's figures for it (once it has a price)."""
        command, instrument, priced, account = draft.command, draft.instrument, draft.priced, draft.account
        assert instrument is not None and priced is not None
        if isinstance(command.quantity, bool) or not isinstance(command.quantity, int) or command.quantity <= 0:
            return  # BOARD_RULES says BAD_QUANTITY; there is no order to figure
        now = draft.market.now
        order = Order(
            id=draft.order_id,
            account_id=account.id,
            symbol=command.symbol,
            side=command.side,
            type=priced.type,
            price=priced.price,
            quantity=command.quantity,
            created_at=now,
            updated_at=now,
            client_order_id=command.client_order_id,
            time_in_force=command.time_in_force,
            basket_run_id=draft.links.basket_run_id,
            pair_id=draft.links.pair_id,
            purpose=command.purpose,
        )
        draft.order = order
        if not draft.with_figures:
            return
        protective, basis = protective_price(instrument, priced), fee_basis(instrument)
        frozen = account.freeze_needed(order, protective_price=protective, basis=basis)
        # Fees at the price the order trades at in full; a market order at the protective price (buys,
        # what they freeze) or the last price (sells).
        at = priced.price or (protective if command.side is Side.BUY else priced.reference)
        lots = LotRule(instrument.lot_size, instrument.buy_increment)
        available = account.funds.available
        draft.figures = OrderFigures(
            price=at,
            notional=(at or Decimal(0)) * command.quantity,
            fees=estimated_fees(account.fee_schedule, command.side, at, command.quantity, basis),
            frozen_cash=frozen,
            frozen_quantity=command.quantity if command.side is Side.SELL else 0,
            available_before=available,
            available_after=available - frozen,
            max_quantity=max_quantity(account, command.symbol, command.side, at, lots, basis, ts=now),
        )


def _sellable_of(draft: _Draft) -> int | None:
    """Shares a sell may take; None where a sell needs none (futures: it opens a short or closes a long;
    a margin account's short sale: the shares are borrowed)."""
    if not draft.account.sells_from_shares(draft.command.purpose):
        return None
    return draft.account.position(draft.command.symbol).sellable_quantity


def price_command(command: PlaceOrder, snapshot: Snapshot) -> Priced | Rejection:
    """The order's type and price: a quote level (flash order) is priced from the book as a LIMIT."""
    if isinstance(snapshot, Rejection):
        return snapshot
    reference = Decimal(snapshot["last"]) if snapshot and snapshot.get("last") else None
    order_type, price = command.type, command.price
    if command.price_level is not None:
        book = snapshot or {"bids": [], "asks": []}
        bids = [(Decimal(p), q) for p, q, _n in book["bids"]]
        asks = [(Decimal(p), q) for p, q, _n in book["asks"]]
        price = resolve_price_level(command.price_level, bids, asks, reference)
        if price is None:
            return no_quote_at_level(command.price_level)
        order_type = OrderType.LIMIT
    if order_type is not OrderType.LIMIT:
        return Priced(order_type, None, reference)
    if price is None or price <= 0:
        return Rejection("BAD_PRICE", "A limit order needs a positive price (or a priceLevel).", "price")
    return Priced(order_type, price, reference)


def protective_price(instrument: Instrument, priced: Priced) -> Decimal | None:
    """Market buys freeze cash at the highest price they could trade: the limit-up price, or for boards
    without limits a wide band over the reference price."""
    if priced.type is OrderType.LIMIT:
        return None
    if instrument.limit_up is not None:
        return instrument.limit_up
    reference = priced.reference or instrument.prev_close
    return instrument.price_up(reference * Decimal("1.5"))
