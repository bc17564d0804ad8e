"""The open GraphQL WebSocket connections of this process, so that an operator can end them: all of
them when the process drains (close code 1012 "service restart" with a hint to reconnect elsewhere),
or one client's when its sessions are force-closed (close code 4401).

`ConnectionRegistry.track` wraps a connection's ASGI `receive`/`send`: closing sends the close frame,
then makes `receive` report a disconnect so strawberry ends every stream of the connection, and drops
whatever strawberry still tries to send.
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
        # Done once closed: a plain future, which a pending `receive` races without a task of its own (an
        # Event's wait() would need one per read: a task per idle socket, thousands in a fan-out).
        self._closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
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
        if self._closed.done():
            return {"type": "websocket.disconnect", "code": self._close_code}
        reader = asyncio.ensure_future(self._receive())
        try:
            await asyncio.wait({reader, self._closed}, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:  # cancelled while waiting: the read must not outlive this call
            reader.cancel()
            raise
        if reader.done():
            return reader.result()
        reader.cancel()
        return {"type": "websocket.disconnect", "code": self._close_code}

    @property
    def closed(self) -> bool:
        return self._closed.done()

    @property
    def server_send(self) -> Send:
        """The server's own `send`, for a writer that checks `closed` itself (the quote group writer:
        one call less per frame)."""
        return self._send

    async def send(self, message: dict[str, Any]) -> None:
        if not self._closed.done():
            await self._send(message)

    async def close(self, code: int, reason: str) -> None:
        if self._closed.done():
            return
        self._close_code = code
        with contextlib.suppress(Exception):  # already gone
            await self._send({"type": "websocket.close", "code": code, "reason": reason})
        if not self._closed.done():
            self._closed.set_result(None)


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
