"""The one codec for every message that crosses the outbox, the bus or the event store.

A message travels as an envelope `{"type": <name>, "v": <version>, "data": {...}}`. This module lists
every message type with its current version (`MESSAGE_TYPES`); nothing else builds or parses message
dicts. Decoding never raises on what it cannot read: an unknown type, a newer version than this process
knows, or a body that does not fit is logged and parked (`PARKED`), and the caller gets None. An older
version is brought up to date by the upcasters registered for it.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from brokerql.domain.identity.onboarding import AccountOpened, ClientCreated
from brokerql.domain.identity.tiers import ClientTierChanged
from brokerql.domain.research.messages import ArticlePublished
from brokerql.domain.trading.gateway import CancelOrder, ExecutionReport, SubmitOrder
from brokerql.domain.trading.messages import AccountEvent, CreditChanged, EtfChanged, FuturesSettled
from brokerql.domain.trading.parked import ParkedOrderView

log = logging.getLogger(__name__)

Record = dict[str, Any]

# name -> (type, current version). Bump a version when a field changes meaning or is removed, and
# register an upcaster from the old version (adding an optional field needs no bump).
MESSAGE_TYPES: dict[str, tuple[type, int]] = {
    "AccountEvent": (AccountEvent, 1),
    "SubmitOrder": (SubmitOrder, 1),
    "CancelOrder": (CancelOrder, 1),
    "ExecutionReport": (ExecutionReport, 1),
    "ArticlePublished": (ArticlePublished, 1),
    # the product lines' details an AccountEvent carries (also readable on their own)
    "FuturesSettled": (FuturesSettled, 1),
    "CreditChanged": (CreditChanged, 1),
    "EtfChanged": (EtfChanged, 1),
    "ParkedOrder": (ParkedOrderView, 1),  # a parked order changed: every process's trigger watch follows
    "ClientCreated": (ClientCreated, 1),
    "AccountOpened": (AccountOpened, 1),
    "ClientTierChanged": (ClientTierChanged, 1),  # every process's tier cache follows it
}
_NAMES: dict[type, str] = {cls: name for name, (cls, _v) in MESSAGE_TYPES.items()}
_DECODERS = {name: msgspec.json.Decoder(cls) for name, (cls, _v) in MESSAGE_TYPES.items()}
_ENCODER = msgspec.json.Encoder()

# (name, version) -> a function turning that version's data into the next version's.
UPCASTERS: dict[tuple[str, int], Callable[[Record], Record]] = {}


def register(name: str, cls: type, version: int = 1) -> None:
    """Add a message type (features register theirs at import time)."""
    MESSAGE_TYPES[name] = (cls, version)
    _NAMES[cls] = name
    _DECODERS[name] = msgspec.json.Decoder(cls)


class _Envelope(msgspec.Struct):
    type: str
    v: int
    data: msgspec.Raw


_ENVELOPE = msgspec.json.Decoder(_Envelope)


@dataclass
class ParkedMessages:
    """Messages this process could not read, kept (bounded) for operators instead of crashing a reader."""

    count: int = 0
    recent: deque[tuple[str, str]] = field(default_factory=lambda: deque(maxlen=100))

    def park(self, reason: str, raw: object) -> None:
        self.count += 1
        text = raw.decode(errors="replace") if isinstance(raw, bytes | bytearray) else repr(raw)
        self.recent.append((reason, text[:2000]))
        log.warning("parked a message this process cannot read (%s): %.300s", reason, text)


PARKED = ParkedMessages()


def name_of(message: object) -> str:
    try:
        return _NAMES[type(message)]
    except KeyError:
        raise TypeError(f"{type(message).__name__} is not a registered message type") from None


def encode(message: object) -> bytes:
    """The envelope as compact JSON bytes."""
    name = name_of(message)
    return _ENCODER.encode({"type": name, "v": MESSAGE_TYPES[name][1], "data": message})


def encode_record(record: Record) -> bytes:
    """A record (`to_record`, e.g. read back from the outbox) as compact JSON bytes, as `encode` writes it."""
    return _ENCODER.encode(record)


def to_record(message: object) -> Record:
    """The envelope as JSON-able builtins (for JSON columns: the outbox and the event store)."""
    name = name_of(message)
    return {"type": name, "v": MESSAGE_TYPES[name][1], "data": msgspec.to_builtins(message)}


def decode(raw: bytes | str) -> object | None:
    """The message in `raw`, or None (parked) when this process cannot read it."""
    try:
        envelope = _ENVELOPE.decode(raw)
    except msgspec.MsgspecError as exc:
        PARKED.park(f"not an envelope: {exc}", raw)
        return None
    known = MESSAGE_TYPES.get(envelope.type)
    if known is None or envelope.v > known[1]:
        PARKED.park(f"unknown message {envelope.type} v{envelope.v}", raw)
        return None
    try:
        if envelope.v == known[1]:
            return _DECODERS[envelope.type].decode(envelope.data)
        return _upcast(envelope.type, envelope.v, msgspec.json.decode(envelope.data))
    except (msgspec.MsgspecError, KeyError, TypeError, ValueError) as exc:
        PARKED.park(f"{envelope.type} v{envelope.v} does not fit: {exc}", raw)
        return None


def from_record(record: Record) -> object | None:
    """The message in a stored envelope (see `to_record`), or None (parked)."""
    if "type" not in record or "v" not in record:
        record = _legacy(record)
    name, version, data = record.get("type"), record.get("v"), record.get("data")
    known = MESSAGE_TYPES.get(name) if isinstance(name, str) else None
    if known is None or not isinstance(version, int) or version > known[1] or not isinstance(data, dict):
        PARKED.park(f"unknown message {name} v{version}", record)
        return None
    try:
        if version == known[1]:
            return msgspec.convert(data, known[0], strict=False)
        return _upcast(name, version, data)
    except (msgspec.MsgspecError, KeyError, TypeError, ValueError) as exc:
        PARKED.park(f"{name} v{version} does not fit: {exc}", record)
        return None


def _upcast(name: str, version: int, data: Record) -> object:
    cls, current = MESSAGE_TYPES[name]
    while version < current:
        data = UPCASTERS[(name, version)](data)
        version += 1
    return msgspec.convert(data, cls, strict=False)


def _legacy(record: Record) -> Record:
    """Account events stored before messages were versioned (camelCase, no envelope) are version 0."""
    if "seq" in record and "accountId" in record:
        return {"type": "AccountEvent", "v": 0, "data": record}
    return record


def _account_event_v0(old: Record) -> Record:
    """v0 (camelCase snapshots, money as strings) -> v1."""

    def order(o: Record | None) -> Record | None:
        if not o:
            return None
        return {
            "id": o["id"],
            "account_id": o["accountId"],
            "client_order_id": o.get("clientOrderId"),
            "symbol": o["symbol"],
            "side": o["side"],
            "type": o["type"],
            "time_in_force": o.get("timeInForce", "DAY"),
            "price": o.get("price"),
            "quantity": o["quantity"],
            "status": o["status"],
            "cum_qty": o["cumQty"],
            "leaves_qty": o["leavesQty"],
            "notional": o["notional"],
            "fees_paid": o["feesPaid"],
            "frozen_cash": o["frozenCash"],
            "reject_code": o.get("rejectCode"),
            "reject_reason": o.get("rejectReason"),
            "created_at": o["createdAt"],
            "updated_at": o["updatedAt"],
        }

    def fill(f: Record | None) -> Record | None:
        if not f:
            return None
        fees = {"commission": f["commission"], "stamp_duty": f["stampDuty"], "transfer_fee": f["transferFee"]}
        return {
            "id": f["id"],
            "exec_id": f.get("execId", f["id"]),
            "order_id": f["orderId"],
            "symbol": f["symbol"],
            "side": f["side"],
            "price": f["price"],
            "quantity": f["quantity"],
            "fees": fees,
            "liquidity": f.get("liquidity", "TAKER"),
            "at": f["at"],
        }

    return {
        "account_id": old["accountId"],
        "seq": old["seq"],
        "kind": old["kind"],
        "at": old["at"],
        "order": order(old.get("order")),
        "fill": fill(old.get("fill")),
        "code": old.get("code"),
        "reason": old.get("reason"),
        "trading_day": old.get("tradingDay"),
    }


UPCASTERS[("AccountEvent", 0)] = _account_event_v0
