"""A4 tier catalog: demo mapping, queries and operator edits."""

from __future__ import annotations

import pytest

from brokerql.domain.common import Rejection
from brokerql.domain.identity import tiers as t
from brokerql.domain.identity.tiers import DEMO_TIER_CATALOG, TierCatalog, TierCode, TierLimits

# One line per rule of the demo mapping (DEMO_TIER_CATALOG, described in docs/api.md).
EXPECTED_LOWEST = {
    t.QUOTES_LEVEL1: TierCode.TRIAL,
    t.RESEARCH_BASIC: TierCode.TRIAL,
    t.QUOTES_HK_DELAYED: TierCode.STANDARD,
    t.QUOTES_FUTURES_REALTIME: TierCode.STANDARD,
    t.TRADING_BASIC: TierCode.STANDARD,
    t.TRADING_BASKETS: TierCode.SILVER,
    t.TRADING_PARKED: TierCode.SILVER,
    t.QUOTES_LEVEL2: TierCode.GOLD,
    t.TRADING_ETF_ARBITRAGE: TierCode.GOLD,
    t.TRADING_MARGIN: TierCode.GOLD,
    t.TRADING_FAST: TierCode.GOLD,
    t.RESEARCH_PREMIUM: TierCode.PLATINUM,
    t.QUOTES_HK_REALTIME: TierCode.DIAMOND,
}


def test_every_entitlement_has_an_expected_line() -> None:
    assert set(EXPECTED_LOWEST) == t.ALL_ENTITLEMENTS


@pytest.mark.parametrize(("key", "lowest"), sorted(EXPECTED_LOWEST.items()))
def test_lowest_tier_granting_each_demo_line(key: str, lowest: TierCode) -> None:
    assert DEMO_TIER_CATALOG.lowest_tier_granting(key) is lowest


@pytest.mark.parametrize(("key", "lowest"), sorted(EXPECTED_LOWEST.items()))
def test_grants_from_lowest_tier_up_only(key: str, lowest: TierCode) -> None:
    for code in TierCode:
        assert DEMO_TIER_CATALOG.grants(code, key) is (code.rank >= lowest.rank), (code, key)


def test_hk_realtime_only_diamond_others_delayed() -> None:
    for code in TierCode:
        realtime = DEMO_TIER_CATALOG.grants(code, t.QUOTES_HK_REALTIME)
        assert realtime is (code is TierCode.DIAMOND)
        if code is not TierCode.TRIAL:
            assert DEMO_TIER_CATALOG.grants(code, t.QUOTES_HK_DELAYED)


def test_trial_may_only_look() -> None:
    assert DEMO_TIER_CATALOG.tier(TierCode.TRIAL).entitlements == {t.QUOTES_LEVEL1, t.RESEARCH_BASIC}


def test_rank_order_and_names() -> None:
    ranks = [tier.rank for tier in DEMO_TIER_CATALOG.tiers]
    assert ranks == list(range(len(TierCode)))
    assert DEMO_TIER_CATALOG.tiers[0].code is TierCode.TRIAL
    assert TierCode.DIAMOND.rank > TierCode.PLATINUM.rank > TierCode.GOLD.rank > TierCode.SILVER.rank
    assert DEMO_TIER_CATALOG.tier(TierCode.GOLD).name == "Gold 金卡"


def test_limits_grow_with_rank() -> None:
    limits = [tier.limits for tier in DEMO_TIER_CATALOG.tiers]
    rpm = [lim.requests_per_minute for lim in limits]
    subs = [lim.max_subscriptions for lim in limits]
    assert rpm == sorted(rpm) and subs == sorted(subs)


def test_unknown_key_is_never_granted() -> None:
    assert not DEMO_TIER_CATALOG.grants(TierCode.DIAMOND, "quotes.level9")
    assert DEMO_TIER_CATALOG.lowest_tier_granting("quotes.level9") is None


def test_edit_returns_new_catalog_and_leaves_original() -> None:
    edited = DEMO_TIER_CATALOG.edit(TierCode.SILVER, grant=[t.QUOTES_LEVEL2], revoke=[t.TRADING_PARKED])
    assert isinstance(edited, TierCatalog)
    assert edited.lowest_tier_granting(t.QUOTES_LEVEL2) is TierCode.SILVER
    assert edited.lowest_tier_granting(t.TRADING_PARKED) is TierCode.GOLD
    assert DEMO_TIER_CATALOG.lowest_tier_granting(t.QUOTES_LEVEL2) is TierCode.GOLD
    assert DEMO_TIER_CATALOG.grants(TierCode.SILVER, t.TRADING_PARKED)


def test_revoking_everywhere_means_no_tier_grants() -> None:
    catalog = DEMO_TIER_CATALOG
    for code in TierCode:
        result = catalog.edit(code, revoke=[t.RESEARCH_PREMIUM])
        assert isinstance(result, TierCatalog)
        catalog = result
    assert catalog.lowest_tier_granting(t.RESEARCH_PREMIUM) is None


def test_edit_limits() -> None:
    edited = DEMO_TIER_CATALOG.edit("GOLD", limits=TierLimits(999, 9))
    assert isinstance(edited, TierCatalog)
    assert edited.tier(TierCode.GOLD).limits == TierLimits(999, 9)


def test_edit_rejects_unknown_keys_tier_conflicts_and_bad_limits() -> None:
    result = DEMO_TIER_CATALOG.edit(TierCode.GOLD, grant=["quotes.level3"], revoke=["nope"])
    assert isinstance(result, list)
    assert {(r.code, r.field) for r in result} == {
        ("UNKNOWN_ENTITLEMENT", "grant"),
        ("UNKNOWN_ENTITLEMENT", "revoke"),
    }
    assert DEMO_TIER_CATALOG.edit("BRONZE", grant=[t.QUOTES_LEVEL1]) == [
        Rejection("UNKNOWN_TIER", "unknown tier 'BRONZE'", "tierCode")
    ]
    conflict = DEMO_TIER_CATALOG.edit(TierCode.GOLD, grant=[t.TRADING_FAST], revoke=[t.TRADING_FAST])
    assert isinstance(conflict, list) and conflict[0].code == "CONFLICTING_EDIT"
    bad = DEMO_TIER_CATALOG.edit(TierCode.GOLD, limits=TierLimits(0, 1))
    assert isinstance(bad, list) and bad[0].code == "BAD_LIMIT"


def test_catalog_construction_guards() -> None:
    tiers = list(DEMO_TIER_CATALOG.tiers)
    with pytest.raises(ValueError, match="missing"):
        TierCatalog(tiers[:-1])
    with pytest.raises(ValueError, match="twice"):
        TierCatalog([*tiers, tiers[0]])


def test_limits_change_one_at_a_time() -> None:
    limits = TierLimits(60, 20)
    assert limits.changed(requests_per_minute=90) == TierLimits(90, 20)
    assert limits.changed(max_subscriptions=0) == TierLimits(60, 0)
    assert limits.changed() == limits


def test_entitlement_table_names_the_lowest_tier_and_every_holder() -> None:
    table = {key: (lowest, holders) for key, lowest, holders in DEMO_TIER_CATALOG.entitlement_table()}
    assert list(table) == sorted(DEMO_TIER_CATALOG.known_keys)
    lowest, holders = table[t.QUOTES_LEVEL2]
    assert lowest is TierCode.GOLD and holders == [TierCode.GOLD, TierCode.PLATINUM, TierCode.DIAMOND]
