"""Identity tables (A1, A5, A6): profiles, branches, login security, sessions, logs.

The back-office and grading tables live in :mod:`brokerql.store.tables_backoffice`, imported at the
end so that importing this module registers every identity table with the metadata alembic reads.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Index, Text
from sqlmodel import Field, SQLModel

from brokerql.store.columns import JsonText, Money, UtcDateTime, utcnow


def _ts(nullable: bool = False) -> Any:
    if nullable:
        return Field(default=None, sa_type=UtcDateTime, nullable=True)
    return Field(default_factory=utcnow, sa_type=UtcDateTime, nullable=False)


class BranchRow(SQLModel, table=True):
    """A branch office (营业部)."""

    __tablename__ = "branch"
    id: str = Field(primary_key=True, max_length=40)
    code: str = Field(unique=True, max_length=16)
    name: str = Field(max_length=128)
    city: str = Field(default="", max_length=64)


class AccountManagerRow(SQLModel, table=True):
    """An account manager (客户经理) of a branch."""

    __tablename__ = "account_manager"
    id: str = Field(primary_key=True, max_length=40)
    branch_id: str = Field(foreign_key="branch.id", index=True, max_length=40)
    name: str = Field(max_length=128)
    phone: str = Field(default="", max_length=32)


class ClientProfileRow(SQLModel, table=True):
    """A1: the four attribute groups of a client (natural, risk, service, branch)."""

    __tablename__ = "client_profile"
    client_id: str = Field(foreign_key="client.id", primary_key=True, max_length=40)
    # natural
    id_type: str = Field(default="ID_CARD", max_length=16)
    id_number: str = Field(default="", max_length=32)
    birth_date: date | None = None
    gender: str = Field(default="UNKNOWN", max_length=8)
    phone: str | None = Field(default=None, unique=True, max_length=20)
    email: str = Field(default="", max_length=128)
    address: str = Field(default="", max_length=255)
    # risk
    risk_level: str = Field(default="C1", max_length=2)
    investment_experience_years: int = 0
    risk_assessed_at: datetime | None = _ts(nullable=True)
    suitability: list[str] = Field(default_factory=list, sa_type=JsonText)
    # Boards an operator enabled on evidence (STAR, CHINEXT, HK_CONNECT), beyond what the data derives.
    eligibility_grants: list[str] = Field(default_factory=list, sa_type=JsonText)
    trading_since: date | None = None  # first securities trade: the experience the board rules count
    # service
    service_plan: str = Field(default="BASIC", max_length=32)
    advisor: str = Field(default="", max_length=128)
    channels: list[str] = Field(default_factory=list, sa_type=JsonText)
    # branch
    branch_id: str | None = Field(default=None, foreign_key="branch.id", index=True, max_length=40)
    manager_id: str | None = Field(default=None, foreign_key="account_manager.id", max_length=40)
    # level workflow
    trial_expires_at: datetime | None = _ts(nullable=True)
    below_since: datetime | None = _ts(nullable=True)
    # A forced tier holds (grading runs leave it) until an operator lifts it or `forced_until` passes.
    forced_tier: str | None = Field(default=None, max_length=16)
    forced_until: datetime | None = _ts(nullable=True)
    updated_at: datetime = _ts()


class CredentialRow(SQLModel, table=True):
    """Second secrets of a client or operator: TOTP and the communication password (通讯密码)."""

    __tablename__ = "credential"
    subject_kind: str = Field(primary_key=True, max_length=16)
    subject_id: str = Field(primary_key=True, max_length=40)
    totp_secret: str | None = Field(default=None, max_length=64)
    totp_pending_secret: str | None = Field(default=None, max_length=64)
    totp_last_step: int | None = None
    communication_password_hash: str | None = Field(default=None, max_length=255)


class LoginGuardRow(SQLModel, table=True):
    """Failed-login state per login name, existing or not, so unknown names behave like known ones."""

    __tablename__ = "login_guard"
    subject_kind: str = Field(primary_key=True, max_length=16)
    username: str = Field(primary_key=True, max_length=64)
    failures: int = 0
    locks: int = 0
    locked_until: datetime | None = _ts(nullable=True)
    captcha_required: bool = False
    last_activity: datetime | None = _ts(nullable=True)
    # Last write of the row (every attempt writes it): stale rows of unknown names are purged by it.
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime, sa_column_kwargs={"onupdate": utcnow})


class CaptchaRow(SQLModel, table=True):
    """An issued image captcha: only a salted hash of the answer; deleted on first check."""

    __tablename__ = "captcha"
    id: str = Field(primary_key=True, max_length=40)
    answer_hash: str = Field(max_length=128)
    expires_at: datetime = Field(sa_type=UtcDateTime)


class CertificateRow(SQLModel, table=True):
    """A client's registered public key or certificate (USB-Key login)."""

    __tablename__ = "certificate"
    id: str = Field(primary_key=True, max_length=40)
    client_id: str = Field(foreign_key="client.id", index=True, max_length=40)
    label: str = Field(default="", max_length=64)
    public_key_pem: str = Field(sa_type=Text)
    created_at: datetime = _ts()
    revoked_at: datetime | None = _ts(nullable=True)


