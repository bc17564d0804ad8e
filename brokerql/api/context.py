"""The typed per-request (HTTP) or per-connection (WebSocket) context handed to every resolver.

Over WebSockets strawberry builds the context once per connection, so nothing here caches data that
can change (the tier, entitlements): the principal's token is re-verified on every call, which is how
an expired or revoked token takes effect on an open stream.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from brokerql.schema.errors import CodedError, ErrorCode, unauthenticated
from brokerql.services.tokens import Principal, TokenError

if TYPE_CHECKING:
    from brokerql.container import Container


def bearer_token(value: str | None) -> str | None:
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


class RequestRateLimited(Exception):
    """Raised by `Context.prepare` when the caller is over its requests per minute (answered with 429)."""

    def __init__(self, retry_after: int, limit: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after
        self.limit = limit

    def body(self) -> dict[str, Any]:
        message = f"More than {self.limit} requests in a minute; retry in {self.retry_after} s."
        extensions = {"code": "RATE_LIMITED", "retryAfter": self.retry_after, "limit": self.limit}
        return {"data": None, "errors": [{"message": message, "extensions": extensions}]}


class Context:
    """What a resolver may use: the services, and who is calling."""

    def __init__(self, container: Container, request: Any = None, response: Any = None, edge: Any = None) -> None:
        self.container = container
        self.edge = edge  # brokerql.api.edge.Edge: address, quotas and attempts (None for a bare schema)
        self.request = request
        self.response = response
        self.connection_params: dict[str, Any] | None = None
        # Set by a subscription right before it yields a shareable event (see schema/graphql_core_fix.py).
        self.shared_event_key: Any = None
        self._header_token = None
        self.session_state: str | None = None  # HTTP only: ACTIVE, IDLE_LOCKED, REVOKED (see prepare)
        if request is not None and getattr(request, "scope", {}).get("type") == "http":
            self._header_token = bearer_token(request.headers.get("authorization"))

    @property
    def token(self) -> str | None:
        if self._header_token:
            return self._header_token
        params = self.connection_params or {}
        raw = params.get("authorization") or params.get("Authorization")
        return bearer_token(raw) if isinstance(raw, str) else None

    async def prepare(self) -> None:
        """HTTP requests: the session's idle lock, and recording its activity (a stream is activity)."""
        if self._header_token is None:
            return
        try:
            principal = self.container.access_tokens.verify(self._header_token, now=self.container.clock.now())
        except TokenError:
            return  # principal() reports it when a resolver asks
        identity = self.container.identity
        if principal.session_id and principal.kind in ("client", "operator"):
            idle = await identity.params.integer("session.idle_minutes")
            self.session_state = await identity.sessions.activity(principal.session_id, idle)
        decision = await identity.limits.check_request(principal)  # A4: requests per minute
        if not decision.allowed:
            raise RequestRateLimited(decision.retry_after, decision.limit)

    def connection_credentials_valid(self) -> bool:
        """For a WebSocket's connection_init: no credentials (anonymous) or a bearer token that verifies
        and whose session is live. A token that is malformed, expired or revoked is refused here, at
        once, rather than per subscription."""
        params = self.connection_params or {}
        if self.token is None:
            return not (params.get("authorization") or params.get("Authorization"))
        try:
            self.principal()
        except CodedError:
            return False
        return True

    def principal(self, *, allow_locked: bool = False) -> Principal | None:
        """The verified caller, or None when anonymous. Raises UNAUTHENTICATED for a bad token, a revoked
        session (checked in memory, so also at every subscription heartbeat) or an idle-locked one."""
        token = self.token
        if token is None:
            return None
        try:
            principal = self.container.access_tokens.verify(token, now=self.container.clock.now())
        except TokenError as exc:
            raise unauthenticated(f"Access token {exc.reason}; log in again or refresh.") from None
        if self.container.identity.sessions.is_revoked(principal.session_id) or self.session_state == "REVOKED":
            raise unauthenticated("This session has ended (logged out or revoked); log in again.")
        if self.session_state == "IDLE_LOCKED" and not allow_locked:
            raise CodedError(
                ErrorCode.UNAUTHENTICATED,
                "This session is locked after inactivity; unlock it with your communication password.",
                reason="SESSION_LOCKED",
            )
        return principal

    def require_client(self) -> Principal:
        principal = self.principal()
        if principal is None or principal.kind != "client":
            raise unauthenticated()
        return principal
