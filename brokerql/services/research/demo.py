"""Demo content for the information platform: the sample feeds, an article in every column (Chinese and
English), premium reports (PLATINUM up), risk notices taken through RISK approval, info mines on the
demo symbols over several days, F10 profiles and the broker's stock pool."""

from __future__ import annotations

import json
from datetime import date, timedelta

from sqlalchemy import delete, select

from brokerql.bus.topics import ARTICLES_PUBLISHED_TOPIC
from brokerql.domain.clock import SYSTEM_CLOCK
from brokerql.domain.research.workflow import ArticleStatus
from brokerql.research_samples import SAMPLE_FILES
from brokerql.services.research.editorial import EditorialDesk
from brokerql.services.research.imports import FeedImporter
from brokerql.store.columns import new_id
from brokerql.store.database import Database
from brokerql.store.tables import OperatorRow, OutboxRow
from brokerql.store.tables_research import ArticleNoticeRow, ArticleRow, InstrumentProfileRow, StockPoolEntryRow

SEED_ACTOR = "seed"


def _a(item_id: str, column: str, title: str, summary: str, body: str, symbols: list[str] | None = None,
       days_ago: int = 1, **extra: object) -> dict[str, object]:  # fmt: skip
    when = (SYSTEM_CLOCK.now() - timedelta(days=days_ago)).isoformat()
    return {"id": item_id, "column": column, "title": title, "summary": summary, "body": body,
            "symbols": symbols or [], "published_at": when, "authors": ["BrokerQL 研究所"], **extra}  # fmt: skip


