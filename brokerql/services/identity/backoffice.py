"""A5 back office: system parameters, data dictionary, bookable services, server list (C10), API clients
(F1) and the operator log. Every change is written to the operator log with its before and after."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from brokerql.domain.clock import Clock
from brokerql.domain.common import Rejection
from brokerql.domain.identity.partner_scopes import PARTNER_SCOPES
from brokerql.domain.identity.tiers import TierCode
from brokerql.services.identity.audit import client_log, operator_log
from brokerql.services.identity.params import SystemParameters, validate_parameter
from brokerql.services.identity.sessions import SessionGate
from brokerql.store.columns import new_id
from brokerql.store.database import Database
from brokerql.store.tables import ClientRow
from brokerql.store.tables_backoffice import (
    ApiClientRow,
    BookableServiceRow,
    DictionaryEntryRow,
    ServerRow,
    ServiceBookingRow,
    SystemParameterRow,
)
from brokerql.store.tables_identity import OperatorLogRow


def secret_digest(secret: str) -> str:
    """API-client secrets are 256-bit random strings: a plain SHA-256 is enough to store them."""
    return hashlib.sha256(secret.encode()).hexdigest()


def _row_dict(row: Any, *names: str) -> dict[str, Any]:
    return {n: getattr(row, n) for n in names}


class BackOffice:
    def __init__(self, db: Database, params: SystemParameters, sessions: SessionGate, clock: Clock) -> None:
        self.db = db
        self.params = params
        self.sessions = sessions
        self.clock = clock

    async def _all(self, query: Any) -> Sequence[Any]:
        async with self.db.read() as session:
            return (await session.scalars(query)).all()

    # -- system parameters ----------------------------------------------------------------------------
    async def parameters(self) -> Sequence[SystemParameterRow]:
        return await self._all(select(SystemParameterRow).order_by(SystemParameterRow.key))

    async def set_parameter(self, by: str, key: str, value: str) -> tuple[SystemParameterRow | None, list]:
        if (problem := validate_parameter(key, value)) is not None:
            return None, [Rejection("BAD_PARAMETER", problem, "value")]
        async with self.db.transaction() as uow:
            row = await uow.session.get(SystemParameterRow, key)
            before = {"value": row.value} if row else None
            if row is None:
                row = SystemParameterRow(key=key, value=value)
                uow.session.add(row)
            row.value, row.updated_at = value, self.clock.now()
            operator_log(uow, by, "parameter.set", key, before, {"value": value})
        self.params.forget()
        return row, []

    # -- data dictionary ----------------------------------------------------------------------------
    async def dictionary(self, category: str | None) -> Sequence[DictionaryEntryRow]:
        query = select(DictionaryEntryRow)
        if category:
            query = query.where(DictionaryEntryRow.category == category)
        return await self._all(query.order_by(DictionaryEntryRow.category, DictionaryEntryRow.sort_order))

    async def upsert_dictionary(
        self, by: str, category: str, code: str, label: str, sort_order: int, enabled: bool
    ) -> DictionaryEntryRow:
        async with self.db.transaction() as uow:
            row = await uow.session.get(DictionaryEntryRow, (category, code))
            names = ("label", "sort_order", "enabled")
            before = _row_dict(row, *names) if row else None
            if row is None:
                row = DictionaryEntryRow(category=category, code=code, label=label)
                uow.session.add(row)
            row.label, row.sort_order, row.enabled = label, sort_order, enabled
            operator_log(uow, by, "dictionary.upsert", f"{category}/{code}", before, _row_dict(row, *names))
        return row

    # -- bookable services ---------------------------------------------------------------------------
    async def services(self, only_enabled: bool) -> Sequence[BookableServiceRow]:
        query = select(BookableServiceRow).order_by(BookableServiceRow.code)
        if only_enabled:
            query = query.where(BookableServiceRow.enabled.is_(True))
        return await self._all(query)

    async def upsert_service(
        self, by: str, code: str, name: str, description: str, min_tier: str, enabled: bool
    ) -> tuple[BookableServiceRow | None, list]:
        if min_tier not in TierCode.__members__:
            return None, [Rejection("UNKNOWN_TIER", f"unknown tier {min_tier!r}", "minTier")]
        async with self.db.transaction() as uow:
            row = await uow.session.get(BookableServiceRow, code)
            names = ("name", "description", "min_tier", "enabled")
            before = _row_dict(row, *names) if row else None
            if row is None:
                row = BookableServiceRow(code=code, name=name)
                uow.session.add(row)
            row.name, row.description, row.min_tier, row.enabled = name, description, min_tier, enabled
            operator_log(uow, by, "service.upsert", code, before, _row_dict(row, *names))
        return row, []

    async def book(self, client_id: str, code: str, note: str) -> tuple[ServiceBookingRow | None, list]:
        """A client books a service its current tier reaches."""
        async with self.db.transaction() as uow:
            service = await uow.session.get(BookableServiceRow, code)
            if service is None or not service.enabled:
                return None, [Rejection("NOT_FOUND", "No such service.", "serviceCode")]
            client = await uow.session.get(ClientRow, client_id)
            if client is None or TierCode(client.tier_code).rank < TierCode(service.min_tier).rank:
                return None, [Rejection("NOT_ENTITLED", f"This service starts at {service.min_tier}.", "serviceCode")]
            booking = ServiceBookingRow(id=new_id("bkg"), client_id=client_id, service_code=code, note=note[:255])
            uow.session.add(booking)
            client_log(uow, "SERVICE_BOOKED", client.username, client_id, code)
        return booking, []

    # -- servers (C10) -------------------------------------------------------------------------------
    async def servers(self, only_enabled: bool) -> Sequence[ServerRow]:
        query = select(ServerRow).order_by(ServerRow.weight.desc(), ServerRow.name)
        if only_enabled:
            query = query.where(ServerRow.enabled.is_(True))
        return await self._all(query)

    async def upsert_server(
        self, by: str, server_id: str | None, name: str, url: str, region: str, kinds: list[str], weight: int,
        enabled: bool,
    ) -> tuple[ServerRow | None, list]:  # fmt: skip
        if not url.startswith(("https://", "wss://", "http://", "ws://")):
            return None, [Rejection("BAD_URL", "url must be http(s) or ws(s)", "url")]
        names = ("name", "url", "region", "kinds", "weight", "enabled")
        async with self.db.transaction() as uow:
            row = await uow.session.get(ServerRow, server_id) if server_id else None
            if server_id and row is None:
                return None, [Rejection("NOT_FOUND", "No such server.", "id")]
            before = _row_dict(row, *names) if row else None
            if row is None:
                row = ServerRow(id=new_id("srv"), name=name, url=url)
                uow.session.add(row)
            row.name, row.url, row.region, row.kinds = name, url, region, list(kinds)
            row.weight, row.enabled = max(1, weight), enabled
            operator_log(uow, by, "server.upsert", row.id, before, _row_dict(row, *names))
        return row, []

    # -- API clients (F1) ----------------------------------------------------------------------------
    async def api_clients(self) -> Sequence[ApiClientRow]:
        return await self._all(select(ApiClientRow).order_by(ApiClientRow.client_id))

    async def create_api_client(self, by: str, name: str, scopes: list[str]) -> tuple[ApiClientRow | None, str, list]:
        unknown = sorted(set(scopes) - PARTNER_SCOPES)
        if unknown:
            return None, "", [Rejection("UNKNOWN_SCOPE", f"unknown scopes {unknown}", "scopes")]
        secret = secrets.token_urlsafe(32)
        row = ApiClientRow(
            id=new_id("apc"), client_id=f"pc_{secrets.token_hex(8)}", name=name, secret_hash=secret_digest(secret),
            scopes=sorted(set(scopes)),
        )  # fmt: skip
        async with self.db.transaction() as uow:
            uow.session.add(row)
            operator_log(uow, by, "api_client.create", row.client_id, None, {"name": name, "scopes": row.scopes})
        return row, secret, []

    async def revoke_api_client(self, by: str, client_id: str) -> list[Rejection]:
        async with self.db.transaction() as uow:
            row = await uow.session.scalar(select(ApiClientRow).where(ApiClientRow.client_id == client_id))
            if row is None:
                return [Rejection("NOT_FOUND", "No such API client.", "clientId")]
            row.revoked_at = self.clock.now()
            await self.sessions.revoke_subject(uow, row.id, "partner")
            operator_log(uow, by, "api_client.revoke", client_id, {"revoked": False}, {"revoked": True})
        return []

    # -- operator log --------------------------------------------------------------------------------
    async def bookings(
        self, client_id: str | None, service_code: str | None, before_id: str | None, limit: int
    ) -> Sequence[ServiceBookingRow]:
        """Service bookings, newest first: one client's (its own list) or everyone's (operators)."""
        query = select(ServiceBookingRow)
        if client_id:
            query = query.where(ServiceBookingRow.client_id == client_id)
        if service_code:
            query = query.where(ServiceBookingRow.service_code == service_code)
        if before_id:
            query = query.where(ServiceBookingRow.id < before_id)
        return await self._all(query.order_by(ServiceBookingRow.id.desc()).limit(limit))

    async def operator_log(
        self, operator_id: str | None, action: str | None, before_id: str | None, limit: int
    ) -> Sequence[OperatorLogRow]:
        query = select(OperatorLogRow)
        if operator_id:
            query = query.where(OperatorLogRow.operator_id == operator_id)
        if action:
            query = query.where(OperatorLogRow.action == action)
        if before_id:
            query = query.where(OperatorLogRow.id < before_id)
        return await self._all(query.order_by(OperatorLogRow.id.desc()).limit(limit))
