"""Onboarding rules (A1): who can be created, which accounts can be opened, what an opening deposit is."""

from __future__ import annotations

from decimal import Decimal

import pytest

from brokerql.domain.identity.onboarding import check_account_opening, check_new_client
from brokerql.domain.identity.tiers import DEMO_TIER_CATALOG, TierCode


def codes(rejections: list) -> list[str]:  # type: ignore[type-arg]
    return [r.code for r in rejections]


def grants(tier: str):  # type: ignore[no-untyped-def]
    return lambda key: DEMO_TIER_CATALOG.grants(TierCode(tier), key)


def test_a_new_client_needs_a_sane_login_a_name_and_a_trading_tier() -> None:
    assert check_new_client("first.client", "First Client", "STANDARD") == []
    assert check_new_client("vip-2", "V", "DIAMOND") == []
    assert codes(check_new_client("1abc", "x", "STANDARD")) == ["BAD_USERNAME"]
    assert codes(check_new_client("ab", "x", "STANDARD")) == ["BAD_USERNAME"]
    assert codes(check_new_client("a b c", "x", "STANDARD")) == ["BAD_USERNAME"]
    assert codes(check_new_client("abc", " ", "STANDARD")) == ["BAD_NAME"]
    assert codes(check_new_client("abc", "x" * 129, "STANDARD")) == ["BAD_NAME"]
    assert codes(check_new_client("abc", "x", "TRIAL")) == ["TIER_NOT_ALLOWED"]  # trial users register
    assert codes(check_new_client("abc", "x", "BRONZE")) == ["TIER_NOT_ALLOWED"]


def test_one_account_of_each_type_for_an_active_client_whose_tier_trades_it() -> None:
    assert check_account_opening("CASH", "ACTIVE", grants("STANDARD"), set(), Decimal("100000.00")) == []
    assert check_account_opening("MARGIN", "ACTIVE", grants("GOLD"), {"CASH"}, Decimal(0)) == []
    assert codes(check_account_opening("CASH", "ACTIVE", grants("STANDARD"), {"CASH"}, Decimal(0))) == [
        "ACCOUNT_EXISTS"
    ]
    assert codes(check_account_opening("MARGIN", "ACTIVE", grants("STANDARD"), set(), Decimal(0))) == [
        "TIER_NOT_ELIGIBLE"
    ]
    assert codes(check_account_opening("CASH", "ACTIVE", grants("TRIAL"), set(), Decimal(0))) == ["TIER_NOT_ELIGIBLE"]
    assert codes(check_account_opening("CASH", "LOCKED", grants("GOLD"), set(), Decimal(0))) == ["CLIENT_NOT_ACTIVE"]
    assert codes(check_account_opening("BONDS", "ACTIVE", grants("GOLD"), set(), Decimal(0))) == ["BAD_ACCOUNT_TYPE"]


@pytest.mark.parametrize("amount", ["0.001", "-1", "NaN", "Infinity", "1000000000000.01", "1e30"])
def test_an_opening_deposit_is_whole_cents_within_range(amount: str) -> None:
    errors = check_account_opening("CASH", "ACTIVE", grants("GOLD"), set(), Decimal(amount))
    assert codes(errors) == ["BAD_AMOUNT"] and errors[0].field == "openingDeposit"


@pytest.mark.parametrize("amount", ["0", "0.01", "1.10", "1E+3", "1000000000000"])
def test_whole_cents_are_accepted_however_written(amount: str) -> None:
    assert check_account_opening("CASH", "ACTIVE", grants("GOLD"), set(), Decimal(amount)) == []
