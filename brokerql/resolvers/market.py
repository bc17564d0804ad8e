"""Market data queries: quote, bars, instruments. Views follow the caller's entitlements (C9)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import strawberry

from brokerql.domain.entitlement_rules import QuoteView, quote_view
from brokerql.domain.identity.partner_scopes import QUOTES_READ
from brokerql.domain.market import tape
from brokerql.resolvers.guards import require_any, require_partner
from brokerql.schema.entitlements import forbidden_for, required_entitlements
from brokerql.schema.errors import CodedError, ErrorCode, bad_input
from brokerql.schema.types.market import Board, Quote
from brokerql.schema.types.market_reference import Bar, BarInterval, BarSeries, Instrument, InstrumentConnection
from brokerql.schema.types.pagination import PageRequest, page_of
from brokerql.schema.types.paging import Edge


async def entitled_view(info: strawberry.Info, symbol: str) -> QuoteView:
    """Real-time or delayed for this caller, or FORBIDDEN / NOT_FOUND."""
    principal = info.context.principal()
    if principal is not None and principal.kind == "partner":
        require_partner(info, QUOTES_READ)  # F1: Level-1 real-time with the scope, FORBIDDEN without
    return view_granted(info, symbol, (await required_entitlements(info.context)).grants)


def view_granted(info: strawberry.Info, symbol: str, grants: Callable[[str], bool]) -> QuoteView:
    """The view of `symbol` that the entitlements `grants` allow, or FORBIDDEN / NOT_FOUND."""
    instrument = info.context.container.instruments.get(symbol)
    if instrument is None:
        raise CodedError(ErrorCode.NOT_FOUND, f"Unknown symbol {symbol!r}.", reason="UNKNOWN_SYMBOL")
    view = quote_view(instrument.board, grants)
    if not isinstance(view, QuoteView):
        raise forbidden_for(info, view)
    return view


Symbol = Annotated[str, strawberry.argument(description="Instrument code, e.g. 600000, 00700, IF2612.")]


async def quote(info: strawberry.Info, symbol: Symbol) -> Quote:
    view = await entitled_view(info, symbol)
    snapshot = await info.context.container.market.shown_snapshot(symbol, delayed=view is QuoteView.DELAYED)
    if snapshot is None:
        raise CodedError(ErrorCode.NOT_FOUND, f"No quote for {symbol} yet.", reason="NO_QUOTE")
    return Quote.from_snapshot(snapshot)


async def bars(
    info: strawberry.Info,
    symbol: Symbol,
    interval: Annotated[BarInterval, strawberry.argument(description="MINUTE or DAY bars.")],  # type: ignore[valid-type]
    first: Annotated[int, strawberry.argument(description="How many of the newest bars, 1 to 600.")] = 240,
) -> BarSeries:
    if not 1 <= first <= 600:
        raise bad_input("first must be between 1 and 600.", "first")
    view = await entitled_view(info, symbol)
    delayed = view is QuoteView.DELAYED
    found, snapshot = await info.context.container.market.bars(
        symbol, tape.BarInterval(interval), first, delayed=delayed
    )
    as_of = None if snapshot is None else Quote.from_snapshot(snapshot).as_of
    return BarSeries(symbol=symbol, interval=interval, delayed=delayed, as_of=as_of, bars=[Bar.of(b) for b in found])


async def instruments(
    info: strawberry.Info,
    first: Annotated[int | None, strawberry.argument(description="Page size, up to 100 (default 20).")] = None,
    after: Annotated[str | None, strawberry.argument(description="Cursor to continue after.")] = None,
    board: Annotated[Board | None, strawberry.argument(description="Only this board.")] = None,  # type: ignore[valid-type]
    symbols: Annotated[list[str] | None, strawberry.argument(description="Only these symbols.")] = None,
) -> InstrumentConnection:
    require_any(info, partner_scope=QUOTES_READ)
    request = PageRequest.of("instrument", first, after)
    wanted = set(symbols) if symbols is not None else None
    market = info.context.container.market
    listed, total = market.listing(board, wanted, after_symbol=request.after_key, limit=request.fetch)
    edges, page_info = page_of(listed, request, "instrument", lambda i: i.instrument.symbol, Instrument.of, Edge)
    return InstrumentConnection(edges=edges, page_info=page_info, total_count=total)
