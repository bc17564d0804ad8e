"""Writers for the logs and the domain-event trail, used inside the unit of work that made the change."""

from __future__ import annotations

from typing import Any

from brokerql.bus.topics import CLIENT_TIERS_TOPIC
from brokerql.domain.identity.tiers import ClientTierChanged
from brokerql.store.columns import new_id, utcnow
from brokerql.store.database import UnitOfWork
from brokerql.store.tables_identity import ClientLogRow, DomainEventRow, OperatorLogRow


def client_log(uow: UnitOfWork, event: str, username: str, client_id: str | None = None, detail: str = "") -> None:
    """A5 client log: LOGIN_OK, LOGIN_FAILED, LOGIN_LOCKED, UNLOCKED, SESSION_LOCKED, SESSION_UNLOCKED ..."""
    uow.session.add(
        ClientLogRow(id=new_id("clg"), client_id=client_id, username=username, event=event, detail=detail[:255])
    )


def operator_log(
    uow: UnitOfWork,
    operator_id: str,
    action: str,
    target: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """A5 operator log: who (operator), what (action, target), when, before and after."""
    uow.session.add(
        OperatorLogRow(
            id=new_id("olg"), operator_id=operator_id, action=action, target=target[:128], before=before, after=after
        )
    )


def domain_event(uow: UnitOfWork, kind: str, subject_id: str, payload: dict[str, Any]) -> None:
    """An identity domain event (e.g. TierChanged), recorded in the transaction that made the change."""
    uow.session.add(DomainEventRow(id=new_id("evt"), kind=kind, subject_id=subject_id, payload=payload, at=utcnow()))


def tier_changed(
    uow: UnitOfWork,
    client_id: str,
    from_tier: str | None,
    to_tier: str | None,
    reason: str,
    by_operator: str | None = None,
    note: str = "",
) -> None:
    """Record a tier change: one row of the A3 level history and one TierChanged domain event."""
    from brokerql.store.tables_backoffice import LevelChangeRow

    uow.session.add(
        LevelChangeRow(
            id=new_id("lvc"),
            client_id=client_id,
            from_tier=from_tier,
            to_tier=to_tier,
            reason=reason,
            by_operator=by_operator,
            note=note[:255],
        )
    )
    payload = {"from": from_tier, "to": to_tier, "reason": reason, "byOperator": by_operator, "note": note}
    domain_event(uow, "TierChanged", client_id, payload)
    uow.emit(CLIENT_TIERS_TOPIC, ClientTierChanged(client_id=client_id, tier=to_tier, at=utcnow()))
