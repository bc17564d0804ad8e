"""What the C allocator holds, for telling a leak from fragmentation (GET /metrics).

A process whose resident memory grows can be holding more objects (Python's own count of allocated
blocks grows with them), more C allocations (glibc's bytes in use grow), or only free space the
allocator keeps and cannot give back (its free bytes grow while the bytes in use stay flat). The
soak of docs/performance.md ("Target 4") found nothing in Python's allocations growing; these gauges
say which of the other two the growth is. Read at scrape time only: `mallinfo2` walks every free chunk
of every arena (about 40 ns a chunk: 3.8 ms for 100,000 free chunks, well under a millisecond for an API
process's heap), and the scrape waits for it.

glibc only (2.33 and later: `mallinfo2`); elsewhere only the block count is exported.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector


class MallInfo2(ctypes.Structure):
    """glibc's `struct mallinfo2` (malloc.h): sizes in bytes, summed over every arena."""

    _fields_ = [
        (name, ctypes.c_size_t)
        for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks")
    ] + [("keepcost", ctypes.c_size_t)]


def _glibc(name: str, restype: Any, argtypes: list[Any]) -> Callable[..., Any] | None:
    """A function of the C library with its types set; None where it is not glibc's, or too old."""
    try:
        function = getattr(ctypes.CDLL(None), name)
    except (AttributeError, OSError):
        return None
    function.restype, function.argtypes = restype, argtypes
    return function


def mallinfo2() -> Callable[[], MallInfo2] | None:
    """glibc's `mallinfo2()` (2.33 and later)."""
    return _glibc("mallinfo2", MallInfo2, [])


def malloc_trim() -> Callable[[int], int] | None:
    """glibc's `malloc_trim(pad)`: gives free memory of every arena back to the system (whole free pages
    inside the heap too, not only its top)."""
    return _glibc("malloc_trim", ctypes.c_int, [ctypes.c_size_t])


M_ARENA_MAX = -8  # malloc.h: mallopt's parameter for the most arenas malloc may create


def limit_arenas(count: int) -> bool:
    """At most `count` malloc arenas in this process (glibc's `mallopt(M_ARENA_MAX, count)`); 0 leaves
    glibc's default (8 a core). True if it was set.

    glibc gives threads arenas of their own as they contend, up to 8 a core; an API process runs about 23
    threads (a database driver's thread per connection, the executor's), though the GIL lets one run
    Python at a time. Each arena keeps its own free space, and under a steady load that free space grew
    without bound while what was in use stayed flat (docs/performance.md, "Target 4"). Call it early:
    arenas made before it stay, and glibc fixes its limit for good once more than eight exist."""
    if count <= 0:
        return False
    mallopt = _glibc("mallopt", ctypes.c_int, [ctypes.c_int, ctypes.c_int])
    return mallopt is not None and mallopt(M_ARENA_MAX, count) == 1


# Each exported part and the mallinfo2 field it is: chunks handed out and not freed; free chunks kept
# inside the arenas; what the arenas took from the system; large blocks mapped one by one (given back
# when freed); the top of the main arena that trimming would give back.
PARTS = {"in_use": "uordblks", "free": "fordblks", "arena": "arena", "mmapped": "hblkhd", "releasable": "keepcost"}


class HeapCollector(Collector):
    def __init__(self, mallinfo: Callable[[], MallInfo2] | None = None) -> None:
        self.mallinfo = mallinfo if mallinfo is not None else mallinfo2()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        blocks = GaugeMetricFamily(
            "brokerql_python_allocated_blocks", "Memory blocks Python's allocator has handed out and not freed."
        )
        blocks.add_metric([], sys.getallocatedblocks())
        yield blocks
        if self.mallinfo is None:
            return
        info = self.mallinfo()
        family = GaugeMetricFamily(
            "brokerql_malloc_bytes",
            "The C allocator's heap (glibc mallinfo2) by part: in_use, free (kept in the arenas), arena "
            "(taken from the system), mmapped (large blocks), releasable (the top a trim gives back).",
            labels=["part"],
        )
        for part, field in PARTS.items():
            family.add_metric([part], getattr(info, field))
        yield family