class LoginChallengeRow(SQLModel, table=True):
    """A server challenge for certificate login; single use."""

    __tablename__ = "login_challenge"
    id: str = Field(primary_key=True, max_length=40)
    username: str = Field(max_length=64)
    nonce: str = Field(max_length=64)
    expires_at: datetime = Field(sa_type=UtcDateTime)


class SmsCodeRow(SQLModel, table=True):
    """The latest SMS verification code sent to a phone (hash only)."""

    __tablename__ = "sms_code"
    phone: str = Field(primary_key=True, max_length=20)
    code_hash: str = Field(max_length=128)
    issued_at: datetime = Field(sa_type=UtcDateTime)
    attempts: int = 0
    consumed: bool = False


class SmsOutboxRow(SQLModel, table=True):
    """Messages for the SMS platform: written in the transaction, then handed to the sender."""

    __tablename__ = "sms_outbox"
    id: str = Field(primary_key=True, max_length=40)
    phone: str = Field(max_length=20, index=True)
    template: str = Field(max_length=32)
    body_masked: str = Field(max_length=255)
    status: str = Field(default="PENDING", max_length=16)
    created_at: datetime = _ts()
    sent_at: datetime | None = _ts(nullable=True)


class AuthSessionRow(SQLModel, table=True):
    """A login session: its refresh-token family and access tokens carry its id (`sid`)."""

    __tablename__ = "auth_session"
    id: str = Field(primary_key=True, max_length=40)
    subject_id: str = Field(index=True, max_length=40)
    subject_kind: str = Field(max_length=16)
    account_type: str | None = Field(default=None, max_length=16)
    method: str = Field(default="PASSWORD", max_length=24)
    created_at: datetime = _ts()
    last_seen_at: datetime = _ts()
    revoked_at: datetime | None = _ts(nullable=True)


Index("ix_auth_session_revoked_at", AuthSessionRow.revoked_at)


class ClientLogRow(SQLModel, table=True):
    """A5 client log: logins, failures, locks, unlocks, session events."""

    __tablename__ = "client_log"
    id: str = Field(primary_key=True, max_length=40)
    client_id: str | None = Field(default=None, index=True, max_length=40)
    username: str = Field(max_length=64)
    event: str = Field(max_length=32, index=True)
    detail: str = Field(default="", max_length=255)
    at: datetime = _ts()


class OperatorLogRow(SQLModel, table=True):
    """A5 operator log: who did what to which target, when, with the before and after."""

    __tablename__ = "operator_log"
    id: str = Field(primary_key=True, max_length=40)
    operator_id: str = Field(index=True, max_length=40)
    action: str = Field(max_length=64, index=True)
    target: str = Field(default="", max_length=128)
    before: dict[str, Any] | None = Field(default=None, sa_type=JsonText)
    after: dict[str, Any] | None = Field(default=None, sa_type=JsonText)
    at: datetime = _ts()


class DomainEventRow(SQLModel, table=True):
    """Identity domain events (tier changes, grading runs, ...): the audit trail of state changes."""

    __tablename__ = "domain_event"
    id: str = Field(primary_key=True, max_length=40)
    kind: str = Field(max_length=48, index=True)
    subject_id: str = Field(default="", index=True, max_length=40)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JsonText)
    at: datetime = _ts()


class ClientDailyAssetsRow(SQLModel, table=True):
    """A client's total assets at market value at the close of one trading day (all its accounts, CNY).

    The board eligibility rules average the last 20 trading days; grading averages its own window.
    """

    __tablename__ = "client_daily_assets"
    client_id: str = Field(foreign_key="client.id", primary_key=True, max_length=40)
    day: date = Field(primary_key=True)
    assets: Decimal = Field(default=Decimal(0), sa_type=Money)


from brokerql.store import tables_backoffice  # noqa: E402, F401 - registers the back-office tables