DEMO_ITEMS = [
    _a(
        "DEMO-POS-1",
        "position",
        "持仓提醒：浦发银行将于下周实施分红",
        "每10股派发现金红利4.1元，股权登记日为下周二。",
        "## 分红提醒\n\n浦发银行2026年中期利润分配方案：每10股派发现金红利4.1元（含税）。",
        ["600000"],
    ),
    _a(
        "DEMO-CF-1",
        "research.commodity_futures",
        "Copper weekly: inventories fall for a third week",
        "LME and SHFE copper inventories fell again; we stay constructive.",
        "## Copper\n\nInventories fell 8% w/w.",
    ),
    _a(
        "DEMO-OV-1",
        "research.overseas",
        "港股策略：互联网龙头估值仍具吸引力",
        "恒生科技指数估值处于历史低位，关注腾讯控股、阿里巴巴。",
        "## 港股\n\n腾讯控股回购持续，阿里巴巴云业务增速回升。",
        ["00700", "09988"],
    ),
    _a(
        "DEMO-FD-1",
        "research.funds",
        "ETF weekly: flows into CSI 300 ETFs",
        "The 510300 ETF took in CNY 3.2bn this week.",
        "## Flows\n\nBroad-based ETFs took most of the inflows; 510300 led.",
        ["510300"],
    ),
    _a(
        "DEMO-LT-1",
        "reports.latest",
        "最新研报速览（11月第4周）",
        "本周共发布研报32篇，覆盖银行、白酒、新能源。",
        "## 速览\n\n本周研报重点覆盖银行、白酒、新能源三个行业。",
        ["600519", "300750"],
    ),
    _a(
        "DEMO-ST-1",
        "reports.strategy",
        "2027年度投资策略：盈利修复与红利并重",
        "我们预计明年沪深300盈利增速回升至8%，红利策略仍占优。",
        "## 年度策略\n\n盈利修复叠加流动性宽松，建议均衡配置红利与成长。\n\n重点推荐贵州茅台、中国平安、宁德时代。",
        ["600519", "601318", "300750"],
        3,
    ),
    _a(
        "DEMO-PF-1",
        "reports.portfolios",
        "Model portfolio for December",
        "Overweight banks and insurers, neutral consumer.",
        "## Portfolio\n\n| Symbol | Weight |\n|---|---|\n| 601318 | 20% |\n| 600000 | 15% |",
        ["601318", "600000"],
    ),
    _a(
        "DEMO-IM-1",
        "info_mines",
        "平安银行：董事会审议通过年度风险偏好陈述书",
        "董事会会议决议公告要点。",
        "## 要点\n\n董事会审议通过2027年度风险偏好陈述书。",
        ["000001"],
        5,
    ),
    _a(
        "DEMO-IM-2",
        "info_mines",
        "贵州茅台：经销商大会召开在即",
        "市场关注明年配额与价格政策。",
        "## 要点\n\n经销商大会将于下月召开。",
        ["600519"],
        2,
    ),
    _a(
        "DEMO-IM-3",
        "info_mines",
        "浦发银行：获准发行二级资本债券",
        "获准发行不超过300亿元二级资本债券。",
        "## 要点\n\n补充二级资本，提升资本充足率。",
        ["600000"],
        4,
    ),
    _a(
        "DEMO-F10-1",
        "f10",
        "中芯国际 F10：股本结构变动",
        "科创板上市公司股本结构与主要股东变动摘要。",
        "## 股本\n\n前十大股东持股比例合计约55%。",
        ["688981"],
    ),
    _a(
        "DEMO-SP-1",
        "stock_pool",
        "股票池调入：中国平安",
        "寿险新业务价值改善，估值处历史低位。",
        "## 调入理由\n\n新业务价值增速转正，投资收益改善，股息率超过5%。",
        ["601318"],
    ),
    _a(
        "DEMO-SP-2",
        "stock_pool",
        "Stock pool addition: CATL",
        "Energy storage doubles; overseas plants ramp up.",
        "## Thesis\n\nStorage volumes doubled; margins held despite price cuts.",
        ["300750"],
    ),
    _a(
        "DEMO-RSK-1",
        "risk",
        "风险提示：警惕非法荐股与虚假投资平台",
        "近期出现冒用我司名义的非法荐股群，请投资者提高警惕。",
        "## 风险提示\n\n我司从未通过社交群组推荐股票或收取会员费。如遇可疑情况，请拨打客服热线核实。",
    ),
    _a(
        "DEMO-RSK-2",
        "risk",
        "Risk notice: high volatility around index futures expiry",
        "IF2612 expires this month; margins may be raised.",
        "## Notice\n\nThe exchange may raise margin requirements before expiry.",
        ["IF2612"],
    ),
    _a(
        "DEMO-CO-2",
        "reports.company",
        "贵州茅台深度报告：渠道改革与提价空间",
        "直营占比提升打开提价空间，维持买入评级。",
        "## 深度\n\n直营渠道占比提升至45%，吨价提升贡献主要增长。目标价1800元。",
        ["600519"],
        2,
        attachments=[{"name": "moutai-deep.pdf", "url": "https://research.example.com/moutai-deep.pdf"}],
    ),
]

PROFILES = [
    (
        "600000",
        "上海浦东发展银行股份有限公司",
        "银行",
        date(1999, 11, 10),
        29_352_000_000,
        29_352_000_000,
        "吸收公众存款，发放贷款",
        "张为忠",
    ),
    (
        "600519",
        "贵州茅台酒股份有限公司",
        "白酒",
        date(2001, 8, 27),
        1_256_197_800,
        1_256_197_800,
        "茅台酒及系列酒的生产与销售",
        "张德芹",
    ),
    (
        "601318",
        "中国平安保险(集团)股份有限公司",
        "保险",
        date(2007, 3, 1),
        18_210_234_607,
        10_762_657_482,
        "综合金融服务",
        "马明哲",
    ),
    (
        "000001",
        "平安银行股份有限公司",
        "银行",
        date(1991, 4, 3),
        19_405_918_198,
        19_405_600_653,
        "商业银行业务",
        "谢永林",
    ),
    (
        "000858",
        "宜宾五粮液股份有限公司",
        "白酒",
        date(1998, 4, 27),
        3_881_608_005,
        3_881_608_005,
        "五粮液系列酒的生产与销售",
        "曾从钦",
    ),
    (
        "300750",
        "宁德时代新能源科技股份有限公司",
        "电池",
        date(2018, 6, 11),
        4_403_466_458,
        3_920_000_000,
        "动力电池与储能系统",
        "曾毓群",
    ),
    (
        "688981",
        "中芯国际集成电路制造有限公司",
        "半导体",
        date(2020, 7, 16),
        7_977_000_000,
        1_980_000_000,
        "集成电路晶圆代工",
        "刘训峰",
    ),
    (
        "00700",
        "腾讯控股有限公司",
        "互联网",
        date(2004, 6, 16),
        9_200_000_000,
        9_200_000_000,
        "社交、游戏、金融科技与云",
        "马化腾",
    ),
]


