"""A venue host for tests that run an exchange by hand (the real host, with an in-process lease)."""

from __future__ import annotations

import secrets
from collections.abc import Callable

from brokerql.bus import Bus
from brokerql.exchange.client_orders import ExecutionBooker
from brokerql.exchange.commands import BusCommands
from brokerql.exchange.engine import Exchange
from brokerql.exchange.host import VenueHost
from brokerql.exchange.lease import ProcessLease
from brokerql.exchange.reports import ReportJournal
from brokerql.store.database import Database


def venue_host(db: Database, bus: Bus, booker: ExecutionBooker, venue: Callable[[], Exchange]) -> VenueHost:
    return VenueHost(
        venue_factory=venue,
        lease=ProcessLease(f"test-{secrets.token_hex(4)}"),
        journal=ReportJournal(db),
        booker=booker,
        commands_factory=lambda: BusCommands(bus),
        holder="test",
        heartbeat_seconds=0.2,
        poll_seconds=0.05,
    )
