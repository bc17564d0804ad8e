"""The client facts the admission rules need (risk level, assets, experience, grants), and the
operators' board-eligibility grants (logged)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from brokerql.domain.clock import Clock
from brokerql.domain.common import Rejection, Side
from brokerql.domain.compliance.suitability import (
    BOARD_RISK,
    ELIGIBILITY_WINDOW_DAYS,
    ClientFacts,
    EligibilityBoard,
    average_daily_assets,
    derived_eligibility,
    needs_acknowledgement,
)
from brokerql.domain.market.instruments import Instrument
from brokerql.domain.market.sessions import local_time
from brokerql.domain.trading.orders import Order
from brokerql.services.identity.audit import operator_log
from brokerql.services.trading.facts_cache import FactsCache, StoredFacts
from brokerql.store.columns import new_id
from brokerql.store.database import Database, UnitOfWork
from brokerql.store.tables import ClientRow
from brokerql.store.tables_identity import ClientDailyAssetsRow, ClientLogRow, ClientProfileRow


class ClientFactsReader:
    """Reads a client's ClientFacts; a client without a profile has no assessment (C1, nothing granted).

    With `cache_seconds`, what was read is kept that long (`services/trading/facts_cache.py`: a change
    made in this process is seen at once, one made in another process within `cache_seconds`)."""

    def __init__(self, db: Database, clock: Clock, *, cache_seconds: float = 0.0) -> None:
        self.db, self.clock = db, clock
        self.cache = FactsCache(cache_seconds) if cache_seconds > 0 else None

    async def facts(self, client_id: str) -> ClientFacts:
        now = self.clock.now()
        today = local_time(now).date()
        stored = self.cache.get(client_id, today) if self.cache is not None else None
        if stored is None:
            mark = self.cache.mark() if self.cache is not None else 0
            stored = await self._read(client_id, today)
            if self.cache is not None:
                self.cache.put(client_id, stored, mark)
        return stored.facts(now)

    async def _read(self, client_id: str, today: date) -> StoredFacts:
        async with self.db.read() as session:
            profile = await session.get(ClientProfileRow, client_id)
            rows = await session.scalars(
                select(ClientDailyAssetsRow.assets)
                .where(ClientDailyAssetsRow.client_id == client_id, ClientDailyAssetsRow.day <= today)
                .order_by(ClientDailyAssetsRow.day.desc())
                .limit(ELIGIBILITY_WINDOW_DAYS)
            )
            average = average_daily_assets(list(rows.all()))
        if profile is None:
            return StoredFacts(today, None, None, frozenset(), average)
        grants = frozenset(profile.eligibility_grants or ())
        return StoredFacts(today, profile.risk_level, profile.trading_since, grants, average)

    async def eligibility(self, client_id: str) -> dict[EligibilityBoard, tuple[bool, bool]]:
        """Per board: (derived from the client's data, granted by an operator)."""
        facts = await self.facts(client_id)
        return {board: (derived_eligibility(board, facts), board.value in facts.granted) for board in EligibilityBoard}

    async def set_grant(
        self, operator_id: str, client_id: str, board: str, granted: bool, reason: str
    ) -> list[Rejection]:
        """Grant (or withdraw) a board to a client, logged with the before and after and the reason."""
        if board not in EligibilityBoard.__members__:
            return [Rejection("BAD_BOARD", "board must be STAR, CHINEXT or HK_CONNECT.", "board")]
        if not reason.strip():
            return [Rejection("REASON_REQUIRED", "Say why (kept in the operator log).", "reason")]
        async with self.db.transaction() as uow:
            client = await uow.session.get(ClientRow, client_id)
            profile = await uow.session.get(ClientProfileRow, client_id) if client is not None else None
            if profile is None:
                return [Rejection("NOT_FOUND", "No such client.", "clientId")]
            before = sorted(profile.eligibility_grants or ())
            after = sorted(set(before) | {board}) if granted else sorted(set(before) - {board})
            profile.eligibility_grants = after
            action = "eligibility.grant" if granted else "eligibility.revoke"
            operator_log(uow, operator_id, action, client_id, {"grants": before}, {"grants": after, "reason": reason})
        return []


async def record_acknowledgement(
    uow: UnitOfWork, client_id: str, order: Order, instrument: Instrument, facts: ClientFacts
) -> None:
    """An accepted order above the client's risk level: the acknowledgement goes into the client log,
    in the transaction that accepts the order (no order without its record)."""
    if order.side is not Side.BUY or not needs_acknowledgement(instrument.board, facts):
        return
    risk = BOARD_RISK[instrument.board]
    detail = f"order {order.id} {instrument.symbol} {risk} above {facts.risk_level}: risk warning acknowledged"
    username = await uow.session.scalar(select(ClientRow.username).where(ClientRow.id == client_id)) or ""
    uow.session.add(
        ClientLogRow(id=new_id("clg"), client_id=client_id, username=username, event="RISK_ACKNOWLEDGED", detail=detail)
    )
