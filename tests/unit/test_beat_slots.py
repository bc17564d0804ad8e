"""The heartbeat grid and the lastSeq splice (subscriptions/beat_slots.py)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from brokerql.subscriptions import beat_slots
from brokerql.subscriptions.beat_slots import MARK, BeatSlots, next_slot, splice


class Member:
    beat_slot = 0.0

    def beat(self) -> None:
        pass


def test_the_seq_replaces_the_mark_wherever_a_field_renders_it() -> None:
    template = f'{{"data":{{"orderEvents":{{"__typename":"Heartbeat","seq":{MARK},"lastSeq":{MARK}}}}}}}'
    assert splice(template, 42) == '{"data":{"orderEvents":{"__typename":"Heartbeat","seq":42,"lastSeq":42}}}'
    assert splice(f'{{"lastSeq":{MARK},"at":"x"}}', 0) == '{"lastSeq":0,"at":"x"}'


def test_a_rendering_with_the_marks_digits_elsewhere_is_not_spliced() -> None:
    assert splice(f'{{"lastSeq":{MARK},"note":"{MARK}"}}', 7) is None
    assert splice(f'{{"lastSeq":{MARK}0}}', 7) is None  # a longer number that starts with the mark
    assert splice(f'{{"lastSeq":{MARK},"note":"x:{MARK},y"}}', 7) is None  # text that looks like a value
    assert splice(f'{{"lastSeq":{MARK},"note":"x\\":{MARK},y"}}', 7) is None  # even after an escaped quote


def test_beats_fall_on_the_grid_within_one_interval_and_then_one_interval_apart() -> None:
    interval = 5.0
    grid = interval / beat_slots.SLOTS
    first = next_slot(1000.13, interval)
    assert first == 1005.0  # the last slot at most one interval on: a first beat at most one slot early
    assert next_slot(1000.0, interval) == 1005.0  # on the grid already: exactly one interval
    # rung at its slot, or late by less than a slot (a loaded loop), the next beat is one interval on
    assert next_slot(first, interval) == next_slot(first + grid * 0.9, interval) == 1010.0


async def test_scheduling_rings_the_member_at_its_slot() -> None:
    loop, member = asyncio.get_running_loop(), Member()
    handle = BeatSlots(lambda: datetime.now(UTC)).schedule(member, 5.0)
    assert handle.when() == member.beat_slot and member.beat_slot - loop.time() <= 5.0
    handle.cancel()


def test_a_slot_has_one_template_with_one_time() -> None:
    slots = BeatSlots(lambda: datetime.now(UTC))
    first = slots.template(10.0)
    assert slots.template(10.0) is first and first.last_seq == MARK and first.frames == {}
    assert slots.template(10.25) is not first
    for n in range(BeatSlots.KEPT + 1):
        slots.template(20.0 + n)
    assert slots.template(10.0) is not first  # only the recent slots are kept
