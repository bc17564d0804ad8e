"""The allocator gauges on /metrics (monitor/heap.py): what glibc's heap holds, by part."""

from __future__ import annotations

import platform

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from brokerql.monitor.heap import PARTS, HeapCollector, MallInfo2
from brokerql.monitor.prometheus import REGISTRY


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
