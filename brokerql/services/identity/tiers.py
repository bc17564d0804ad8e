"""A4: the tier catalog, loaded from the `tier` table and swapped atomically after an edit.

`TierCatalogStore` stands where a `TierCatalog` used to (container.catalog): `grants`,
`lowest_tier_granting`, `tier`, `tiers` delegate to the current immutable catalog. An edit builds a
new catalog through the domain (`TierCatalog.edit`), stores it, and replaces the reference in one
assignment, so a request never sees half an edit. Other processes pick the change up within a second
(`refresh` compares the table's highest version with the one loaded).
"""

from __future__ import annotations

import logging

from sqlalchemy import func, select

from brokerql.domain.common import Rejection
from brokerql.domain.identity.tiers import Tier, TierCatalog, TierCode, TierLimits
from brokerql.services.identity.audit import domain_event, operator_log
from brokerql.store.database import Database
from brokerql.store.tables_backoffice import TierRow

log = logging.getLogger(__name__)


def _snapshot(tier: Tier) -> dict[str, object]:
    return {
        "entitlements": sorted(tier.entitlements),
        "requestsPerMinute": tier.limits.requests_per_minute,
        "maxSubscriptions": tier.limits.max_subscriptions,
    }


class TierCatalogStore:
    def __init__(self, db: Database, initial: TierCatalog) -> None:
        self.db = db
        self._catalog = initial
        self._version = -1

    # -- the TierCatalog interface --------------------------------------------------------------------
    @property
    def current(self) -> TierCatalog:
        return self._catalog

    @property
    def tiers(self) -> tuple[Tier, ...]:
        return self._catalog.tiers

    @property
    def known_keys(self) -> frozenset[str]:
        return self._catalog.known_keys

    def tier(self, code: TierCode) -> Tier:
        return self._catalog.tier(code)

    def grants(self, tier_code: TierCode, key: str) -> bool:
        return self._catalog.grants(tier_code, key)

    def lowest_tier_granting(self, key: str) -> TierCode | None:
        return self._catalog.lowest_tier_granting(key)

    # -- loading and editing --------------------------------------------------------------------------
    def entitlement_table(self) -> list[tuple[str, TierCode | None, list[TierCode]]]:
        return self._catalog.entitlement_table()

    async def refresh(self) -> None:
        """Reload if the table changed since the last load (cheap: one aggregate query)."""
        async with self.db.read() as session:
            version = await session.scalar(select(func.coalesce(func.sum(TierRow.version), 0)))
            if version == self._version:
                return
            rows = (await session.scalars(select(TierRow))).all()
        if not rows:
            return  # an unmigrated or empty table: keep the built-in catalog
        try:
            catalog = TierCatalog(
                Tier(
                    TierCode(r.code),
                    r.name,
                    r.rank,
                    frozenset(r.entitlements),
                    TierLimits(r.requests_per_minute, r.max_subscriptions),
                )
                for r in rows
            )
        except ValueError:
            log.exception("the tier table does not make a valid catalog; keeping the current one")
            return
        self._catalog, self._version = catalog, version

    async def edit(
        self,
        operator_id: str,
        code: str,
        *,
        grant: list[str],
        revoke: list[str],
        requests_per_minute: int | None = None,
        max_subscriptions: int | None = None,
        name: str | None = None,
    ) -> list[Rejection]:
        """Operator edit of one tier's entitlements and limits (None keeps a limit); logged and recorded
        as an event."""
        await self.refresh()
        limits = None
        if (requests_per_minute, max_subscriptions) != (None, None) and code in {t.code.value for t in self.tiers}:
            limits = self.tier(TierCode(code)).limits.changed(requests_per_minute, max_subscriptions)
        edited = self._catalog.edit(code, grant=grant, revoke=revoke, limits=limits)
        if isinstance(edited, list):
            return edited
        tier_code = TierCode(code)
        before, after = _snapshot(self._catalog.tier(tier_code)), _snapshot(edited.tier(tier_code))
        async with self.db.transaction() as uow:
            row = await uow.session.get(TierRow, tier_code.value, with_for_update=not uow.is_sqlite)
            if row is None:
                return [Rejection("UNKNOWN_TIER", f"unknown tier {code!r}", "code")]
            new = edited.tier(tier_code)
            row.entitlements = sorted(new.entitlements)
            row.requests_per_minute, row.max_subscriptions = (
                new.limits.requests_per_minute,
                new.limits.max_subscriptions,
            )
            if name:
                row.name = name
            row.version += 1
            operator_log(uow, operator_id, "tier.edit", tier_code.value, before, after)
            domain_event(uow, "TierCatalogEdited", tier_code.value, {"before": before, "after": after})
        await self.refresh()
        return []
