"""Fee math: minimum commission, stamp duty on sells only, transfer fee, rounding and freezes."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from brokerql.domain.common import Side
from brokerql.domain.trading import (
    DEFAULT_SCHEDULE,
    FeeBasis,
    Fees,
    FeeSchedule,
    estimate_buy_freeze,
    sell_fee_buffer,
)

D = Decimal


def test_small_buy_pays_the_minimum_commission_and_no_stamp_duty():
    fees = DEFAULT_SCHEDULE.fees(Side.BUY, D("1000.00"))  # 100 x 10.00
    assert fees == Fees(commission=D("5"), stamp_duty=D("0"), transfer_fee=D("0.01"))
    assert fees.total == D("5.01")


def test_large_sell_pays_rate_commission_stamp_duty_and_transfer_fee():
    fees = DEFAULT_SCHEDULE.fees(Side.SELL, D("100000.00"))
    assert fees == Fees(D("25.00"), D("50.00"), D("1.00"))
    assert fees.total == D("76.00")


def test_stamp_duty_only_on_sells():
    notional = D("54321.00")
    assert DEFAULT_SCHEDULE.fees(Side.BUY, notional).stamp_duty == 0
    assert DEFAULT_SCHEDULE.fees(Side.SELL, notional).stamp_duty == D("27.16")  # 27.1605


def test_each_component_rounds_half_up_to_cents():
    # 0.00025 x 30002 = 7.5005 -> 7.50; 0.0005 x 30010 = 15.005 -> 15.01; 0.00001 x 50000 = 0.50
    assert DEFAULT_SCHEDULE.fees(Side.BUY, D("30002")).commission == D("7.50")
    assert DEFAULT_SCHEDULE.fees(Side.SELL, D("30010")).stamp_duty == D("15.01")
    assert DEFAULT_SCHEDULE.fees(Side.BUY, D("500")).transfer_fee == D("0.01")  # 0.005 -> 0.01
    assert DEFAULT_SCHEDULE.fees(Side.BUY, D("499")).transfer_fee == D("0.00")  # 0.00499 -> 0.00


def test_nothing_traded_costs_nothing():
    assert DEFAULT_SCHEDULE.fees(Side.SELL, D("0")).total == 0


def test_transfer_fee_only_on_listed_exchanges_and_stamp_duty_exemption():
    cffex = FeeBasis(exchange="CFFEX")  # (HKEX trades pay the HK charges: tests/unit/compliance)
    assert DEFAULT_SCHEDULE.fees(Side.BUY, D("100000"), cffex).transfer_fee == 0
    assert DEFAULT_SCHEDULE.fees(Side.BUY, D("100000"), FeeBasis("SZSE")).transfer_fee == D("1.00")
    etf = FeeBasis(stamp_duty_exempt=True)
    assert DEFAULT_SCHEDULE.fees(Side.SELL, D("100000"), etf).stamp_duty == 0


def test_account_override_of_the_schedule():
    vip = replace(DEFAULT_SCHEDULE, commission_rate=D("0.0001"), min_commission=D("0.1"))
    assert vip.fees(Side.BUY, D("1000")).commission == D("0.10")
    assert vip.fees(Side.BUY, D("100000")).commission == D("10.00")


def test_fill_fees_charge_the_minimum_once_per_order_and_add_up_to_the_order_fees():
    s = DEFAULT_SCHEDULE
    fills = [D("1001.00"), D("3006.00"), D("15000.00"), D("40000.00")]
    traded, total = D(0), Fees()
    charged = []
    for notional in fills:
        f = s.fill_fees(Side.SELL, traded, notional)
        charged.append(f.commission)
        traded += notional
        total += f
    assert charged[0] == D("5") and charged[1] == 0 and charged[2] == 0  # still under 20000 x 0.025%
    assert total == s.fees(Side.SELL, traded)


def test_buy_freeze_is_notional_plus_fees_at_the_freeze_price():
    assert estimate_buy_freeze(D("10.00"), 400) == D("4000.00") + D("5") + D("0.04")
    # Fills can only be at or below the limit, so the freeze covers any sequence of fills.
    s = FeeSchedule()
    freeze = estimate_buy_freeze(D("10.00"), 400, s)
    paid = D("4000") * 0 + D("9.99") * 400 + s.fees(Side.BUY, D("9.99") * 400).total
    assert paid <= freeze


def test_sell_fee_buffer_is_zero_above_the_minimum_commission_price():
    assert sell_fee_buffer(D("10.00")) == 0
    # One share at 1.00 would owe 5.00 commission on 1.00 of proceeds.
    assert sell_fee_buffer(D("1.00")) == D("5.00") + D("0.00") + D("0.00") - D("1.00") + D("0.02")
