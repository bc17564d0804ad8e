"""The allocator gauges on /metrics (monitor/heap.py) and the trimmer (monitor/heap_trim.py)."""

from __future__ import annotations

import platform
from pathlib import Path

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from brokerql.monitor.heap import PARTS, HeapCollector, MallInfo2, limit_arenas, mallinfo2
from brokerql.monitor.heap_trim import HeapTrimmer
from brokerql.monitor.prometheus import MALLOC_TRIMS, REGISTRY


def samples(collector: HeapCollector) -> dict[tuple[str, str], float]:
    return {(s.name, s.labels.get("part", "")): s.value for family in collector.collect() for s in family.samples}


def test_each_part_is_its_mallinfo2_field() -> None:
    info = MallInfo2(**{field: 1000 + n for n, field in enumerate(PARTS.values())})
    found = samples(HeapCollector(lambda: info))
    assert {part: found[("brokerql_malloc_bytes", part)] for part in PARTS} == {
        part: 1000 + n for n, part in enumerate(PARTS)
    }
    assert found[("brokerql_python_allocated_blocks", "")] > 0


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallinfo2 is glibc's")
def test_the_process_registry_reads_this_process_heap() -> None:
    page = generate_latest(REGISTRY).decode()
    heap = {s.labels["part"]: s.value for f in text_string_to_metric_families(page) for s in f.samples
            if s.name == "brokerql_malloc_bytes"}  # fmt: skip
    assert set(heap) == set(PARTS)
    assert heap["in_use"] > 0 and heap["arena"] >= heap["free"]


async def test_the_trimmer_trims_only_when_enough_is_free() -> None:
    free, trims = [1000], []
    trimmer = HeapTrimmer(60, above=4096, mallinfo=lambda: MallInfo2(fordblks=free[0]), trim=trims.append)
    assert trimmer.available and not await trimmer.trim_once() and trims == []
    free[0] = 5000
    before = MALLOC_TRIMS._value.get()
    assert await trimmer.trim_once() and trims == [0]
    assert MALLOC_TRIMS._value.get() == before + 1
    assert not HeapTrimmer(0, above=0, mallinfo=trimmer.mallinfo, trim=trimmer.trim).available  # switched off
    assert HeapTrimmer(0, above=0).start() == []


def resident_mib() -> float:
    status = Path("/proc/self/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1]) / 1024


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
async def test_a_trim_gives_free_pages_inside_the_heap_back() -> None:
    held = [bytearray(1000) for _ in range(100_000)]  # ~100 MiB of C allocations, one after another
    del held[:80_000]  # free, but below the live part: malloc keeps it
    before = resident_mib()
    assert await HeapTrimmer(60, above=0).trim_once()
    assert resident_mib() < before - 40
    del held


@pytest.mark.skipif(mallinfo2() is None, reason="glibc 2.33 or later only")
def test_the_arena_limit_is_set_through_mallopt_and_zero_leaves_glibcs_own() -> None:
    assert limit_arenas(0) is False  # nothing asked of glibc
    assert limit_arenas(2) is True  # mallopt(M_ARENA_MAX, 2) answered 1
