"""Builds and owns the long-lived parts of one process: database, bus, services, background tasks."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from brokerql.bus import Bus, create_bus
from brokerql.domain.clock import SYSTEM_CLOCK, Clock
from brokerql.domain.common import Rejection
from brokerql.domain.identity.passwords import Passwords
from brokerql.domain.identity.tiers import TierCatalog, TierCode
from brokerql.domain.market.instruments import DEMO_INSTRUMENTS, Instrument
from brokerql.exchange.engine import Exchange
from brokerql.exchange.host import Role as VenueRole
from brokerql.exchange.host import VenueHost
from brokerql.exchange.liveness import VenueWatch
from brokerql.exchange.replay import Replay
from brokerql.exchange.reports import ReportJournal
from brokerql.exchange.snapshots import last_trade
from brokerql.exchange.wiring import SimulatorSwitch, build_venue_host
from brokerql.monitor.controls import OperatorControls
from brokerql.monitor.figures import FillCounter
from brokerql.monitor.heap_trim import HeapTrimmer
from brokerql.monitor.service import Monitor
from brokerql.services.allowances import Allowances
from brokerql.services.auth import AuthService
from brokerql.services.identity.tier_notices import TierNotices
from brokerql.services.identity.tiers import TierCatalogStore
from brokerql.services.identity.wiring import IdentityServices
from brokerql.services.market import MarketData
from brokerql.services.order_stream import AccountEventStream
from brokerql.services.outbox_relay import OutboxRelay
from brokerql.services.products import ProductServices
from brokerql.services.products.etf import EtfService
from brokerql.services.products.futures import FuturesSettlementService
from brokerql.services.products.margin import MarginService
from brokerql.services.products.queries import ProductQueries
from brokerql.services.queries import TradingQueries
from brokerql.services.quote_stream import QuoteStream
from brokerql.services.research.wiring import ResearchServices
from brokerql.services.tokens import AccessTokens, RefreshTokens
from brokerql.services.trading import (
    CancelOrdersService,
    ExecutionBooking,
    ParkedOrdersService,
    ParkedTriggerWatch,
    PlaceOrderService,
    TradingServices,
)
from brokerql.services.trading.compliance import ClientFactsReader
from brokerql.settings import Settings
from brokerql.store.database import Database
from brokerql.subscriptions.order_fanout import OrderFanout
from brokerql.subscriptions.quote_fanout import QuoteFanout
from brokerql.tasks import stop_tasks

log = logging.getLogger(__name__)


def missing_entitlements(catalog: TierCatalogStore, tier_of: Callable[[str], Awaitable[str]]):  # type: ignore[no-untyped-def]
    """NOT_ENTITLED for each of `keys` the client's tier lacks (services that check keys in their rules)."""

    async def missing(client_id: str, keys: tuple[str, ...]) -> list[Rejection]:
        tier = TierCode(await tier_of(client_id)) if keys else None
        refused = []
        for key in keys:
            if tier is not None and not catalog.grants(tier, key):
                lowest = catalog.lowest_tier_granting(key)
                below = f"; it comes with {lowest.value} and above" if lowest else ""
                refused.append(Rejection("NOT_ENTITLED", f"Your tier does not include {key}{below}."))
        return refused

    return missing


def last_price(market: MarketData) -> Callable[[str], Awaitable[Decimal | None]]:
    """The last trade price of a symbol (None without a quote or with the bus down)."""

    async def price(symbol: str) -> Decimal | None:
        try:
            snapshot = await market.snapshot(symbol)
        except Exception:  # no market data: the caller values at cost
            return None
        return last_trade(snapshot)

    return price


# How often the quote streams' tier watch looks at each watched client's tier (in the cache, which tier
# notices keep current): a downgrade moves or ends a client's quote streams within this.
TIER_WATCH_SECONDS = 1.0


def make_passwords(settings: Settings) -> Passwords:
    """The one argon2 configuration of a deployment (seeding and logging in must agree)."""
    return Passwords(time_cost=settings.argon2_time_cost, memory_cost=settings.argon2_memory_kib, parallelism=1)


