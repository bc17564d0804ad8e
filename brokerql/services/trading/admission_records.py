"""What admission reads and what it answers (services/trading/admission.py runs the rules).

`MarketContext` is what the caller reads before the account's transaction; `Admission` is the outcome:
every rule as it applied (`RuleCheck`), and the order accepted in memory when all passed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol

from brokerql.domain.common import OrderType, Rejection
from brokerql.domain.compliance.suitability import ClientFacts
from brokerql.domain.identity.tiers import TierCode
from brokerql.domain.operations.halts import Halts
from brokerql.domain.trading.commands import PlaceOrder
from brokerql.domain.trading.orders import Order
from brokerql.domain.trading.wizard import OrderFigures

Snapshot = dict[str, Any] | Rejection | None  # a quote snapshot, MARKET_DATA_UNAVAILABLE, or none yet


class Entitlements(Protocol):
    """The tier catalog: which tier grants an entitlement key."""

    def grants(self, tier_code: TierCode, key: str) -> bool: ...
    def lowest_tier_granting(self, key: str) -> TierCode | None: ...


@dataclass(frozen=True, slots=True)
class MarketContext:
    """What admission reads outside the account's transaction."""

    tier: TierCode
    snapshots: Mapping[str, Snapshot]
    halts: Halts
    venue_live: bool
    now: datetime
    facts: ClientFacts  # the client's risk level, assets, experience and grants (compliance)
    session_account_type: str | None = None  # the type the caller's session acts for (None: no session)
    # The client enters these orders itself (placeOrder, previewOrder): a quote-linked one is then a flash
    # order (trading.fast). Features that price legs from quote levels under their own entitlement
    # (basket top-ups, parked orders firing) are not flash order entry.
    direct_entry: bool = True
    # Margin trading (C7): collateral prices for credit orders, read with the quotes (None otherwise).
    credit_prices: Mapping[str, Decimal] | None = None


@dataclass(frozen=True, slots=True)
class Priced:
    """An order's type and price once its quote level (if any) is resolved."""

    type: OrderType
    price: Decimal | None
    reference: Decimal | None  # the last trade price: the price cage and market-buy protection use it


@dataclass(frozen=True, slots=True)
class OrderLinks:
    """What an order belongs to beyond its account: a basket run, a paired order."""

    basket_run_id: str | None = None
    pair_id: str | None = None


class CheckOutcome(StrEnum):
    PASSED = "PASSED"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"  # an earlier check failed, so this one did not run


@dataclass(frozen=True, slots=True)
class RuleCheck:
    """One rule as it applied to the order: its name, outcome and the rejections when it failed."""

    rule: str
    outcome: CheckOutcome
    rejections: tuple[Rejection, ...] = ()


@dataclass(eq=False)
class Admission:
    """The outcome of admitting one order: every check, the order when all passed, and its figures."""

    command: PlaceOrder
    checks: list[RuleCheck] = field(default_factory=list)
    order: Order | None = None  # accepted in memory (NEW, cash reserved) when every check passed
    priced: Priced | None = None
    figures: OrderFigures | None = None

    @property
    def admitted(self) -> bool:
        return self.order is not None

    @property
    def errors(self) -> list[Rejection]:
        """The rejections of the first failed check (what placeOrder answers)."""
        return next((list(c.rejections) for c in self.checks if c.outcome is CheckOutcome.FAILED), [])

    def passed(self, rule: str) -> bool:
        return any(c.rule == rule and c.outcome is CheckOutcome.PASSED for c in self.checks)
