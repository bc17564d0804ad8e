"""orderEvents heartbeats on the group writer (subscriptions/beat_slots.py): every stream's beat is its
slot's rendering for its selection, with the stream's own lastSeq spliced in, the same text strawberry
renders for the same Heartbeat; streams of different accounts in one slot share one rendering.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from brokerql.schema.types.trading import Heartbeat
from brokerql.subscriptions import beat_slots
from brokerql.subscriptions.push_channel import PushChannel
from tests.api.test_order_broadcast import frame, orders, subscribe
from tests.api.test_quote_broadcast import socket
from tests.api.trading_helpers import trading_client
from tests.api.written_frames import record_written_frames  # noqa: F401 (the fixture)

pytestmark = pytest.mark.usefixtures("record_written_frames")

# Aliases and the seq twice: a splice must put the stream's seq wherever the field is.
BEATS = """subscription($a: ID!) { orderEvents(accountId: $a) {
  __typename ... on OrderEvent { seq } ... on Heartbeat { seq: lastSeq lastSeq at: serverTime } } }"""


def beat_of(message: dict) -> dict | None:
    item = message["payload"]["data"]["orderEvents"] if message["type"] == "next" else {}
    return item if item.get("__typename") == "Heartbeat" else None


async def test_accounts_share_one_rendering_a_slot_each_with_its_own_seq(
    backend: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(beat_slots, "SLOTS", 1)  # one slot an interval: both streams beat in the same ones
    renders: list[Any] = []
    render = PushChannel._render

    def counted(self: PushChannel, item: Any) -> Any:
        if isinstance(item, Heartbeat):
            renders.append(item.last_seq)
        return render(self, item)

    monkeypatch.setattr(PushChannel, "_render", counted)
    async with trading_client(backend, with_exchange=False, heartbeat_seconds=0.3) as client:
        silver = await client.login("silver001")
        silver_account = await client.account_id()
        gold = await client.login("gold001")
        gold_account = await client.account_id()
        await orders(client, gold_account, 2, "g")  # gold's last seq is 2, silver's 0
        beats: dict[str, list[tuple[bool, str, dict]]] = {"gold": [], "silver": []}
        async with socket(client, gold) as g, socket(client, silver) as s:
            await subscribe(g, "1", gold_account, BEATS)
            await subscribe(s, "1", silver_account, BEATS)
            for name, ws in (("gold", g), ("silver", s)):
                while len(beats[name]) < 4:  # strawberry's first, then the writer's
                    by_writer, text, message = await frame(ws)
                    if (beat := beat_of(message)) is not None:
                        beats[name].append((by_writer, text, beat))
    for name, seq in (("gold", 2), ("silver", 0)):
        (_, first, _), *later = beats[name]
        assert all(by_writer for by_writer, _, _ in later) and not beats[name][0][0]
        for _, text, beat in later:
            assert beat == {"__typename": "Heartbeat", "seq": seq, "lastSeq": seq, "at": beat["at"]}
            # strawberry's own frame for its Heartbeat, but for the time: the same text
            assert text == re.sub(r'"at":"[^"]*"', f'"at":"{beat["at"]}"', first)
    # Every beat the writer wrote came from a slot's rendering (none rendered for a seq of its own), one
    # rendering per slot for both accounts: as many as the distinct times written (a slot's beats share
    # its time; the two streams were opened together, so their slots are mostly the same ones).
    times = {beat["at"] for name in beats for _, _, beat in beats[name][1:]}
    assert set(renders) == {beat_slots.MARK} and len(renders) == len(times)
