"""Stopping background tasks reliably."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

log = logging.getLogger(__name__)


async def stop_tasks(tasks: Iterable[asyncio.Task[None]], timeout: float = 5.0) -> None:
    """Cancel the tasks and wait until they are done.

    Some client libraries (redis-py's connection handling among them) can swallow a CancelledError
    that lands inside their I/O; the loop around it then carries on. So cancel again until each task
    really ends, instead of awaiting one cancellation forever.
    """
    pending = {t for t in tasks if not t.done()}
    deadline = asyncio.get_running_loop().time() + timeout
    while pending:
        for task in pending:
            task.cancel()
        _done, pending = await asyncio.wait(pending, timeout=0.1)
        if pending and asyncio.get_running_loop().time() > deadline:
            log.warning("tasks did not stop in %.1fs: %s", timeout, [t.get_name() for t in pending])
            return