@dataclass
class Container:
    """Everything a request handler may need, created once per process by the app's lifespan."""

    settings: Settings
    db: Database
    bus: Bus
    passwords: Passwords
    access_tokens: AccessTokens
    refresh_tokens: RefreshTokens
    catalog: TierCatalog | TierCatalogStore  # the store: loaded from the tier table, swapped on edit
    instruments: dict[str, Instrument]
    auth: AuthService
    trading: TradingServices
    trading_queries: TradingQueries
    order_stream: AccountEventStream
    market: MarketData
    quote_stream: QuoteStream
    quote_fanout: QuoteFanout  # the group writer of quote streams over WebSockets
    order_fanout: OrderFanout  # the group writer of orderEvents streams over WebSockets
    relay: OutboxRelay
    identity: IdentityServices
    tier_notices: TierNotices  # every committed tier change, into this process's tier cache
    monitor: Monitor
    controls: OperatorControls
    research: ResearchServices
    venue_watch: VenueWatch
    compliance: ClientFactsReader
    products: ProductServices
    parked_orders: ParkedOrdersService  # parked orders (C5): park, cancel, list, fire once
    parked_watch: ParkedTriggerWatch  # evaluates their triggers on every quote and on the clock
    clock: Clock = SYSTEM_CLOCK
    venue_host: VenueHost | None = None
    allowances: Allowances | None = None  # leased rate-limit allowance, settled with Redis in the background
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _stopped: bool = False

    @property
    def exchange(self) -> Exchange | None:
        """The venue this process runs now (None when it runs none, or waits as a standby)."""
        return self.venue_host.venue if self.venue_host is not None else None

    @classmethod
    def build(cls, settings: Settings, *, with_exchange: bool | None = None, clock: Clock = SYSTEM_CLOCK) -> Container:
        """`clock` is the one source of "now" for every part (tests pass a fake one)."""
        db = Database(settings.database_url)
        bus = create_bus(settings)
        passwords = make_passwords(settings)
        access = AccessTokens(
            settings.signing_key,
            timedelta(minutes=settings.access_token_minutes),
            cache_size=settings.token_cache_size,
        )
        refresh = RefreshTokens(timedelta(days=settings.refresh_token_days), clock)
        instruments = dict(DEMO_INSTRUMENTS)
        market = MarketData(bus, instruments, clock, always_open=settings.market_always_open)
        booking = ExecutionBooking(db, instruments, clock)
        queries = TradingQueries(db, clock)
        run_exchange = settings.embedded_exchange if with_exchange is None else with_exchange
        fills = FillCounter(booking)  # counts executions for the monitor (E3), books through the booking
        simulator = SimulatorSwitch()  # operators' pause, applied to whichever venue runs here

        def venue() -> Exchange:  # a fresh one each time this process takes the lease
            return simulator.applied_to(
                Exchange(
                    instruments,
                    bus,
                    seed=settings.market_seed,
                    tick_seconds=settings.market_tick_seconds,
                    warmup_steps=settings.market_warmup_steps,
                    always_open=settings.market_always_open,
                    replay=Replay.from_file(settings.market_replay_file, settings.market_replay_speed)
                    if settings.market_replay_file
                    else None,
                )
            )

        host = build_venue_host(settings, db, bus, fills, venue) if run_exchange else None
        watch = VenueWatch(
            host.journal if host else ReportJournal(db),
            stale_after=settings.exchange_stale_seconds,
            local_role=(lambda: host.role.value) if host else None,
        )
        # Rate-limit counters share the Redis bus's connection (none with the in-process bus), and lease
        # allowance from it for requests and cost budgets alike (services/allowances.py).
        redis = getattr(bus, "client", None)
        allowances = Allowances(redis, settings.rate_limit_settle_seconds) if redis is not None else None
        identity = IdentityServices.build(
            settings, db, passwords, access, refresh, clock=clock, redis=redis, allowances=allowances
        )
        trading = TradingServices.build(
            db,
            instruments,
            clock,
            place=PlaceOrderService(
                db,
                instruments,
                market,
                identity.tiers,
                identity.auth.tier_of,
                clock,
                market_always_open=settings.market_always_open,
            ),
            cancel=CancelOrdersService(db, bus, clock, wait_seconds=settings.cancel_confirm_seconds),
            booking=booking,
        )
        trading.place.venue_live = lambda: watch.status().live  # MARKET orders need a live exchange
        trading.preferences.missing = missing_entitlements(identity.tiers, identity.auth.tier_of)
        identity.grading.prices = last_price(market)  # grading values holdings at market
        # Suitability and board eligibility facts (kept briefly per client), operator grants.
        compliance = ClientFactsReader(db, clock, cache_seconds=settings.client_facts_cache_seconds)
        trading.place.client_facts = compliance.facts
        monitor = Monitor(settings, db, bus, list(instruments), role="api+exchange" if host else "api")
        monitor.verify_token = lambda token: access.verify(token, now=clock.now())
        monitor.venue_active = (lambda: host.role is VenueRole.ACTIVE) if host else None
        monitor.attach(trading.place, simulator if host else None, fills)  # halts, the simulator switch, fills
        trading.place.on_placed = monitor.order_placed
        parked = ParkedOrdersService(
            db, trading.place, market, instruments, identity.tiers, identity.auth.tier_of, clock
        )
        parked_watch = ParkedTriggerWatch(
            parked, bus, list(instruments), clock, sweep_seconds=settings.parked_sweep_seconds
        )
        order_stream = AccountEventStream(queries, bus, clock, heartbeat_seconds=settings.heartbeat_seconds)
        return cls(
            settings=settings,
            db=db,
            bus=bus,
            passwords=passwords,
            access_tokens=access,
            refresh_tokens=refresh,
            catalog=identity.tiers,
            instruments=instruments,
            auth=identity.auth,
            trading=trading,
            trading_queries=queries,
            order_stream=order_stream,
            order_fanout=OrderFanout(order_stream, bus, monitor.figures),
            market=market,
            quote_stream=QuoteStream(market, bus, liveness_seconds=settings.heartbeat_seconds),
            quote_fanout=QuoteFanout(market, bus, monitor.figures, tier_seconds=TIER_WATCH_SECONDS),
            relay=OutboxRelay(db, bus),
            identity=identity,
            tier_notices=TierNotices(bus, identity.auth),
            monitor=monitor,
            controls=OperatorControls(db, monitor, identity.clients, set(instruments)),
            research=ResearchServices.build(db, identity.operators.roles_of, identity.trial.sender, clock=clock),
            clock=clock,
            venue_watch=watch,
            compliance=compliance,
            parked_orders=parked,
            parked_watch=parked_watch,
            venue_host=host,
            allowances=allowances,
            products=ProductServices(
                futures=FuturesSettlementService(db, instruments, clock),
                margin=MarginService(db, market, instruments, clock),
                etf=EtfService(db, trading.place, market, instruments, clock),
                queries=ProductQueries(db),
            ),
        )

    async def start(self) -> None:
        await self.bus.start()
        await self.relay.flush()  # what a previous run committed but did not publish goes out first
        self._tasks.append(asyncio.create_task(self.relay.run(), name="outbox-relay"))
        self._tasks.extend(await self.identity.start())  # tier catalog from the DB, revocation polling
        self._tasks.append(asyncio.create_task(self.tier_notices.run(), name="tier-notices"))
        self._tasks.extend(self.research.start())  # scheduled publishing, SMS notices
        # margin accounts' maintenance lines move with prices, not only with account changes (C7)
        self._tasks.append(asyncio.create_task(self.products.margin.watch(), name="margin-watch"))
        # arbitrage runs move on as their legs fill
        self._tasks.append(asyncio.create_task(self.products.etf.runs.watch(), name="etf-arbitrage"))
        if self.venue_host is not None:
            await self.venue_host.start()  # active (market live) or a standby when another holds the lease
        await self.venue_watch.start()
        await self.market.start()  # follows the exchange's trading day (prev_close, limits)
        await self.monitor.start()  # reports this process on the board, follows operators' controls
        await self.parked_watch.start()  # parked orders' triggers: on every quote, and on the clock
        if self.allowances is not None:
            self.allowances.start()  # settles leased rate-limit allowance with Redis every ~100 ms
        trim_above = int(self.settings.malloc_trim_above_mib * 2**20)  # malloc's free pages back to the system
        self._tasks.extend(HeapTrimmer(self.settings.malloc_trim_seconds, trim_above).start())

    async def stop(self) -> None:
        """Stop everything start() started; a second call does nothing (shutdown paths may overlap)."""
        if self._stopped:
            return
        self._stopped = True
        await self.parked_watch.stop()
        await self.quote_fanout.stop()
        await self.order_fanout.stop()
        await self.monitor.stop()
        await self.market.stop()
        await self.venue_watch.stop()
        if self.venue_host is not None:
            await self.venue_host.stop()
        await stop_tasks(self._tasks)
        self._tasks.clear()
        if self.allowances is not None:
            await self.allowances.stop()  # gives back unspent leases while Redis is still open
        await self.bus.close()
        await self.db.dispose()
