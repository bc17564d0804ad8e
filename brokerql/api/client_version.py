"""F2: refuse out-of-date client builds (X-Client-Version below the configured minimum).

An ASGI middleware in front of /graphql. HTTP gets a GraphQL-shaped JSON error with
`extensions.code = "CLIENT_OUTDATED"` and status 426 (Upgrade Required); a WebSocket is accepted and
closed at once with code 4426 and the same message as the reason, which browsers can read.
"""

from __future__ import annotations

import json
from typing import Any

from brokerql.domain.identity.client_version import is_version_allowed

CLOSE_CODE = 4426
HEADER = b"x-client-version"


def refusal(minimum: str) -> dict[str, Any]:
    message = f"This client build is out of date; version {minimum} or later is required."
    return {
        "data": None,
        "errors": [{"message": message, "extensions": {"code": "CLIENT_OUTDATED", "minimumVersion": minimum}}],
    }


class ClientVersionMiddleware:
    def __init__(self, app: Any, minimum: str | None, allow_missing: bool, paths: tuple[str, ...] = ("/graphql",)):
        self.app = app
        self.minimum = minimum
        self.allow_missing = allow_missing
        self.paths = paths

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self.minimum is None or scope["type"] not in ("http", "websocket") or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        raw = dict(scope.get("headers") or []).get(HEADER)
        if is_version_allowed(raw.decode("latin-1") if raw else None, self.minimum, allow_missing=self.allow_missing):
            await self.app(scope, receive, send)
            return
        body = refusal(self.minimum)
        if scope["type"] == "http":
            payload = json.dumps(body).encode()
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
            await send({"type": "http.response.start", "status": 426, "headers": headers})
            await send({"type": "http.response.body", "body": payload})
            return
        await receive()  # websocket.connect
        protocols = scope.get("subprotocols") or []
        await send({"type": "websocket.accept", "subprotocol": protocols[0] if protocols else None})
        reason = body["errors"][0]["message"][:120]
        await send({"type": "websocket.close", "code": CLOSE_CODE, "reason": reason})
