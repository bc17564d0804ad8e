"""Guards for the ``now`` arguments that every time-dependent function in this package receives."""

from __future__ import annotations

from datetime import datetime


def require_aware(value: datetime, name: str = "now") -> datetime:
    """Return ``value`` unchanged, refusing naive datetimes.

    A naive datetime means "local time of whichever server ran this", which silently shifts lock
    expiries and OTP steps by the server's UTC offset, so we refuse it loudly instead.
    """
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return value