async def _operator(db: Database, username: str) -> str:
    async with db.read() as session:
        return (await session.scalars(select(OperatorRow.id).where(OperatorRow.username == username))).one()


async def seed_research_demo(db: Database) -> None:
    """Import the sample feeds and the demo items, take the risk notices through RISK approval, and add
    F10 profiles and the stock pool. Also leaves one article SUBMITTED for the review tour."""
    importer = FeedImporter(db)
    for fmt, path in SAMPLE_FILES.items():
        await importer.run(fmt, path.read_text(encoding="utf-8"), actor=SEED_ACTOR)
    await importer.run("json", json.dumps(DEMO_ITEMS, ensure_ascii=False), actor=SEED_ACTOR, source="demo")
    roles = {"risk": ["RISK"], "editor": ["EDITOR"]}
    ids = {name: await _operator(db, name) for name in roles}

    async def roles_of(operator_id: str) -> list[str]:
        return next((roles[n] for n, i in ids.items() if i == operator_id), [])

    desk = EditorialDesk(db, roles_of)
    async with db.read() as session:
        waiting = (await session.scalars(select(ArticleRow.id).where(ArticleRow.status == "SUBMITTED"))).all()
    for article_id in waiting:
        await desk.approve(ids["risk"], article_id, "已核实 / verified")
        await desk.publish(ids["editor"], article_id)
    await _pending_review(desk, ids["editor"])
    await _reference_data(db)
    await _not_news(db)


async def _not_news(db: Database) -> None:
    """Seeded content is the back catalogue, not news: drop its pushes and SMS notices before anyone
    could receive them (a fresh database has no subscriber yet, and clients should not get 30 texts)."""
    async with db.transaction() as uow:
        await uow.session.execute(delete(OutboxRow).where(OutboxRow.topic == ARTICLES_PUBLISHED_TOPIC))
        await uow.session.execute(delete(ArticleNoticeRow))


async def _pending_review(desk: EditorialDesk, editor: str) -> None:
    from brokerql.domain.research.articles import ArticleContent

    draft = ArticleContent(
        title="五粮液：提价落地，渠道库存良性", summary="普五出厂价上调，渠道库存处于合理水平。",
        body="## 点评\n\n普五出厂价上调约5%，渠道库存约一个月，维持增持评级。", column="research.stocks",
        symbols=("000858",), industries=("白酒",),
    )  # fmt: skip
    row, _ = await desk.create(editor, draft)
    if row is not None and row.status == ArticleStatus.DRAFT.value:
        await desk.submit(editor, row.id)


async def _reference_data(db: Database) -> None:
    async with db.transaction() as uow:
        for symbol, name, industry, listed, total, floating, business, chairman in PROFILES:
            uow.session.add(InstrumentProfileRow(symbol=symbol, company_name=name, industry=industry, listed_on=listed,
                                                 total_shares=total, float_shares=floating, main_business=business,
                                                 chairman=chairman))  # fmt: skip
        notes = (await uow.session.execute(
            select(ArticleRow.id, ArticleRow.symbols, ArticleRow.summary).where(ArticleRow.column == "stock_pool")
        )).all()  # fmt: skip
        for article_id, symbols, summary in notes:
            uow.session.add(StockPoolEntryRow(id=new_id("spe"), symbol=symbols[0], reason=summary,
                                              article_id=article_id, added_by=SEED_ACTOR))  # fmt: skip
