"""One validated settings object, read from `BROKERQL_*` environment variables (docs/operations.md)."""

from __future__ import annotations

import secrets
from enum import StrEnum
from functools import cached_property
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

VAR_DIR = Path("var")
DEFAULT_SECRET_FILE = VAR_DIR / "secret_key"


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Everything a process needs to know about its deployment. Nothing else reads the environment."""

    model_config = SettingsConfigDict(env_prefix="BROKERQL_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    database_url: str = f"sqlite+aiosqlite:///{VAR_DIR / 'brokerql.db'}"
    redis_url: str | None = None
    # Key prefix on Redis, so several deployments (or test runs) can share one server.
    redis_prefix: str = "brokerql"
    # Connections a process opens to Redis at most; a command waits up to the timeout for a free one.
    redis_max_connections: int = Field(100, ge=1)
    redis_pool_timeout_seconds: float = Field(5.0, gt=0)
    demo: bool = False
    heartbeat_seconds: float = Field(5.0, gt=0)
    env: Environment = Environment.DEVELOPMENT
    secret_key: str | None = None
    # Whether this process runs the simulated exchange. In the scaled deployment exactly one process
    # does (`brokerql exchange`, or one `serve` with this on) and the API processes set it off.
    embedded_exchange: bool = True
    # Exactly one exchange matches at a time: the others wait as hot standbys (docs/operations.md).
    # auto = PostgreSQL advisory lock on PostgreSQL, else a Redis lock with Redis, else a file lock
    # beside a SQLite file, else an in-process guard.
    exchange_lease: str = Field("auto", pattern="^(auto|postgres|redis|file|process)$")
    # The lease holder's heartbeat; no heartbeat for exchange_stale_seconds = no live exchange.
    exchange_heartbeat_seconds: float = Field(1.0, gt=0)
    exchange_stale_seconds: float = Field(5.0, gt=0)
    # How often a standby tries to take the lease over.
    exchange_standby_poll_seconds: float = Field(0.5, gt=0)
    # The simulated market trades around the clock in demo/development unless told otherwise.
    market_always_open: bool = True
    market_seed: int = 20261125
    market_tick_seconds: float = Field(0.5, gt=0)
    # Simulated steps "before now" at start-up, so the day has a range and HK has a 15-minute-old quote.
    market_warmup_steps: int = Field(120, ge=1)
    # Replay recorded trades from this CSV (brokerql/exchange/replay.py) at this speed (10 = ten times faster).
    market_replay_file: str | None = None
    market_replay_speed: float = Field(1.0, gt=0)
    access_token_minutes: int = Field(15, gt=0)
    refresh_token_days: int = Field(14, gt=0)
    query_max_depth: int = Field(12, gt=0)
    subscriber_buffer: int = Field(1000, gt=0)
    # How long cancelOrders waits for the exchange's answer before it returns PENDING_CANCEL orders.
    cancel_confirm_seconds: float = Field(2.0, ge=0)
    # How often each process fires due time triggers, expires parked orders and takes over dead claims (C5).
    parked_sweep_seconds: float = Field(1.0, gt=0)
    # argon2id cost; the defaults are argon2-cffi's (RFC 9106 low-memory). Tests lower them for speed.
    argon2_time_cost: int = Field(3, ge=1)
    argon2_memory_kib: int = Field(65536, ge=8)
    allowed_origins: list[str] = Field(default_factory=lambda: ["*"])
    # F2: builds older than this (X-Client-Version) are refused with CLIENT_OUTDATED; unset = no minimum.
    min_client_version: str | None = None
    # Tools that send no version (GraphiQL, scripts) pass unless this is off.
    allow_missing_client_version: bool = True
    # How often each process picks up sessions revoked elsewhere and tier catalog edits.
    revocation_poll_seconds: float = Field(1.0, gt=0)
    # A4 limits: clients get their tier's; operators and partners these. Every limit is multiplied by
    # rate_limit_scale (tests raise it so that their many requests are not limited).
    operator_requests_per_minute: int = Field(6000, gt=0)
    operator_max_subscriptions: int = Field(50, gt=0)
    partner_requests_per_minute: int = Field(3000, gt=0)
    partner_max_subscriptions: int = Field(200, gt=0)
    rate_limit_scale: float = Field(1.0, gt=0)
    # On Redis, each process leases request and cost allowance ahead of use and settles the leases in one
    # pipeline this often (services/allowances.py: the bound it keeps); 0: one round trip per request.
    rate_limit_settle_seconds: float = Field(0.1, ge=0)
    # A6 idle lock on open streams: a session idle (no HTTP request) beyond session.idle_minutes has its
    # streams closed at the next heartbeat with SESSION_LOCKED. Off: an open stream keeps it unlocked.
    idle_lock_streams: bool = True
    # Quote streams over graphql-transport-ws write one shared, pre-serialized frame per (snapshot,
    # selection, entitlement set) to every socket of the group in one loop (subscriptions/quote_fanout.py). Off:
    # strawberry executes and serializes every event per subscriber (kept to compare the two paths).
    quote_broadcast: bool = True
    # A market read whose answer is kept for the current snapshot is answered over HTTP without
    # strawberry's view (api/kept_lane.py), with the same checks; anything else takes the full path. Off:
    # every request takes the full path (kept to compare the two).
    kept_answer_lane: bool = True
    # orderEvents streams over graphql-transport-ws likewise: one bus subscription per account per
    # process, each event rendered once per selection and written to every socket that follows the
    # account (subscriptions/order_fanout.py). Off: a bus subscription and strawberry per subscriber.
    order_broadcast: bool = True
    # `brokerql serve`: objects allocated (net) between collections of the collector's youngest
    # generation (Python's default: 700). With thousands of sockets, a small one promotes every
    # short-lived snapshot and push into the oldest generation, whose full collections (walking every
    # socket's objects) then held the event loop 0.3-1.1 s every few seconds (docs/performance.md).
    gc_young_threshold: int = Field(20_000, ge=1)
    # glibc keeps freed memory inside its arenas; under steady load the free part grows while what is in
    # use stays flat (docs/performance.md, "Target 4"). Every this many seconds, when more than
    # malloc_trim_above_mib is free, the process gives the free pages back (monitor/heap_trim.py); 0: never.
    malloc_trim_seconds: float = Field(60.0, ge=0)
    malloc_trim_above_mib: float = Field(4.0, ge=0)
    # At most this many malloc arenas per process (glibc's default is 8 a core; monitor/heap.py): with the
    # default, the free space kept in the arenas grew to 30 MiB in 90 minutes of the soak; 0: glibc's own.
    malloc_arena_max: int = Field(2, ge=0)
    # E1 edge hardening (docs/security.md): operation limits before any work, quotas, persisted queries.
    max_body_bytes: int = Field(64 * 1024, gt=0)
    query_max_tokens: int = Field(2000, gt=0)
    query_max_aliases: int = Field(30, ge=0)
    query_max_duplicate_fields: int = Field(5, ge=0)
    query_max_fragment_spreads: int = Field(50, ge=0)
    query_max_directives: int = Field(10, ge=0)
    query_max_cost: int = Field(5000, gt=0)
    query_max_overlapping_fields: int = Field(200, ge=0)
    query_max_expanded_fields: int = Field(5000, gt=0)
    # Processes that check new large or heavy documents (prescan, parse, limits, validation) beside the
    # serving one, started and stopped with the app (schema/guard_process.py); 0: worker threads.
    guard_processes: int = Field(1, ge=0)
    # A tier's cost budget per minute is its requests_per_minute x this (operators, partners: theirs).
    cost_points_per_request: int = Field(20, gt=0)
    anonymous_requests_per_minute: int = Field(60, gt=0)
    # Logins, OTP checks, SMS codes and captchas per address and action (x rate_limit_scale, like A4).
    attempts_per_minute: int = Field(10, gt=0)
    spray_captcha_names: int = Field(3, gt=0)
    spray_block_names: int = Field(10, gt=0)
    spray_window_minutes: int = Field(15, gt=0)
    spray_block_minutes: int = Field(15, gt=0)
    # Proxies (addresses or CIDR) whose X-Forwarded-For is believed; nobody's by default.
    trusted_proxies: list[str] = Field(default_factory=list)
    persisted_queries_only: bool = False
    # Automatic persisted queries (api/apq.py): the store's bounds (least recently used evicted first)
    # and the new queries one address may register in an hour (x rate_limit_scale, like the quotas).
    apq_max_entries: int = Field(10_000, gt=0)
    apq_max_bytes: int = Field(16 * 1024 * 1024, gt=0)
    apq_registrations_per_hour: int = Field(300, gt=0)
    # GET /metrics needs `Authorization: Bearer <metrics_token>` when set (always set it in production).
    metrics_token: str | None = None
    connection_init_timeout_seconds: float = Field(5.0, gt=0)
    # "json" (one JSON object a line) or "console"; unset: json in production, console otherwise.
    log_format: str | None = None
    # uvicorn's line per HTTP request and per WebSocket handshake. Off by default: rendering them cost
    # ~8% of the CPU of a request and ~22% while thousands of sockets opened (docs/performance.md); the
    # proxy in front keeps an access log, and refused operations are logged by the app itself.
    access_log: bool = False
    # Identity caches of each process (bounded LRU with expiry): tiers, operator roles and session rows
    # are re-read from the database after their TTL; verified token signatures are kept until evicted.
    identity_cache_size: int = Field(100_000, gt=0)
    # Tier changes reach every process's cache through the bus as they commit (services/identity/
    # tier_notices.py); this bounds only how long an edit made outside BrokerQL goes unseen.
    tier_cache_seconds: float = Field(30.0, gt=0)
    roles_cache_seconds: float = Field(1.0, gt=0)
    session_cache_seconds: float = Field(1.0, gt=0)
    token_cache_size: int = Field(50_000, gt=0)
    # The compliance facts each order's admission needs (risk level, experience, grants, average daily
    # assets) are kept this long per client (`services/trading/facts_cache.py`): a change made in this
    # process is seen at once, one made by another process within this. 0 reads them for every order.
    client_facts_cache_seconds: float = Field(5.0, ge=0)
    # Scaled (Redis): a process's hold on a subscription slot expires this long after its stream last
    # renewed it (streams renew at every heartbeat), so a crashed process's slots come back by themselves.
    subscription_slot_ttl_seconds: float = Field(30.0, gt=0)

    # E3: every process reports its figures this often; one that misses its TTL is shown as gone. The TTL
    # is five reports: a process starved of CPU (measured: 4 workers on 2 busy cores) reports late.
    monitor_interval_seconds: float = Field(2.0, gt=0)
    monitor_ttl_seconds: float = Field(10.0, gt=0)
    # C10: the URL other clients reach this process at (liveServers); default http://host:port/graphql.
    public_url: str | None = None
    # C10: connections one API process is sized for; liveServers' load is connections / this.
    server_capacity: int = Field(10000, gt=0)

    @model_validator(mode="after")
    def _production_is_strict(self) -> Settings:
        if self.env is Environment.PRODUCTION:
            if not self.secret_key or len(self.secret_key) < 32:
                raise ValueError("BROKERQL_SECRET_KEY of at least 32 characters is required in production")
            if self.demo:
                raise ValueError("BROKERQL_DEMO cannot be used in production")
            if "*" in self.allowed_origins:
                raise ValueError("BROKERQL_ALLOWED_ORIGINS must list the front ends' origins in production")
            if not self.metrics_token or len(self.metrics_token) < 16:
                raise ValueError("BROKERQL_METRICS_TOKEN of at least 16 characters is required in production")
        if self.redis_url == "":
            self.redis_url = None
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @cached_property
    def signing_key(self) -> str:
        """The token signing key; in development one generated key under ./var/ shared by local processes."""
        if self.secret_key:
            return self.secret_key
        DEFAULT_SECRET_FILE.parent.mkdir(parents=True, exist_ok=True)
        try:
            with DEFAULT_SECRET_FILE.open("x") as handle:
                handle.write(secrets.token_urlsafe(48))
        except FileExistsError:
            pass
        return DEFAULT_SECRET_FILE.read_text().strip()


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with explicit overrides (tests, CLI flags) taking precedence."""
    return Settings(**overrides)
