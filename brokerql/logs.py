"""Structured logs (structlog over the standard library's logging).

Production writes one JSON object per line; development writes readable lines. Every line written while
a request is handled carries its `request_id` (the caller's X-Request-Id when it sends a sane one, else a
new one, echoed in the response), and once known the GraphQL `operation` name and the `principal`
(`client:cli_...`, `operator:op_...`, or `anonymous@<address>`), bound in context variables by the
HTTP view and the operation guard, and the `process` id. Each worker of `serve --workers N` sets this
up for itself (`brokerql.api.app.create_worker_app`). Libraries that log through `logging` get the same treatment.
"""

from __future__ import annotations

import logging
import random
import re
import sys
from typing import Any

import structlog

from brokerql.settings import Environment, Settings

REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_ids = random.Random()  # seeded from the OS when the process starts


def configure_logging(settings: Settings, level: int = logging.INFO, stream: Any = None) -> None:
    json_lines = (settings.log_format or ("json" if settings.env is Environment.PRODUCTION else "console")) == "json"
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        # the process id: tells the workers of `serve --workers N` apart in one stream
        structlog.processors.CallsiteParameterAdder([structlog.processors.CallsiteParameter.PROCESS]),
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer() if json_lines else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info if json_lines else structlog.processors.StackInfoRenderer(),
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream)  # stderr by default
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    _per_request_lines(settings.access_log)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


# The lines logged once per WebSocket: uvicorn's handshake line, and the websockets library's "connection
# open" / "connection closed", which it logs on the logger uvicorn hands it (`uvicorn.error`). With
# thousands of sockets opening they were 5% of the server's CPU while a fan-out ramped up.
_PER_SOCKET = ('%s - "WebSocket ', "connection open", "connection closed")


class _HandshakeLines(logging.Filter):
    """Drops the lines logged per WebSocket on `uvicorn.error`; its start-up and error lines stay."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg.startswith(_PER_SOCKET))


_HANDSHAKES = _HandshakeLines()


def _per_request_lines(enabled: bool) -> None:
    """uvicorn's access lines (HTTP requests, WebSocket handshakes) on or off (BROKERQL_ACCESS_LOG)."""
    access, server = logging.getLogger("uvicorn.access"), logging.getLogger("uvicorn.error")
    access.setLevel(logging.NOTSET if enabled else logging.WARNING)
    server.removeFilter(_HANDSHAKES)
    if not enabled:
        server.addFilter(_HANDSHAKES)


def begin_request(given: str | None) -> str:
    """Start a request's log context; the request id to echo back."""
    # A correlation id, not a secret: the process's PRNG, not a system call per request.
    request_id = given if given and REQUEST_ID.match(given) else f"{_ids.getrandbits(64):016x}"
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=request_id)
    return request_id


def bind(**values: Any) -> None:
    structlog.contextvars.bind_contextvars(**values)
