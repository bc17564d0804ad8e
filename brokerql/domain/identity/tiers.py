"""A4: client tiers and the entitlements each grants (客户分级和服务分级的对应).

A tier grants a set of entitlement keys (dotted strings such as ``quotes.level2``) and a few numeric
limits. The API checks a field's entitlement with :meth:`TierCatalog.grants`, and a denied client is
told :meth:`TierCatalog.lowest_tier_granting` the key. Operators edit the mapping with
:meth:`TierCatalog.edit`, which returns a new catalog: catalogs are immutable values, so a request
that already holds one never sees a half-applied edit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from brokerql.domain.common import Rejection


class TierCode(StrEnum):
    """Client tiers, declared from lowest to highest rank (TRIAL is the trial-user tier of A6)."""

    TRIAL = "TRIAL"
    STANDARD = "STANDARD"
    SILVER = "SILVER"
    GOLD = "GOLD"
    PLATINUM = "PLATINUM"
    DIAMOND = "DIAMOND"

    @property
    def rank(self) -> int:
        """Position in the tier order: TRIAL is 0, DIAMOND the highest."""
        return _TIER_ORDER.index(self)


# Declaration order is the rank order; kept as a tuple so rank lookups never depend on dict order.
_TIER_ORDER: tuple[TierCode, ...] = tuple(TierCode)

QUOTES_LEVEL1 = "quotes.level1"
QUOTES_LEVEL2 = "quotes.level2"
QUOTES_HK_REALTIME = "quotes.hk.realtime"
QUOTES_HK_DELAYED = "quotes.hk.delayed"
QUOTES_FUTURES_REALTIME = "quotes.futures.realtime"
TRADING_BASIC = "trading.basic"
TRADING_FAST = "trading.fast"
TRADING_BASKETS = "trading.baskets"
TRADING_PARKED = "trading.parked"
TRADING_ETF_ARBITRAGE = "trading.etf_arbitrage"
TRADING_MARGIN = "trading.margin"
RESEARCH_BASIC = "research.basic"
RESEARCH_PREMIUM = "research.premium"

ALL_ENTITLEMENTS: frozenset[str] = frozenset(
    {
        QUOTES_LEVEL1,
        QUOTES_LEVEL2,
        QUOTES_HK_REALTIME,
        QUOTES_HK_DELAYED,
        QUOTES_FUTURES_REALTIME,
        TRADING_BASIC,
        TRADING_FAST,
        TRADING_BASKETS,
        TRADING_PARKED,
        TRADING_ETF_ARBITRAGE,
        TRADING_MARGIN,
        RESEARCH_BASIC,
        RESEARCH_PREMIUM,
    }
)


@dataclass(frozen=True, slots=True)
class TierLimits:
    """Numeric limits of a tier: API requests per minute and concurrent subscriptions."""

    requests_per_minute: int
    max_subscriptions: int

    def changed(self, requests_per_minute: int | None = None, max_subscriptions: int | None = None) -> TierLimits:
        """These limits with the given ones replaced (None keeps the current value)."""
        return TierLimits(
            self.requests_per_minute if requests_per_minute is None else requests_per_minute,
            self.max_subscriptions if max_subscriptions is None else max_subscriptions,
        )


@dataclass(frozen=True, slots=True)
class Tier:
    """One tier: its code, display name (English + Chinese), rank, entitlements and limits."""

    code: TierCode
    name: str
    rank: int
    entitlements: frozenset[str]
    limits: TierLimits


class TierCatalog:
    """An immutable tier -> entitlements mapping covering every :class:`TierCode`."""

    __slots__ = ("_known_keys", "_tiers")

    def __init__(self, tiers: Iterable[Tier], known_keys: frozenset[str] = ALL_ENTITLEMENTS) -> None:
        """Build a catalog; raises ``ValueError`` if a tier is missing, repeated or grants unknown keys.

        Construction errors are programming errors (a bad seed), unlike operator edits, which come
        back as :class:`Rejection` values from :meth:`edit`.
        """
        by_code: dict[TierCode, Tier] = {}
        for tier in tiers:
            if tier.code in by_code:
                raise ValueError(f"tier {tier.code} defined twice")
            unknown = tier.entitlements - known_keys
            if unknown:
                raise ValueError(f"tier {tier.code} grants unknown entitlements {sorted(unknown)}")
            # The rank always follows TierCode order, whatever the caller wrote.
            by_code[tier.code] = replace(tier, rank=tier.code.rank)
        missing = set(TierCode) - set(by_code)
        if missing:
            raise ValueError(f"tiers missing from catalog: {sorted(missing)}")
        self._tiers = {code: by_code[code] for code in _TIER_ORDER}
        self._known_keys = known_keys

    @property
    def tiers(self) -> tuple[Tier, ...]:
        """All tiers, lowest rank first."""
        return tuple(self._tiers.values())

    @property
    def known_keys(self) -> frozenset[str]:
        """Every entitlement key this catalog accepts."""
        return self._known_keys

    def tier(self, code: TierCode) -> Tier:
        """The tier with this code."""
        return self._tiers[code]

    def grants(self, tier_code: TierCode, key: str) -> bool:
        """Whether ``tier_code`` grants the entitlement ``key`` (unknown keys are never granted)."""
        return key in self._tiers[tier_code].entitlements

    def lowest_tier_granting(self, key: str) -> TierCode | None:
        """The lowest-ranked tier that grants ``key``, or ``None`` if no tier does.

        Used in FORBIDDEN errors ("requiredTier") and in B5 teasers ("Gold unlocks the rest").
        """
        for tier in self._tiers.values():
            if key in tier.entitlements:
                return tier.code
        return None

    def edit(
        self,
        tier_code: TierCode | str,
        *,
        grant: Iterable[str] = (),
        revoke: Iterable[str] = (),
        limits: TierLimits | None = None,
    ) -> TierCatalog | list[Rejection]:
        """Return a new catalog with ``grant`` added to and ``revoke`` removed from one tier.

        Operators edit the mapping through this; nothing is changed in place. Unknown tiers or keys,
        a key both granted and revoked, and non-positive limits come back as a list of rejections
        (codes UNKNOWN_TIER, UNKNOWN_ENTITLEMENT, CONFLICTING_EDIT, BAD_LIMIT) and no catalog.
        """
        rejections: list[Rejection] = []
        try:
            code = TierCode(tier_code)
        except ValueError:
            return [Rejection("UNKNOWN_TIER", f"unknown tier {tier_code!r}", "tierCode")]
        granted, revoked = frozenset(grant), frozenset(revoke)
        for field, keys in (("grant", granted), ("revoke", revoked)):
            for key in sorted(keys - self._known_keys):
                rejections.append(Rejection("UNKNOWN_ENTITLEMENT", f"unknown entitlement {key!r}", field))
        for key in sorted(granted & revoked):
            rejections.append(Rejection("CONFLICTING_EDIT", f"{key!r} is both granted and revoked", "revoke"))
        if limits is not None and (limits.requests_per_minute <= 0 or limits.max_subscriptions < 0):
            rejections.append(Rejection("BAD_LIMIT", "limits must be positive", "limits"))
        if rejections:
            return rejections
        current = self._tiers[code]
        edited = replace(
            current,
            entitlements=(current.entitlements | granted) - revoked,
            limits=limits if limits is not None else current.limits,
        )
        return TierCatalog((edited if t.code is code else t for t in self._tiers.values()), self._known_keys)

    def entitlement_table(self) -> list[tuple[str, TierCode | None, list[TierCode]]]:
        """Every known entitlement key (sorted), the lowest tier granting it and every tier that does."""
        return [
            (key, self.lowest_tier_granting(key), [t.code for t in self.tiers if key in t.entitlements])
            for key in sorted(self._known_keys)
        ]


def _demo_catalog() -> TierCatalog:
    """The demo mapping of tiers to entitlements (docs/api.md, Tiers and entitlement discovery).

    Choices: TRIAL may only look (Level-1 quotes and basic research, no trading,
    no HK or futures quotes) because a trial user has no trading account; STANDARD and up are trading
    users, so they get futures real-time and 15-minute delayed HK quotes (C9); VIP fast trading (D)
    starts at GOLD, alongside margin. Each tier is a superset of the one below it.
    """
    trial = frozenset({QUOTES_LEVEL1, RESEARCH_BASIC})
    standard = trial | {QUOTES_HK_DELAYED, QUOTES_FUTURES_REALTIME, TRADING_BASIC}
    silver = standard | {TRADING_BASKETS, TRADING_PARKED}
    gold = silver | {QUOTES_LEVEL2, TRADING_ETF_ARBITRAGE, TRADING_MARGIN, TRADING_FAST}
    platinum = gold | {RESEARCH_PREMIUM}
    # DIAMOND keeps quotes.hk.delayed as well: a real-time grant implies the delayed view.
    diamond = platinum | {QUOTES_HK_REALTIME}
    rows = [
        (TierCode.TRIAL, "Trial 体验", trial, TierLimits(30, 5)),
        (TierCode.STANDARD, "Standard 普通", standard, TierLimits(60, 20)),
        (TierCode.SILVER, "Silver 银卡", silver, TierLimits(120, 50)),
        (TierCode.GOLD, "Gold 金卡", gold, TierLimits(300, 100)),
        (TierCode.PLATINUM, "Platinum 白金卡", platinum, TierLimits(600, 200)),
        (TierCode.DIAMOND, "Diamond 钻石卡", diamond, TierLimits(1200, 500)),
    ]
    return TierCatalog(Tier(code, name, code.rank, frozenset(keys), lim) for code, name, keys, lim in rows)


DEMO_TIER_CATALOG: TierCatalog = _demo_catalog()


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientTierChanged:
    """A client's tier changed (committed with the change): every process's tier cache takes it at once."""

    client_id: str
    tier: str | None  # None: the client has no tier now
    at: datetime
