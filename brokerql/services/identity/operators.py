"""A5 operators: role-based permission checks and operator management."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from cachetools import TTLCache
from sqlalchemy import select

from brokerql.domain.common import Rejection
from brokerql.domain.identity.passwords import Passwords, check_password_policy
from brokerql.domain.identity.roles import Permission, Role, has_permission
from brokerql.services.identity.audit import operator_log
from brokerql.services.identity.sessions import SessionGate
from brokerql.store.columns import new_id
from brokerql.store.database import Database
from brokerql.store.tables import OperatorRow

_UNREAD: Any = object()


class OperatorStanding(StrEnum):
    ALLOWED = "ALLOWED"
    FORBIDDEN = "FORBIDDEN"  # lacks the permission
    GONE = "GONE"  # the operator was deleted


class Operators:
    def __init__(
        self, db: Database, passwords: Passwords, sessions: SessionGate, roles: TTLCache[str, list[str] | None]
    ) -> None:
        self.db = db
        self.passwords = passwords
        self.sessions = sessions
        self._roles = roles

    async def roles_of(self, operator_id: str) -> list[str] | None:
        """The operator's roles (None if the operator no longer exists), cached briefly (roles_cache_seconds)."""
        cached = self._roles.get(operator_id, _UNREAD)
        if cached is not _UNREAD:
            return cached
        async with self.db.read() as session:
            row = await session.get(OperatorRow, operator_id)
        roles = list(row.roles) if row is not None else None
        self._roles[operator_id] = roles
        return roles

    async def standing(self, operator_id: str, permission: Permission | None) -> OperatorStanding:
        """Whether the operator still exists and holds `permission` (any operator when None)."""
        roles = await self.roles_of(operator_id)
        if roles is None:
            return OperatorStanding.GONE
        if permission is not None and not has_permission(roles, permission):
            return OperatorStanding.FORBIDDEN
        return OperatorStanding.ALLOWED

    async def get(self, operator_id: str) -> OperatorRow | None:
        async with self.db.read() as session:
            return await session.get(OperatorRow, operator_id)

    async def list(self) -> Sequence[OperatorRow]:
        async with self.db.read() as session:
            return (await session.scalars(select(OperatorRow).order_by(OperatorRow.username))).all()

    @staticmethod
    def _bad_roles(roles: list[str]) -> list[Rejection]:
        known = {r.value for r in Role}
        return [Rejection("UNKNOWN_ROLE", f"unknown role {r!r}", "roles") for r in roles if r not in known]

    async def create(
        self, by: str, username: str, name: str, password: str, roles: list[str]
    ) -> tuple[OperatorRow | None, list[Rejection]]:
        errors = self._bad_roles(roles) + check_password_policy(password, username=username)
        if errors:
            return None, errors
        password_hash = await asyncio.to_thread(self.passwords.hash, password)
        async with self.db.transaction() as uow:
            if await uow.session.scalar(select(OperatorRow.id).where(OperatorRow.username == username)):
                return None, [Rejection("USERNAME_TAKEN", "This username is taken.", "username")]
            row = OperatorRow(
                id=new_id("op"), username=username, name=name, password_hash=password_hash, roles=sorted(set(roles))
            )
            uow.session.add(row)
            operator_log(uow, by, "operator.create", row.id, None, {"username": username, "roles": row.roles})
        return row, []

    async def set_roles(self, by: str, operator_id: str, roles: list[str]) -> tuple[OperatorRow | None, list]:
        if errors := self._bad_roles(roles):
            return None, errors
        async with self.db.transaction() as uow:
            row = await uow.session.get(OperatorRow, operator_id)
            if row is None:
                return None, [Rejection("NOT_FOUND", "No such operator.", "operatorId")]
            before = {"roles": list(row.roles)}
            row.roles = sorted(set(roles))
            operator_log(uow, by, "operator.set_roles", operator_id, before, {"roles": row.roles})
            if not row.roles:
                await self.sessions.revoke_subject(uow, operator_id, "operator")
        self._roles.pop(operator_id, None)
        return row, []
