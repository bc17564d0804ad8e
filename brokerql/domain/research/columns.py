"""B3: the column catalogue (栏目). Each column names the entitlement its articles need by default.

Sub-columns are written `parent.child`; filtering by a parent includes its children. Position info
(持仓资讯) is also a view over every column (articles on the symbols a reader holds); its own column
holds items written for holders, such as dividend or lock-up reminders.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from brokerql.domain.identity.tiers import RESEARCH_BASIC, RESEARCH_PREMIUM


@dataclass(frozen=True, slots=True)
class Column:
    """A column: code, display name, the entitlement its articles need by default, and whether its
    articles are risk-control information (风控资讯, approved by the RISK role instead of a reviewer)."""

    code: str
    name: str
    entitlement: str = RESEARCH_BASIC
    risk_control: bool = False

    @property
    def parent(self) -> str | None:
        """The parent column's code for a sub-column, else None."""
        return self.code.rsplit(".", 1)[0] if "." in self.code else None


_B, _P = RESEARCH_BASIC, RESEARCH_PREMIUM
# Choices: the report library's deep reports are premium (PLATINUM up in the demo) except the latest
# list and the morning notes, which every client gets; the broker's stock pool shows each pick and its
# reason to everyone, the full thesis (body) to premium readers.
COLUMNS: Mapping[str, Column] = {
    c.code: c
    for c in (
        Column("featured", "精选资讯 Featured"),
        Column("position", "持仓资讯 Position info"),
        Column("research", "券商研究 Broker research"),
        Column("research.stocks", "股票研究 Stocks"),
        Column("research.commodity_futures", "商品期货 Commodity futures"),
        Column("research.index_futures", "股指期货 Index futures"),
        Column("research.overseas", "海外市场 Overseas"),
        Column("research.funds", "基金研究 Funds"),
        Column("research.others", "他山之石 From other houses"),
        Column("reports", "研报库 Report library", _P),
        Column("reports.latest", "最新研报 Latest", _B),
        Column("reports.company", "公司研究 Company", _P),
        Column("reports.industry", "行业研究 Industry", _P),
        Column("reports.macro", "宏观研究 Macro", _P),
        Column("reports.major_houses", "大行研报 Major houses", _P),
        Column("reports.strategy", "投资策略 Strategy", _P),
        Column("reports.portfolios", "投资组合 Portfolios", _P),
        Column("reports.morning_notes", "晨会纪要 Morning notes", _B),
        Column("announcements", "公告 Announcements"),
        Column("info_mines", "信息地雷 Info mines"),
        Column("f10", "F10 资料 F10"),
        Column("stock_pool", "券商股票池 Stock pool", _P),
        Column("risk", "风控资讯 Risk-control information", risk_control=True),
    )
}


def column(code: str) -> Column | None:
    """The column with this code, or None."""
    return COLUMNS.get(code)


def column_and_children(code: str) -> tuple[str, ...]:
    """`code` and every sub-column of it (for filtering by a parent column)."""
    return tuple(c for c in COLUMNS if c == code or c.startswith(code + "."))


def article_entitlement(column_code: str, explicit: str | None) -> str:
    """B5: an article needs its own entitlement when one is given, else its column's."""
    if explicit:
        return explicit
    found = COLUMNS.get(column_code)
    return found.entitlement if found else RESEARCH_BASIC


# Every key an article body may need (the default and each column's): what reading a body checks.
BODY_KEYS: tuple[str, ...] = tuple(sorted({RESEARCH_BASIC, *(c.entitlement for c in COLUMNS.values())}))
