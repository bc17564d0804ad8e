"""F1 partner scopes -> the quote entitlements a partner token carries (partners have no tier).

`quotes.read` is Level-1 real-time everywhere (A-shares, HK, futures): `quote`, `bars`, `instruments`
and the `quotes` subscription. `quotes.level2` adds Level-2 depth and trades (`Quote.depth`,
`Quote.trades`); it is only useful together with `quotes.read`.
"""

from __future__ import annotations

from collections.abc import Iterable

from brokerql.domain.identity.tiers import (
    QUOTES_FUTURES_REALTIME,
    QUOTES_HK_DELAYED,
    QUOTES_HK_REALTIME,
    QUOTES_LEVEL1,
    QUOTES_LEVEL2,
)

QUOTES_READ = "quotes.read"
QUOTES_LEVEL2_SCOPE = "quotes.level2"
PARTNER_SCOPES = frozenset({"tiers.read", "servers.read", QUOTES_READ, QUOTES_LEVEL2_SCOPE})

_LEVEL1 = frozenset({QUOTES_LEVEL1, QUOTES_HK_REALTIME, QUOTES_HK_DELAYED, QUOTES_FUTURES_REALTIME})


def partner_entitlements(scopes: Iterable[str]) -> frozenset[str]:
    """The entitlement keys a partner token with these scopes holds."""
    held = frozenset(scopes)
    if QUOTES_READ not in held:
        return frozenset()
    return _LEVEL1 | ({QUOTES_LEVEL2} if QUOTES_LEVEL2_SCOPE in held else frozenset())


def scope_granting(entitlement: str) -> str | None:
    """The partner scope that would grant `entitlement` (for FORBIDDEN errors), None if none does."""
    if entitlement == QUOTES_LEVEL2:
        return QUOTES_LEVEL2_SCOPE
    return QUOTES_READ if entitlement in _LEVEL1 else None
