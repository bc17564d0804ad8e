"""Demo data (the demo users of the README): clients, operators, accounts with cash and positions from earlier days."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from brokerql.domain.identity.passwords import Passwords
from brokerql.services.identity.demo import seed_identity_demo
from brokerql.services.products.credit_rules import DEMO_LENDING_POOL
from brokerql.services.research.demo import seed_research_demo
from brokerql.store.columns import new_id
from brokerql.store.database import Database
from brokerql.store.tables import AccountRow, ClientRow, OperatorRow, PositionRow
from brokerql.store.tables_trading import LendingPoolRow

CLIENT_PASSWORD = "Demo#2026"
OPERATOR_PASSWORD = "Admin#2026"

# username, display name, tier, starting CNY cash of the CASH account
DEMO_CLIENTS = (
    ("std001", "张伟", "STANDARD", "200000"),
    ("std002", "王芳", "STANDARD", "200000"),
    ("silver001", "李娜", "SILVER", "500000"),
    ("gold001", "刘洋", "GOLD", "8000000"),  # enough for an ETF creation unit (C6 arbitrage)
    ("plat001", "陈静", "PLATINUM", "3000000"),
    ("vip001", "杨帆", "DIAMOND", "10000000"),
    ("trial001", "赵磊", "TRIAL", "0"),
)
# Positions bought on earlier trading days, so they are sellable today (T+1 already passed).
DEMO_POSITIONS = (("600000", 10_000, "12.80"), ("000001", 5_000, "10.90"), ("600519", 100, "1398.00"))
DEMO_OPERATORS = (
    ("admin", "系统管理员", ["ADMIN", "EDITOR", "REVIEWER", "RISK", "OPS", "BRANCH_MANAGER"]),
    ("editor", "资讯编辑", ["EDITOR"]),
    ("reviewer", "资讯审核", ["REVIEWER"]),
    ("risk", "风控专员", ["RISK"]),
    ("ops", "运维值班", ["OPS"]),
    ("branch", "营业部经理", ["BRANCH_MANAGER"]),
)
MARGIN_TIERS = {"GOLD", "PLATINUM", "DIAMOND"}


async def database_is_empty(db: Database) -> bool:
    async with db.read() as session:
        return (await session.scalar(select(func.count()).select_from(ClientRow))) == 0


async def seed_demo(db: Database, passwords: Passwords) -> bool:
    """Insert the demo data into an empty database; returns False (and does nothing) otherwise."""
    if not await database_is_empty(db):
        return False
    client_hash = passwords.hash(CLIENT_PASSWORD)
    operator_hash = passwords.hash(OPERATOR_PASSWORD)
    async with db.transaction() as uow:
        for username, name, tier, cash in DEMO_CLIENTS:
            client = ClientRow(
                id=new_id("cli"), username=username, name=name, password_hash=client_hash, tier_code=tier
            )
            uow.session.add(client)
            await uow.session.flush()
            account_types = (
                ["CASH"] + (["MARGIN"] if tier in MARGIN_TIERS else []) + (["FUTURES"] if tier == "DIAMOND" else [])
            )
            if tier == "TRIAL":
                account_types = []
            for account_type in account_types:
                amount = Decimal(cash) if account_type == "CASH" else Decimal(cash) / 2
                account = AccountRow(
                    id=new_id("acc"),
                    client_id=client.id,
                    type=account_type,
                    balance=amount,
                    available=amount,
                    frozen=Decimal(0),
                )
                uow.session.add(account)
                await uow.session.flush()
                if account_type == "CASH":
                    for symbol, quantity, cost in DEMO_POSITIONS:
                        uow.session.add(
                            PositionRow(
                                account_id=account.id,
                                symbol=symbol,
                                quantity=quantity,
                                sellable_quantity=quantity,
                                cost=Decimal(cost) * quantity,
                            )
                        )
        for symbol, total in DEMO_LENDING_POOL.items():  # the broker's lendable shares (C7)
            uow.session.add(LendingPoolRow(symbol=symbol, total=total))
        for username, name, roles in DEMO_OPERATORS:
            uow.session.add(
                OperatorRow(id=new_id("op"), username=username, name=name, password_hash=operator_hash, roles=roles)
            )
        await seed_identity_demo(uow)
    await seed_research_demo(db)  # articles, F10, stock pool (B1-B5)
    return True
