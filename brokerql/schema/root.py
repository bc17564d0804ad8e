"""The root schema: composition only. Each field's resolver lives in brokerql.resolvers / subscriptions."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import replace
from typing import Annotated, Any

import strawberry
from strawberry.permission import PermissionExtension

from brokerql.domain.entitlement_rules import ORDER_KEYS, PREFERENCE_KEYS, QUOTE_VIEW_KEYS
from brokerql.domain.identity.tiers import TRADING_ETF_ARBITRAGE, TRADING_FAST, TRADING_MARGIN
from brokerql.monitor.extension import OperationMetrics
from brokerql.resolvers import exchange, identity, market, products, trading, trading_reads
from brokerql.schema import graphql_core_fix  # noqa: F401 - patches graphql-core on import
from brokerql.schema.backoffice_root import BackOfficeMutation, BackOfficeQuery
from brokerql.schema.base import BrokerSchema
from brokerql.schema.baskets_root import BasketMutation, BasketQuery
from brokerql.schema.compliance_root import ComplianceMutation, ComplianceQuery
from brokerql.schema.entitlements import Entitled, Entitlement, checks_entitlements
from brokerql.schema.guard import OperationGuard
from brokerql.schema.identity_root import IdentityMutation, IdentityQuery
from brokerql.schema.inputs import CancelOrdersPayload, LoginPayload, PlaceOrderPayload
from brokerql.schema.monitor_root import MonitorMutation, MonitorQuery
from brokerql.schema.operation_limits import OperationLimits
from brokerql.schema.parked_root import ParkedMutation, ParkedQuery
from brokerql.schema.read_cache import KEPT_PER_SNAPSHOT, AnswerCache, SnapshotReadCache
from brokerql.schema.research_root import ResearchMutation, ResearchQuery
from brokerql.schema.scalars import OVERRIDES
from brokerql.schema.types.client import Client
from brokerql.schema.types.etf import (
    ConvertEtfPayload,
    EtfArbitrageRun,
    RunEtfArbitragePayload,
    TradeEtfBasketPayload,
)
from brokerql.schema.types.exchange import ExchangeStatus
from brokerql.schema.types.futures import SettleFuturesPayload
from brokerql.schema.types.margin import MarginChangePayload, MarginOrderPayload
from brokerql.schema.types.market import Quote
from brokerql.schema.types.market_reference import BarSeries, InstrumentConnection
from brokerql.schema.types.monitor import MonitorStats
from brokerql.schema.types.research import Article
from brokerql.schema.types.trading import Account, Heartbeat, OrderEventItem
from brokerql.schema.types.trading_views import AccountSnapshot, TradingPreferencesView, UpdatePreferencesPayload
from brokerql.subscriptions import articles, monitor, order_events, quotes


@strawberry.type(description="Read operations.")
class Query(IdentityQuery, BackOfficeQuery, MonitorQuery, ResearchQuery, ComplianceQuery, BasketQuery, ParkedQuery):
    me: Client = strawberry.field(resolver=identity.me, description="The logged-in client.")
    quote: Quote = strawberry.field(
        resolver=market.quote,
        description="The latest snapshot of one instrument, in the view your tier allows.",
        directives=checks_entitlements(*QUOTE_VIEW_KEYS),
        metadata=KEPT_PER_SNAPSHOT,
    )
    exchange_status: ExchangeStatus = strawberry.field(
        resolver=exchange.exchange_status, description="Whether an exchange is live or orders wait queued."
    )
    bars: BarSeries = strawberry.field(
        resolver=market.bars,
        description="Minute or daily bars of one instrument, in the view your tier allows.",
        directives=checks_entitlements(*QUOTE_VIEW_KEYS),
    )
    instruments: InstrumentConnection = strawberry.field(
        resolver=market.instruments, description="Tradable instruments with today's rules (lot, tick, limits, phase)."
    )
    account: Account = strawberry.field(
        resolver=trading_reads.account, description="One of your trading accounts (C2: one login, several accounts)."
    )
    trading_desk: AccountSnapshot = strawberry.field(
        resolver=trading_reads.account_snapshot,
        description="D1 complex mode (fast trading): positions, working orders, today's fills and funds of an "
        "account together. syncState reads the same for every trading client.",
        extensions=[PermissionExtension(permissions=[Entitled(TRADING_FAST)])],
    )
    sync_state: AccountSnapshot = strawberry.field(
        resolver=trading_reads.account_snapshot,
        description="Manual refresh (D4): the account's state and the lastSeq it reflects, in one consistent read.",
    )
    trading_preferences: TradingPreferencesView = strawberry.field(
        resolver=trading_reads.trading_preferences, description="Your order-entry preferences (D2)."
    )
    etf_arbitrage_run: EtfArbitrageRun = strawberry.field(
        resolver=products.etf_arbitrage_run,
        description="One of your ETF arbitrage runs (trading.etf_arbitrage): legs, status, estimated and realised P&L.",
        extensions=[PermissionExtension(permissions=[Entitled(TRADING_ETF_ARBITRAGE)])],
    )


@strawberry.type(description="Write operations. Business rejections come back in each payload's `errors`.")
class Mutation(
    IdentityMutation,
    BackOfficeMutation,
    MonitorMutation,
    ResearchMutation,
    ComplianceMutation,
    BasketMutation,
    ParkedMutation,
):
    login: LoginPayload = strawberry.mutation(resolver=identity.login, description="Log in with a password.")
    refresh_session: LoginPayload = strawberry.mutation(
        resolver=identity.refresh_session, description="Trade a refresh token for new tokens (rotation)."
    )
    place_order: PlaceOrderPayload = strawberry.mutation(
        resolver=trading.place_order,
        description="Place a limit, market or quote-linked order. Trading needs trading.basic (trading.margin "
        "on a MARGIN account); a quote-linked (priceLevel) flash order needs trading.fast: NOT_ENTITLED otherwise.",
        directives=checks_entitlements(*ORDER_KEYS),
    )
    cancel_orders: CancelOrdersPayload = strawberry.mutation(
        resolver=trading.cancel_orders, description="Cancel one, the last, by symbol, selected, by condition, or all."
    )
    update_preferences: UpdatePreferencesPayload = strawberry.mutation(
        resolver=trading_reads.update_preferences,
        description="Change your order-entry preferences (D2). Setting hotkeys needs trading.fast (NOT_ENTITLED).",
        directives=checks_entitlements(*PREFERENCE_KEYS),
    )
    margin_order: MarginOrderPayload = strawberry.mutation(
        resolver=products.margin_order,
        description="Margin trading (trading.margin): financing buy, short sale, sell to repay or buy to return.",
        extensions=[PermissionExtension(permissions=[Entitled(TRADING_MARGIN)])],
    )
    repay_margin: MarginChangePayload = strawberry.mutation(
        resolver=products.repay_margin,
        description="Margin trading (trading.margin): repay financing with cash (直接还款), interest first.",
        extensions=[PermissionExtension(permissions=[Entitled(TRADING_MARGIN)])],
    )
    return_shares: MarginChangePayload = strawberry.mutation(
        resolver=products.return_shares,
        description="Margin trading (trading.margin): return borrowed shares you hold (直接还券).",
        extensions=[PermissionExtension(permissions=[Entitled(TRADING_MARGIN)])],
    )
    create_etf: ConvertEtfPayload = strawberry.mutation(
        resolver=products.create_etf,
        description="ETF arbitrage (trading.etf_arbitrage): create (申购) creation units from constituents and cash.",
        extensions=[PermissionExtension(permissions=[Entitled(TRADING_ETF_ARBITRAGE)])],
    )
    redeem_etf: ConvertEtfPayload = strawberry.mutation(
        resolver=products.redeem_etf,
        description="ETF arbitrage (trading.etf_arbitrage): redeem (赎回) creation units into constituents and cash.",
        extensions=[PermissionExtension(permissions=[Entitled(TRADING_ETF_ARBITRAGE)])],
    )
    trade_etf_basket: TradeEtfBasketPayload = strawberry.mutation(
        resolver=products.trade_etf_basket,
        description="ETF arbitrage (trading.etf_arbitrage): buy or sell an ETF's PCF basket x units, all legs or none.",
        extensions=[PermissionExtension(permissions=[Entitled(TRADING_ETF_ARBITRAGE)])],
    )
    run_etf_arbitrage: RunEtfArbitragePayload = strawberry.mutation(
        resolver=products.run_etf_arbitrage,
        description="ETF arbitrage (trading.etf_arbitrage): premium or discount arbitrage as one action, with its "
        "P&L estimate.",
        extensions=[PermissionExtension(permissions=[Entitled(TRADING_ETF_ARBITRAGE)])],
    )
    settle_futures: SettleFuturesPayload = strawberry.mutation(
        resolver=products.settle_futures,
        description="Risk operators (futures.settle): a contract's daily mark-to-market, or its delivery at expiry.",
    )


@strawberry.type(description="Live streams over WebSocket (graphql-transport-ws).")
class Subscription:
    @strawberry.subscription(
        description="Quote snapshots: the latest of each symbol at once, then every change.",
        directives=checks_entitlements(*QUOTE_VIEW_KEYS),
    )
    def quotes(
        self,
        info: strawberry.Info,
        symbols: Annotated[list[str], strawberry.argument(description="1 to 50 instrument codes.")],
    ) -> AsyncGenerator[Quote, None]:
        return quotes.quotes(info, symbols)

    @strawberry.subscription(
        description="An account's order events: afterSeq replays what you missed, then live; heartbeats between."
    )
    def order_events(
        self,
        info: strawberry.Info,
        account_id: Annotated[strawberry.ID, strawberry.argument(description="The account to follow.")],
        after_seq: Annotated[
            int | None, strawberry.argument(description="Replay stored events after this seq first; omit for new only.")
        ] = None,
    ) -> AsyncGenerator[OrderEventItem, None]:
        return order_events.order_events(info, account_id, after_seq)

    @strawberry.subscription(description="Heartbeats every BROKERQL_HEARTBEAT_SECONDS; lastSeq of accountId if given.")
    def heartbeat(
        self,
        info: strawberry.Info,
        account_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Report this account's lastSeq.")
        ] = None,
    ) -> AsyncGenerator[Heartbeat, None]:
        return order_events.heartbeat(info, account_id)

    @strawberry.subscription(description="Operators (ops, admin): monitorStats now, then on every report and alert.")
    def monitor_stats(self, info: strawberry.Info) -> AsyncGenerator[MonitorStats, None]:
        return monitor.monitor_stats(info)

    @strawberry.subscription(description="Info express (B4): each newly published article you may read.")
    def article_published(
        self,
        info: strawberry.Info,
        columns: Annotated[
            list[str] | None, strawberry.argument(description="Only these columns (and sub-columns); omit for all.")
        ] = None,
    ) -> AsyncGenerator[Article, None]:
        return articles.article_published(info, columns)


def build_schema(
    limits: OperationLimits | None = None,
    edge: Any = None,
    *,
    max_depth: int | None = None,
    max_aliases: int | None = None,
) -> BrokerSchema:
    """The schema with its operation guard (parse, limits, cost, validation cache: schema/guard.py).
    `edge` (brokerql.api.edge.Edge) adds the production gates and the callers' cost budgets."""
    limits, kept_answers = limits or OperationLimits(), AnswerCache()
    if max_depth is not None or max_aliases is not None:
        limits = replace(limits, max_depth=max_depth or limits.max_depth, max_aliases=max_aliases or limits.max_aliases)
    return BrokerSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        schema_directives=[Entitlement],
        scalar_overrides=OVERRIDES,
        extensions=[OperationGuard.factory(limits, edge), OperationMetrics, SnapshotReadCache.factory(kept_answers)],
        production=bool(edge is not None and edge.production),
        limits=limits,
        kept_answers=kept_answers,
    )
