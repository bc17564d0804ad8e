"""A2: a client's grading dimensions from live data, plus what outside systems imported.

- ASSETS: assets at market value (cash + holdings at the last price), averaged over the window of
  daily records together with today's value.
- TURNOVER and COMMISSION: the client's fills over the window, plus any imported history (e.g. from
  the broker's previous system).
- TENURE: months since the client's first account opened, or the imported tenure if longer.
- ACTIVITY: days with a login over the window, plus imported activity.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from brokerql.domain.identity.grading import Dimension
from brokerql.domain.market.boards import Board
from brokerql.domain.market.sessions import WEEKENDS_ONLY, local_time, session_close

WINDOW = timedelta(days=365)  # turnover, commission and activity are counted over the last year
ASSET_DAYS = 20  # daily asset records averaged with today's value


@dataclass(frozen=True, slots=True)
class LiveFacts:
    """What the live data says about one client over the window."""

    assets_today: Decimal = Decimal(0)
    asset_history: tuple[Decimal, ...] = ()  # the latest daily records before today, at most ASSET_DAYS
    turnover: Decimal = Decimal(0)
    commission: Decimal = Decimal(0)
    first_account_at: datetime | None = None
    login_days: int = 0


def asset_record_day(now: datetime) -> date | None:
    """The day whose closing assets may be recorded at `now`: today (exchange calendar date) once the
    A-share close has passed on a trading day; None before the close or on a day without trading."""
    local = local_time(now)
    if not WEEKENDS_ONLY.is_trading_day(local.date()) or local.time().replace(tzinfo=None) < session_close(
        Board.SSE_MAIN
    ):
        return None
    return local.date()


def months_since(start: datetime | date | None, now: datetime) -> int:
    """Whole months from `start` to `now` (0 without a start)."""
    if start is None:
        return 0
    day = start.date() if isinstance(start, datetime) else start
    today = now.date()
    if day > today:
        return 0
    return (today.year - day.year) * 12 + today.month - day.month - (1 if today.day < day.day else 0)


def average_assets(today: Decimal, history: Iterable[Decimal]) -> Decimal:
    """Today's value averaged with the daily records of the window."""
    values = [today, *list(history)[:ASSET_DAYS]]
    return (sum(values, Decimal(0)) / len(values)).quantize(Decimal("0.01"))


def live_dimensions(imported: Mapping[Dimension, Decimal], live: LiveFacts, now: datetime) -> dict[Dimension, Decimal]:
    """The dimensions a grading run scores: live data, with imported values added (flows) or as a floor
    (tenure). Imported assets are ignored: assets are always read live."""
    zero = Decimal(0)
    return {
        Dimension.ASSETS: average_assets(live.assets_today, live.asset_history),
        Dimension.TURNOVER: imported.get(Dimension.TURNOVER, zero) + live.turnover,
        Dimension.COMMISSION: imported.get(Dimension.COMMISSION, zero) + live.commission,
        Dimension.TENURE: max(imported.get(Dimension.TENURE, zero), Decimal(months_since(live.first_account_at, now))),
        Dimension.ACTIVITY: imported.get(Dimension.ACTIVITY, zero) + live.login_days,
    }
