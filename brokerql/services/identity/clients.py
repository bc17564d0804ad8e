"""A1 clients: profiles (natural, risk, service, branch), the operators' client list, self-service edits,
login unlocks and session revocation by an operator, and browsing records (A3)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from sqlalchemy import or_, select

from brokerql.domain.clock import Clock
from brokerql.domain.common import Rejection
from brokerql.domain.identity.login_policy import LoginGuardState, unlock
from brokerql.services.auth import AuthService
from brokerql.services.identity.audit import client_log, operator_log
from brokerql.services.identity.guard import load_guard, store_guard
from brokerql.store.columns import new_id
from brokerql.store.database import Database
from brokerql.store.tables import ClientRow
from brokerql.store.tables_backoffice import BrowsingRecordRow
from brokerql.store.tables_identity import AccountManagerRow, BranchRow, ClientLogRow, ClientProfileRow

RISK_LEVELS = ("C1", "C2", "C3", "C4", "C5")
# What a client may change about themselves; the rest (risk, branch, manager, plan) is the broker's.
SELF_EDITABLE = frozenset({"phone", "email", "address", "channels"})
OPERATOR_EDITABLE = SELF_EDITABLE | {
    "name", "id_type", "id_number", "birth_date", "gender", "risk_level", "investment_experience_years",
    "suitability", "service_plan", "advisor", "branch_id", "manager_id", "status",
}  # fmt: skip


@dataclass
class ClientFilter:
    tier: str | None = None
    branch_id: str | None = None
    status: str | None = None
    risk_level: str | None = None
    search: str | None = None


@dataclass
class ProfileChanges:
    """Only the fields that are not None are changed."""

    name: str | None = None
    id_type: str | None = None
    id_number: str | None = None
    birth_date: date | None = None
    gender: str | None = None
    phone: str | None = None
    email: str | None = None
    address: str | None = None
    risk_level: str | None = None
    investment_experience_years: int | None = None
    suitability: list[str] | None = None
    service_plan: str | None = None
    advisor: str | None = None
    channels: list[str] | None = None
    branch_id: str | None = None
    manager_id: str | None = None
    status: str | None = None

    def given(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in values.items()}


class ClientDirectory:
    def __init__(self, db: Database, auth: AuthService, clock: Clock) -> None:
        self.db = db
        self.auth = auth
        self.clock = clock

    async def get(self, client_id: str) -> ClientRow | None:
        async with self.db.read() as session:
            return await session.get(ClientRow, client_id)

    async def profile(self, client_id: str) -> ClientProfileRow:
        async with self.db.read() as session:
            return await session.get(ClientProfileRow, client_id) or ClientProfileRow(client_id=client_id)

    async def branch(self, branch_id: str | None) -> BranchRow | None:
        if branch_id is None:
            return None
        async with self.db.read() as session:
            return await session.get(BranchRow, branch_id)

    async def manager(self, manager_id: str | None) -> AccountManagerRow | None:
        if manager_id is None:
            return None
        async with self.db.read() as session:
            return await session.get(AccountManagerRow, manager_id)

    async def branches(self) -> Sequence[BranchRow]:
        async with self.db.read() as session:
            return (await session.scalars(select(BranchRow).order_by(BranchRow.code))).all()

    async def managers(self, branch_id: str) -> Sequence[AccountManagerRow]:
        async with self.db.read() as session:
            query = select(AccountManagerRow).where(AccountManagerRow.branch_id == branch_id)
            return (await session.scalars(query.order_by(AccountManagerRow.name))).all()

    async def search(self, flt: ClientFilter, after_id: str | None, limit: int) -> Sequence[ClientRow]:
        """Clients by id (time-ordered, so keyset pages are stable), filtered; `limit` rows at most."""
        query = select(ClientRow).outerjoin(ClientProfileRow, ClientProfileRow.client_id == ClientRow.id)
        if flt.tier:
            query = query.where(ClientRow.tier_code == flt.tier)
        if flt.status:
            query = query.where(ClientRow.status == flt.status)
        if flt.branch_id:
            query = query.where(ClientProfileRow.branch_id == flt.branch_id)
        if flt.risk_level:
            query = query.where(ClientProfileRow.risk_level == flt.risk_level)
        if flt.search:
            pattern = f"%{flt.search.strip()}%"
            query = query.where(or_(ClientRow.username.ilike(pattern), ClientRow.name.ilike(pattern)))
        if after_id:
            query = query.where(ClientRow.id > after_id)
        async with self.db.read() as session:
            return (await session.scalars(query.order_by(ClientRow.id).limit(limit))).all()

    async def update(
        self, client_id: str, changes: ProfileChanges, *, operator_id: str | None
    ) -> tuple[ClientRow | None, list[Rejection]]:
        """Apply profile changes: a client may change SELF_EDITABLE fields only; operators more."""
        given = changes.given()
        allowed = OPERATOR_EDITABLE if operator_id else SELF_EDITABLE
        errors = [Rejection("NOT_EDITABLE", f"{k} cannot be changed here", k) for k in given if k not in allowed]
        if "risk_level" in given and given["risk_level"] not in RISK_LEVELS:
            errors.append(Rejection("BAD_RISK_LEVEL", "riskLevel must be C1 to C5", "riskLevel"))
        if "status" in given and given["status"] not in ("ACTIVE", "LOCKED", "CLOSED"):
            errors.append(Rejection("BAD_STATUS", "status must be ACTIVE, LOCKED or CLOSED", "status"))
        if errors:
            return None, errors
        async with self.db.transaction() as uow:
            client = await uow.session.get(ClientRow, client_id)
            if client is None:
                return None, [Rejection("NOT_FOUND", "No such client.", "clientId")]
            profile = await uow.session.get(ClientProfileRow, client_id)
            if profile is None:
                profile = ClientProfileRow(client_id=client_id)
                uow.session.add(profile)
            if given.get("branch_id") and await uow.session.get(BranchRow, given["branch_id"]) is None:
                return None, [Rejection("NOT_FOUND", "No such branch.", "branchId")]
            if given.get("manager_id") and await uow.session.get(AccountManagerRow, given["manager_id"]) is None:
                return None, [Rejection("NOT_FOUND", "No such account manager.", "managerId")]
            before: dict[str, Any] = {}
            for key, value in given.items():
                target = client if key in ("name", "status") else profile
                before[key] = getattr(target, key)
                setattr(target, key, value)
            profile.updated_at = self.clock.now()
            if operator_id:
                operator_log(uow, operator_id, "client.update", client_id, _jsonable(before), _jsonable(given))
                if given.get("status") in ("LOCKED", "CLOSED") and before.get("status") != given["status"]:
                    # A locked or closed client is out at once: every session, and its open streams.
                    ids = await self.auth.sessions.revoke_subject(uow, client_id, "client")
                    client_log(uow, "SESSIONS_REVOKED", client.username, client.id, f"{len(ids)} on {given['status']}")
            else:
                client_log(uow, "PROFILE_UPDATED", client.username, client.id, ",".join(sorted(given)))
        return client, []

    async def unlock_login(self, operator_id: str, client_id: str) -> list[Rejection]:
        """An operator lifts a login lock (the captcha stays on for the next attempt)."""
        async with self.db.transaction() as uow:
            client = await uow.session.get(ClientRow, client_id)
            if client is None:
                return [Rejection("NOT_FOUND", "No such client.", "clientId")]
            row, state = await load_guard(uow, "client", client.username)
            before = {"failures": state.failures, "lockedUntil": str(state.locked_until)}
            after: LoginGuardState = unlock(state)
            store_guard(row, after)
            operator_log(uow, operator_id, "client.unlock_login", client_id, before, {"failures": 0})
            client_log(uow, "UNLOCKED", client.username, client.id, f"by {operator_id}")
        return []

    async def revoke_sessions(self, operator_id: str, client_id: str) -> int:
        async with self.db.transaction() as uow:
            client = await uow.session.get(ClientRow, client_id)
            if client is None:
                return 0
            ids = await self.auth.sessions.revoke_subject(uow, client_id, "client")
            operator_log(uow, operator_id, "client.revoke_sessions", client_id, None, {"sessions": len(ids)})
            client_log(uow, "SESSIONS_REVOKED", client.username, client.id, f"by {operator_id}")
        return len(ids)

    async def log(self, client_id: str | None, event: str | None, before_id: str | None, limit: int) -> list:
        query = select(ClientLogRow)
        if client_id:
            query = query.where(ClientLogRow.client_id == client_id)
        if event:
            query = query.where(ClientLogRow.event == event)
        if before_id:
            query = query.where(ClientLogRow.id < before_id)
        async with self.db.read() as session:
            return list((await session.scalars(query.order_by(ClientLogRow.id.desc()).limit(limit))).all())

    async def record_browsing(self, client_id: str, kind: str, ref: str) -> None:
        async with self.db.transaction() as uow:
            uow.session.add(BrowsingRecordRow(id=new_id("brw"), client_id=client_id, kind=kind[:24], ref=ref[:128]))

    async def browsing(self, client_id: str, before_id: str | None, limit: int) -> list[BrowsingRecordRow]:
        query = select(BrowsingRecordRow).where(BrowsingRecordRow.client_id == client_id)
        if before_id:
            query = query.where(BrowsingRecordRow.id < before_id)
        async with self.db.read() as session:
            return list((await session.scalars(query.order_by(BrowsingRecordRow.id.desc()).limit(limit))).all())
