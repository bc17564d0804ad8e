"""The queue of single placements (`services/trading/placement_groups.py`): who shares a group, and what
a failure or a departed caller does, with a stand-in for the unit of work."""

from __future__ import annotations

import asyncio

import pytest

from brokerql.services.trading.placement_groups import PlacementGroups


class Recorder:
    """Runs groups when released; records each group's members; fails any group holding "bad"."""

    def __init__(self) -> None:
        self.groups: list[list[str]] = []
        self.release = asyncio.Event()

    async def run(self, members: list[str]) -> list[str]:
        await self.release.wait()
        self.groups.append(members)
        if "bad" in members:
            raise RuntimeError("bad")
        return [m.upper() for m in members]


def _key(member: str) -> str | None:
    return member.split(":")[0] if ":" in member else None


async def _started(groups: PlacementGroups[str, str], *members: str) -> list[asyncio.Task[str]]:
    tasks = [asyncio.create_task(groups.place(m)) for m in members]
    await asyncio.sleep(0)  # each has joined the queue, the first slots have taken theirs
    await asyncio.sleep(0)
    return tasks


async def test_each_slot_takes_what_waits_up_to_the_limit() -> None:
    recorder = Recorder()
    groups = PlacementGroups(recorder.run, _key, at_once=2, limit=3)
    tasks = await _started(groups, "a", "b", "c", "d", "e", "f", "g")
    recorder.release.set()
    assert await asyncio.gather(*tasks) == ["A", "B", "C", "D", "E", "F", "G"]
    # Both slots took a full group; the one free first took what was left.
    assert sorted(recorder.groups) == [["a", "b", "c"], ["d", "e", "f"], ["g"]]
    assert (groups.groups, groups.placed) == (3, 7)


async def test_a_placement_finding_a_free_slot_runs_alone_at_once() -> None:
    recorder = Recorder()
    groups = PlacementGroups(recorder.run, _key, at_once=1)
    first = await _started(groups, "a")
    later = await _started(groups, "b", "c")  # while the slot is busy with "a"
    recorder.release.set()
    assert await asyncio.gather(*first, *later) == ["A", "B", "C"]
    assert recorder.groups == [["a"], ["b", "c"]]


async def test_one_slot_one_group_at_a_time() -> None:
    recorder = Recorder()
    groups = PlacementGroups(recorder.run, _key, at_once=1)
    tasks = await _started(groups, "a", "b", "c")
    recorder.release.set()
    await asyncio.gather(*tasks)
    assert recorder.groups == [["a", "b", "c"]]  # all had joined before the slot's task took its group


async def test_the_same_key_waits_for_a_later_group() -> None:
    recorder = Recorder()
    groups = PlacementGroups(recorder.run, _key, at_once=1)
    tasks = await _started(groups, "k:1", "x", "k:2", "y")
    recorder.release.set()
    assert await asyncio.gather(*tasks) == ["K:1", "X", "K:2", "Y"]
    assert recorder.groups == [["k:1", "x", "y"], ["k:2"]]


async def test_a_failing_group_is_placed_one_by_one_and_only_the_failure_fails() -> None:
    recorder = Recorder()
    groups = PlacementGroups(recorder.run, _key, at_once=1)
    tasks = await _started(groups, "a", "bad", "c")
    recorder.release.set()
    answers = await asyncio.gather(*tasks, return_exceptions=True)
    assert answers[0] == "A" and answers[2] == "C"
    assert isinstance(answers[1], RuntimeError)
    assert recorder.groups == [["a", "bad", "c"], ["a"], ["bad"], ["c"]]


async def test_a_caller_gone_before_its_group_is_not_placed() -> None:
    recorder = Recorder()
    groups = PlacementGroups(recorder.run, _key, at_once=1)
    first = await _started(groups, "a")
    rest = await _started(groups, "b", "c")
    rest[0].cancel()
    recorder.release.set()
    assert await first[0] == "A" and await rest[1] == "C"
    with pytest.raises(asyncio.CancelledError):
        await rest[0]
    assert recorder.groups == [["a"], ["c"]]
