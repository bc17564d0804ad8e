"""Identity demo data (only with BROKERQL_DEMO=1): branches, managers, profiles, grading dimensions,
a partner API client, bookable services, servers and the data dictionary."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from brokerql.domain.compliance.suitability import ELIGIBILITY_WINDOW_DAYS
from brokerql.domain.identity.grading import DEFAULT_GRADING_MODEL
from brokerql.services.identity.backoffice import secret_digest
from brokerql.services.identity.grading import model_to_json
from brokerql.store.columns import new_id, utcnow
from brokerql.store.database import UnitOfWork
from brokerql.store.tables import ClientRow
from brokerql.store.tables_backoffice import (
    ApiClientRow,
    BookableServiceRow,
    ClientDimensionRow,
    DictionaryEntryRow,
    GradingModelRow,
    ServerRow,
)
from brokerql.store.tables_identity import AccountManagerRow, BranchRow, ClientDailyAssetsRow, ClientProfileRow

# Demo only, like the demo passwords: a partner application for trying POST /oauth/token.
DEMO_API_CLIENT_ID = "demo-partner"
DEMO_API_CLIENT_SECRET = "demo-partner-secret-2026"

# username -> (risk level, branch code, turnover, commission, tenure months, active days)
# Suitability cases (docs/api.md, "Compliance rules"): std002 (C2) needs an acknowledgement for
# main-board stocks (R3); std001 and silver001 (C3) for ChiNext, STAR and HK (R4); gold001 and up
# (C4) buy all of those; only vip001 (C5) may trade index futures (R5, refused above a client's level).
DEMO_PROFILES = {
    "std001": ("C3", "SH01", "200000", "300", "6", "10"),
    "std002": ("C2", "SH01", "900000", "900", "14", "25"),
    "silver001": ("C3", "SH01", "3000000", "4000", "30", "60"),
    "gold001": ("C4", "SZ01", "20000000", "20000", "48", "90"),
    "plat001": ("C4", "SZ01", "60000000", "60000", "60", "110"),
    "vip001": ("C5", "BJ01", "200000000", "150000", "96", "200"),
    "trial001": ("C1", "BJ01", "0", "0", "0", "0"),
}
# username -> average daily assets (CNY) over the 20 trading days before the demo starts. With the
# experience (tenure above) they decide board eligibility: std001 has the assets for ChiNext but only
# 6 months of experience; std002 neither; silver001 and up meet STAR, ChiNext and Stock Connect.
DEMO_ASSET_HISTORY = {
    "std001": "150000",
    "std002": "90000",
    "silver001": "600000",
    "gold001": "1300000",
    "plat001": "3300000",
    "vip001": "15000000",
}
BRANCHES = (
    ("SH01", "上海浦东营业部", "上海"),
    ("SZ01", "深圳福田营业部", "深圳"),
    ("BJ01", "北京金融街营业部", "北京"),
)
SERVICES = (
    ("ADVISOR_CALL", "投顾电话 Advisor call", "A call with your investment advisor", "SILVER"),
    ("IPO_REMINDER", "新股提醒 IPO reminder", "A reminder before each IPO subscription day", "STANDARD"),
    ("STRATEGY_MEETING", "策略会 Strategy meeting", "A seat at the quarterly strategy meeting", "PLATINUM"),
)
SERVERS = (
    ("sh-1", "https://sh1.brokerql.example/graphql", "SH", 10),
    ("sz-1", "https://sz1.brokerql.example/graphql", "SZ", 5),
    ("bj-1", "https://bj1.brokerql.example/graphql", "BJ", 5),
)
DICTIONARY = {
    "risk_level": [("C1", "保守型"), ("C2", "谨慎型"), ("C3", "稳健型"), ("C4", "积极型"), ("C5", "激进型")],
    "gender": [("MALE", "男"), ("FEMALE", "女"), ("UNKNOWN", "未知")],
    "id_type": [("ID_CARD", "居民身份证"), ("PASSPORT", "护照"), ("HK_MACAO_PERMIT", "港澳居民来往内地通行证")],
    "channel": [("APP", "手机App"), ("WEB", "网页"), ("SMS", "短信"), ("PHONE", "电话"), ("EMAIL", "邮件")],
}


def _trading_days_before(today: date, count: int) -> list[date]:
    """The `count` weekdays before `today` (the demo calendar has no holidays)."""
    days: list[date] = []
    day = today
    while len(days) < count:
        day -= timedelta(days=1)
        if day.weekday() < 5:
            days.append(day)
    return days


async def seed_identity_demo(uow: UnitOfWork) -> None:
    branches = {}
    for code, name, city in BRANCHES:
        branch = BranchRow(id=new_id("brn"), code=code, name=name, city=city)
        uow.session.add(branch)
        await uow.session.flush()
        manager = AccountManagerRow(id=new_id("mgr"), branch_id=branch.id, name=f"{city}客户经理", phone="021-0000")
        uow.session.add(manager)
        branches[code] = (branch.id, manager.id)
    await uow.session.flush()
    clients = (await uow.session.scalars(select(ClientRow))).all()
    for n, client in enumerate(clients):
        spec = DEMO_PROFILES.get(client.username)
        if spec is None:
            continue
        risk, branch_code, turnover, commission, tenure, activity = spec
        branch_id, manager_id = branches[branch_code]
        uow.session.add(
            ClientProfileRow(
                client_id=client.id, id_number=f"3101011990010{n:05d}", birth_date=date(1980 + n, 1 + n, 10),
                gender="FEMALE" if n % 2 else "MALE", phone=f"1380013{n:04d}", email=f"{client.username}@example.com",
                risk_level=risk, investment_experience_years=int(tenure) // 12, risk_assessed_at=utcnow(),
                suitability=["A_SHARE"] + (["MARGIN"] if risk in ("C4", "C5") else []),
                service_plan="VIP" if client.tier_code in ("PLATINUM", "DIAMOND") else "BASIC",
                channels=["APP", "SMS"], branch_id=branch_id, manager_id=manager_id,
                trial_expires_at=utcnow() + timedelta(days=14) if client.tier_code == "TRIAL" else None,
                trading_since=date.today() - timedelta(days=int(tenure) * 31) if int(tenure) else None,
            )
        )  # fmt: skip
        history = DEMO_ASSET_HISTORY.get(client.username)
        for day in _trading_days_before(date.today(), ELIGIBILITY_WINDOW_DAYS) if history else ():
            uow.session.add(ClientDailyAssetsRow(client_id=client.id, day=day, assets=Decimal(history)))
        for dimension, value in (("TURNOVER", turnover), ("COMMISSION", commission), ("TENURE", tenure),
                                 ("ACTIVITY", activity)):  # fmt: skip
            uow.session.add(ClientDimensionRow(client_id=client.id, dimension=dimension, value=Decimal(value)))
    uow.session.add(
        ApiClientRow(
            id=new_id("apc"), client_id=DEMO_API_CLIENT_ID, name="Demo partner",
            secret_hash=secret_digest(DEMO_API_CLIENT_SECRET), scopes=["quotes.read", "servers.read", "tiers.read"],
        )
    )  # fmt: skip
    for code, name, description, min_tier in SERVICES:
        uow.session.add(BookableServiceRow(code=code, name=name, description=description, min_tier=min_tier))
    for name, url, region, weight in SERVERS:
        uow.session.add(ServerRow(id=new_id("srv"), name=name, url=url, region=region, kinds=["API"], weight=weight))
    for category, entries in DICTIONARY.items():
        for order, (code, label) in enumerate(entries):
            uow.session.add(DictionaryEntryRow(category=category, code=code, label=label, sort_order=order))
    uow.session.add(GradingModelRow(id=1, model=model_to_json(DEFAULT_GRADING_MODEL), version=1))
