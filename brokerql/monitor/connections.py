"""The open GraphQL WebSocket connections of this process, so that an operator can end them: all of
them when the process drains (close code 1012 "service restart" with a hint to reconnect elsewhere),
or one client's when its sessions are force-closed (close code 4401).

`ConnectionRegistry.track` wraps a connection's ASGI `receive`/`send`: closing sends the close frame
(on which the server reports a disconnect to the pending read: uvicorn queues one as the app's close
goes out), after which `receive` reports a disconnect at once, so strawberry ends every stream of the
connection, and whatever strawberry still tries to send is dropped. A read is the server's own, with
no task of its own: thousands of idle sockets each parked a task on it when reads raced the close.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from brokerql.services.tokens import Principal

DRAIN_CLOSE_CODE = 1012  # RFC 6455 "service restart": the client may reconnect (elsewhere) at once
DRAIN_REASON = "DRAINING: reconnect through the load balancer or another server of liveServers"
FORCE_CLOSE_CODE = 4401
FORCE_CLOSE_REASON = "SESSION_REVOKED: your sessions were closed by an operator; log in again"

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class Connection:
    def __init__(self, receive: Receive, send: Send) -> None:
        self._receive = receive
        self._send = send
        self.context: Any = None  # the strawberry Context of this connection (set by get_context)
        self._closed = False
        self._close_code = 1000

    def principal(self, verify: Callable[[str], Principal]) -> Principal | None:
        token = getattr(self.context, "token", None)
        if not token:
            return None
        try:
            return verify(token)
        except Exception:  # an expired token's streams end at their next heartbeat anyway
            return None

    async def receive(self) -> dict[str, Any]:
        if self._closed:
            return {"type": "websocket.disconnect", "code": self._close_code}
        return await self._receive()

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def server_send(self) -> Send:
        """The server's own `send`, for a writer that checks `closed` itself (the quote group writer:
        one call less per frame)."""
        return self._send

    async def send(self, message: dict[str, Any]) -> None:
        if not self._closed:
            await self._send(message)

    async def close(self, code: int, reason: str) -> None:
        if self._closed:
            return
        self._close_code, self._closed = code, True  # from now on nothing else is sent, nor closed twice
        with contextlib.suppress(Exception):  # already gone
            await self._send({"type": "websocket.close", "code": code, "reason": reason})


class ConnectionRegistry:
    def __init__(self) -> None:
        self.open: set[Connection] = set()

    def track(self, scope: dict[str, Any], receive: Receive, send: Send) -> Connection:
        connection = Connection(receive, send)
        scope.setdefault("state", {})["brokerql.connection"] = connection
        self.open.add(connection)
        return connection

    def untrack(self, connection: Connection) -> None:
        self.open.discard(connection)

    @staticmethod
    def of(request: Any) -> Connection | None:
        scope = getattr(request, "scope", None) or {}
        return (scope.get("state") or {}).get("brokerql.connection")

    async def close_all(self, code: int = DRAIN_CLOSE_CODE, reason: str = DRAIN_REASON) -> int:
        connections = list(self.open)
        await asyncio.gather(*(c.close(code, reason) for c in connections))
        return len(connections)

    async def close_subject(self, subject_id: str, verify: Callable[[str], Principal]) -> int:
        """Close the connections of one client (by the principal of the token each one logged in with)."""
        mine = []
        for connection in list(self.open):
            principal = connection.principal(verify)
            if principal is not None and principal.subject_id == subject_id:
                mine.append(connection)
        await asyncio.gather(*(c.close(FORCE_CLOSE_CODE, FORCE_CLOSE_REASON) for c in mine))
        return len(mine)
