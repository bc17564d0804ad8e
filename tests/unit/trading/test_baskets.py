"""Basket rules without I/O: scaling by multiplier and by amount, lot rounding per board, weights, the
run's completion and status, what a top-up resubmits, and the wizard's affordable quantity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from brokerql.domain.market.instruments import DEMO_INSTRUMENTS
from brokerql.domain.trading.basket_runs import (
    RUN_ACTIONS,
    LegOrder,
    RunAction,
    RunLegTarget,
    RunStatus,
    refuse_action,
    run_progress,
    top_up_quantities,
)
from brokerql.domain.trading.baskets import (
    MAX_ORDER_QUANTITY,
    Basket,
    BasketLeg,
    LotRule,
    Scaling,
    scale_legs,
    scaling_rejection,
    validate_basket,
)
from brokerql.domain.trading.fees import DEFAULT_SCHEDULE, FeeBasis, estimate_buy_freeze
from brokerql.domain.trading.orders import OrderStatus
from brokerql.domain.trading.wizard import max_buy_quantity

D = Decimal
LOTS = {s: LotRule(i.lot_size, i.buy_increment) for s, i in DEMO_INSTRUMENTS.items()}
T0 = datetime(2026, 11, 30, 2, tzinfo=UTC)


def basket(*legs: BasketLeg, default_amount: Decimal | None = None) -> Basket:
    return Basket("bsk_1", "cli_1", "test", tuple(legs), default_amount=default_amount)


def quantities(b: Basket, scaling: Scaling, prices: dict[str, Decimal] | None = None) -> dict[str, int]:
    return {leg.symbol: leg.quantity for leg in scale_legs(b, scaling, prices or {}, LOTS)}


def test_a_multiplier_scales_each_leg_and_rounds_down_to_its_boards_lot() -> None:
    b = basket(BasketLeg("600000", 100), BasketLeg("688981", 200), BasketLeg("00700", 100), BasketLeg("IF2612", 1))
    # SSE 250 -> 200 (lots of 100); STAR 500 (200 then steps of 1); HK 250 -> 200; futures 2.5 -> 2 contracts
    assert quantities(b, Scaling(multiplier=D("2.5"))) == {"600000": 200, "688981": 500, "00700": 200, "IF2612": 2}
    assert quantities(b, Scaling()) == {"600000": 100, "688981": 200, "00700": 100, "IF2612": 1}  # multiplier 1


def test_an_amount_scales_the_basket_by_its_value_at_the_leg_prices() -> None:
    b = basket(BasketLeg("600000", 100), BasketLeg("000001", 300))
    prices = {"600000": D("13.50"), "000001": D("11.50")}  # one unit costs 1350 + 3450 = 4800
    # 100,000 buys 20.83 units: 2083.3 -> 2000 and 6250 -> 6200
    assert quantities(b, Scaling(amount=D("100000")), prices) == {"600000": 2000, "000001": 6200}


def test_weights_share_the_amount_and_a_leg_under_one_lot_is_refused_as_an_odd_lot() -> None:
    b = basket(BasketLeg("600000", weight=D(3)), BasketLeg("600519", weight=D(1)))
    prices = {"600000": D("13.50"), "600519": D("1450")}
    scaled = scale_legs(b, Scaling(amount=D("100000")), prices, LOTS)
    # 75,000 / 13.50 = 5555.6 -> 5500; 25,000 / 1450 = 17.2 shares: less than one lot of 100
    assert [(leg.symbol, leg.quantity) for leg in scaled] == [("600000", 5500), ("600519", 0)]
    assert scaled[0].rejection is None and scaled[1].rejection is not None
    assert scaled[1].rejection.code == "LOT_SIZE"


def test_a_weight_basket_needs_an_amount_and_its_default_amount_scales_with_the_multiplier() -> None:
    b = basket(BasketLeg("600000", weight=D(1)))
    assert scaling_rejection(b, Scaling(multiplier=D(2))) is not None
    with_default = basket(BasketLeg("600000", weight=D(1)), default_amount=D("27000"))
    assert scaling_rejection(with_default, Scaling(multiplier=D(2))) is None
    assert quantities(with_default, Scaling(multiplier=D(2)), {"600000": D("13.50")}) == {"600000": 4000}
    assert scaling_rejection(b, Scaling(multiplier=D(1), amount=D(1))).code == "BAD_SCALING"


def test_a_basket_definition_is_checked_leg_by_leg() -> None:
    legs = [BasketLeg("600000", 100), BasketLeg("600000", weight=D(1)), BasketLeg("NOPE", 100), BasketLeg("000001")]
    codes = {e.code for e in validate_basket("", legs, DEMO_INSTRUMENTS, default_quantity=None, default_amount=None)}
    assert codes == {"BAD_NAME", "MIXED_LEGS", "DUPLICATE_LEG", "UNKNOWN_SYMBOL", "BAD_LEG"}
    ok = [BasketLeg("600000", 100), BasketLeg("000001")]
    assert validate_basket("mine", ok, DEMO_INSTRUMENTS, default_quantity=200, default_amount=None) == []


@given(
    lot=st.sampled_from([1, 100, 200, 500]),
    increment=st.sampled_from([None, 1]),
    exact=st.decimals(min_value=0, max_value=10**7, places=3, allow_nan=False, allow_infinity=False),
)
def test_rounding_gives_a_valid_quantity_within_one_step_below_the_target(lot, increment, exact) -> None:  # type: ignore[no-untyped-def]
    rule = LotRule(lot, increment)
    q = rule.round_down(exact)
    step = increment or lot
    assert q <= exact
    if q == 0:
        assert exact < lot
    else:
        assert q >= lot and (q - lot) % step == 0 and exact - q < step


@given(
    units=st.lists(st.integers(min_value=1, max_value=5000), min_size=1, max_size=4),
    cents=st.lists(st.integers(min_value=100, max_value=200_000), min_size=4, max_size=4),
    amount=st.integers(min_value=1_000, max_value=10_000_000),
)
def test_scaling_to_an_amount_never_spends_more_than_the_amount(units, cents, amount) -> None:  # type: ignore[no-untyped-def]
    symbols = ["600000", "000001", "688981", "00700"][: len(units)]
    b = basket(*(BasketLeg(s, u) for s, u in zip(symbols, units, strict=False)))
    prices = {s: D(c) / 100 for s, c in zip(symbols, cents, strict=False)}
    scaled = scale_legs(b, Scaling(amount=D(amount)), prices, LOTS)
    assert sum(leg.quantity * prices[leg.symbol] for leg in scaled) <= amount
    for leg in scaled:
        assert leg.quantity == LOTS[leg.symbol].round_down(leg.exact)


def order(symbol: str, status: OrderStatus, quantity: int, filled: int, leaves: int, minutes: int = 0) -> LegOrder:
    return LegOrder(
        id=f"ord_{symbol}_{minutes}",
        symbol=symbol,
        status=status,
        quantity=quantity,
        cum_qty=filled,
        leaves_qty=leaves,
        notional=D("10") * filled,
        created_at=T0 + timedelta(minutes=minutes),
    )


TARGETS = [RunLegTarget(s, q, D("10")) for s, q in (("600000", 300), ("000001", 200), ("688981", 400))]


def test_completion_per_leg_and_in_total_and_the_run_status() -> None:
    working = [
        order("600000", OrderStatus.FILLED, 300, 300, 0),
        order("000001", OrderStatus.PARTIALLY_FILLED, 200, 50, 150),
        order("688981", OrderStatus.NEW, 400, 0, 400),
    ]
    progress = run_progress(TARGETS, working)
    assert progress.status is RunStatus.WORKING
    assert [leg.filled_quantity for leg in progress.legs] == [300, 50, 0]
    assert progress.filled_quantity == 350 and progress.quantity == 900
    assert progress.filled_ratio == D(350) / 900 and progress.filled_value == D(3500) and progress.value == D(9000)
    assert top_up_quantities(progress, LOTS) == {}  # working legs still have their remainder on the book
    assert RUN_ACTIONS[progress.status] == {RunAction.CANCEL, RunAction.TOP_UP}


def test_a_cancelled_run_is_stopped_and_a_top_up_resubmits_each_remainder_to_its_lot() -> None:
    stopped = [
        order("600000", OrderStatus.FILLED, 300, 300, 0),
        order("000001", OrderStatus.CANCELED, 200, 50, 0),
        order("688981", OrderStatus.CANCELED, 400, 199, 0),
    ]
    progress = run_progress(TARGETS, stopped)
    assert progress.status is RunStatus.STOPPED
    assert refuse_action(progress.status, RunAction.CANCEL).code == "NOTHING_WORKING"
    # 000001: 150 left -> 100 (lots of 100); STAR: 201 left -> 201 (200, then steps of 1)
    assert top_up_quantities(progress, LOTS) == {"000001": 100, "688981": 201}
    topped = [
        *stopped,
        order("000001", OrderStatus.FILLED, 100, 100, 0, minutes=5),
        order("688981", OrderStatus.FILLED, 201, 201, 0, minutes=5),
    ]
    after = run_progress(TARGETS, topped)
    assert after.status is RunStatus.STOPPED and after.legs[1].remainder == 50  # an odd 50 can never be bought
    assert [o.id for o in after.legs[1].orders] == ["ord_000001_0", "ord_000001_5"]
    assert top_up_quantities(after, LOTS) == {}


def test_a_run_whose_legs_all_filled_allows_nothing_more() -> None:
    filled = [order(t.symbol, OrderStatus.FILLED, t.quantity, t.quantity, 0) for t in TARGETS]
    progress = run_progress(TARGETS, filled)
    assert progress.status is RunStatus.FILLED and progress.filled_ratio == 1
    assert refuse_action(progress.status, RunAction.TOP_UP).code == "RUN_FILLED"


@given(
    cents=st.integers(min_value=1, max_value=500_000),
    available=st.integers(min_value=0, max_value=5_000_000),
    rule=st.sampled_from([LotRule(100), LotRule(200, 1), LotRule(1)]),
)
def test_the_most_affordable_quantity_fits_and_one_step_more_does_not(cents, available, rule) -> None:  # type: ignore[no-untyped-def]
    price, cash, basis = D(cents) / 100, D(available), FeeBasis()
    q = max_buy_quantity(price, cash, rule, DEFAULT_SCHEDULE, basis)
    step = rule.increment or rule.lot_size
    if q:
        assert estimate_buy_freeze(price, q, DEFAULT_SCHEDULE, basis) <= cash
    next_quantity = q + step if q else rule.lot_size
    if next_quantity <= MAX_ORDER_QUANTITY:  # else one order may not hold more anyway
        assert estimate_buy_freeze(price, next_quantity, DEFAULT_SCHEDULE, basis) > cash


def test_events_carry_the_run_id_through_the_codec_and_older_events_still_read() -> None:
    from brokerql.bus import codec
    from brokerql.domain.trading.messages import AccountEvent, AccountEventKind

    event = AccountEvent(account_id="acc_1", seq=7, kind=AccountEventKind.FILL, at=T0, basket_run_id="brn_1")
    assert codec.decode(codec.encode(event)) == event
    record = codec.to_record(event)
    del record["data"]["basket_run_id"]  # stored before runs existed
    old = codec.from_record(record)
    assert isinstance(old, AccountEvent) and old.basket_run_id is None and old.seq == 7


def test_sizes_stay_in_range_whatever_the_client_asks() -> None:
    b = basket(BasketLeg("600000", 2_000_000_000))
    assert scaling_rejection(b, Scaling(multiplier=D(10**6))).code == "BAD_SCALING"
    assert scaling_rejection(b, Scaling(amount=D(10**15))).code == "BAD_SCALING"
    (leg,) = scale_legs(b, Scaling(multiplier=D(10)), {}, LOTS)
    assert leg.quantity == 0 and leg.rejection.code == "BAD_QUANTITY"
    rich = max_buy_quantity(D("0.01"), D(10**12), LotRule(100), DEFAULT_SCHEDULE, FeeBasis())
    assert rich == MAX_ORDER_QUANTITY
