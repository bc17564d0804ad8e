"""Builds a process's venue host from the settings: which lease, which command source."""

from __future__ import annotations

from collections.abc import Callable

from brokerql.bus import Bus
from brokerql.bus.topics import COMMANDS_TOPIC
from brokerql.exchange.client_orders import ExecutionBooker
from brokerql.exchange.commands import BusCommands, CommandSource, RedisCommands
from brokerql.exchange.engine import Exchange
from brokerql.exchange.host import VenueHost
from brokerql.exchange.lease import choose_lease, holder_name
from brokerql.exchange.reports import ReportJournal
from brokerql.settings import Settings
from brokerql.store.database import Database

# The in-process bus cannot carry commands between local processes sharing one SQLite file: the holder
# re-reads the working orders this often instead.
LOCAL_RECONCILE_SECONDS = 1.0


def build_venue_host(
    settings: Settings, db: Database, bus: Bus, booker: ExecutionBooker, venue: Callable[[], Exchange]
) -> VenueHost:
    holder = holder_name()
    redis_client = getattr(bus, "client", None)  # the Redis bus's command connection
    lease = choose_lease(settings.exchange_lease, db, redis_client, settings.redis_prefix, holder)

    def commands() -> CommandSource:
        if redis_client is not None:
            return RedisCommands(redis_client, bus.key(COMMANDS_TOPIC), holder)  # type: ignore[attr-defined]
        return BusCommands(bus)

    shared_file = redis_client is None and lease.kind == "file"
    return VenueHost(
        venue_factory=venue,
        lease=lease,
        journal=ReportJournal(db),
        booker=booker,
        commands_factory=commands,
        holder=holder,
        heartbeat_seconds=settings.exchange_heartbeat_seconds,
        poll_seconds=settings.exchange_standby_poll_seconds,
        reconcile_seconds=LOCAL_RECONCILE_SECONDS if shared_file else None,
    )


class SimulatorSwitch:
    """Operators' simulator pause (E3): kept here, applied to whichever venue this process runs now
    (a new one after each takeover starts paused if the switch is on)."""

    def __init__(self) -> None:
        self._paused = False
        self._venue: Exchange | None = None

    @property
    def paused(self) -> bool:
        return self._paused

    @paused.setter
    def paused(self, value: bool) -> None:
        self._paused = value
        if self._venue is not None:
            self._venue.paused = value

    def applied_to(self, venue: Exchange) -> Exchange:
        self._venue = venue
        venue.paused = self._paused
        return venue
