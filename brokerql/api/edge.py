"""The public edge of one process: operation limits, quotas, persisted queries and the production gates.

Built once by the app factory; the operation guard (schema/guard.py) and the HTTP view
(api/http_view.py) ask it who is calling and what that caller may still spend.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from starlette.responses import Response

from brokerql.api.addresses import AddressResolver
from brokerql.api.apq import ApqBounds
from brokerql.api.counters import make_counters
from brokerql.api.guarded import OPERATOR_COOKIE
from brokerql.api.persisted import PersistedQueries
from brokerql.api.quotas import Attempts, CostBudgets, rate_limited
from brokerql.domain.common import Rejection
from brokerql.domain.identity.rate_limit import Decision, scaled
from brokerql.schema.guard_process import DocumentChecks
from brokerql.schema.operation_limits import OperationLimits
from brokerql.schema.root import build_schema
from brokerql.services.tokens import Principal, TokenError
from brokerql.settings import Environment, Settings

T = TypeVar("T")


def limits_from(settings: Settings) -> OperationLimits:
    return OperationLimits(
        max_body_bytes=settings.max_body_bytes,
        max_tokens=settings.query_max_tokens,
        max_depth=settings.query_max_depth,
        max_aliases=settings.query_max_aliases,
        max_duplicate_fields=settings.query_max_duplicate_fields,
        max_fragment_spreads=settings.query_max_fragment_spreads,
        max_directives=settings.query_max_directives,
        max_cost=settings.query_max_cost,
        max_overlapping_fields=settings.query_max_overlapping_fields,
        max_expanded_fields=settings.query_max_expanded_fields,
    )


def cookie(headers: Any, name: str) -> str | None:
    """One cookie's value from a Cookie header (no dependence on the framework's request type)."""
    raw = headers.get("cookie") or ""
    for part in raw.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name and value:
            return value
    return None


def metrics_allowed(settings: Settings, headers: Any) -> bool:
    """The gate of GET /metrics (call it from whatever serves metrics): open when no metrics token is set
    (development only: production requires one), else `Authorization: Bearer <token>` must match."""
    expected = settings.metrics_token
    if not expected:
        return settings.env is not Environment.PRODUCTION
    from brokerql.api.context import bearer_token

    given = bearer_token(headers.get("authorization")) or ""
    return hmac.compare_digest(given.encode(), expected.encode())


class Edge:
    def __init__(self, settings: Settings, container: Any) -> None:
        self.settings = settings
        self.container = container
        self.production = settings.env is Environment.PRODUCTION
        self.persisted_only = settings.persisted_queries_only
        self.limits = limits_from(settings)
        self.checks = DocumentChecks(
            settings.guard_processes, build_schema
        )  # started and stopped by the app's lifespan
        redis = getattr(container.bus, "client", None)
        self.counters = make_counters(redis, settings.redis_prefix, getattr(container, "allowances", None))
        self.addresses = AddressResolver(settings.trusted_proxies)
        bounds = ApqBounds(max_entries=settings.apq_max_entries, max_bytes=settings.apq_max_bytes)
        self.persisted = PersistedQueries(container.db, redis, settings.redis_prefix, bounds)
        self.budgets = CostBudgets(self.counters, settings)
        self.attempts = Attempts(self.counters, settings, container.db, container.identity.captchas)

    # -- who is calling ------------------------------------------------------------------------------
    def address(self, context: Any) -> str:
        request = getattr(context, "request", None)
        return self.addresses.resolve(getattr(request, "scope", {}) or {})

    def principal_of(self, token: str | None) -> Principal | None:
        if not token:
            return None
        try:
            principal = self.container.access_tokens.verify(token, now=self.container.clock.now())
        except TokenError:
            return None
        if self.container.identity.sessions.is_revoked(principal.session_id):
            return None
        return principal

    def who(self, context: Any) -> str:
        """The caller, for the logs: kind:id, or anonymous@address."""
        principal = self.principal_of(getattr(context, "token", None))
        return f"{principal.kind}:{principal.subject_id}" if principal else f"anonymous@{self.address(context)}"

    def operator_of(self, headers: Any) -> Principal | None:
        """A logged-in operator: by bearer token, or by the cookie operator login sets (GraphiQL page)."""
        from brokerql.api.context import bearer_token

        for token in (bearer_token(headers.get("authorization")), cookie(headers, OPERATOR_COOKIE)):
            principal = self.principal_of(token)
            if principal is not None and principal.kind == "operator":
                return principal
        return None

    def is_operator(self, context: Any) -> bool:
        request = getattr(context, "request", None)
        if request is not None and self.operator_of(request.headers) is not None:
            return True
        principal = self.principal_of(getattr(context, "token", None))  # WebSocket: connection_init's token
        return principal is not None and principal.kind == "operator"

    def metrics_allowed(self, headers: Any) -> bool:
        return metrics_allowed(self.settings, headers)

    # -- what the guard asks -------------------------------------------------------------------------
    async def is_registered(self, query: str) -> bool:
        return await self.persisted.is_registered(query)

    async def charge(self, context: Any, cost: int) -> dict[str, Any]:
        """Charge an operation's cost to the caller's budget; RATE_LIMITED when it is spent."""
        key, per_minute = await self._budget_of(context)
        throttle = await self.budgets.charge(key, per_minute, cost)
        response = getattr(context, "response", None)
        headers = response.headers if isinstance(response, Response) else None  # HTTP only, not a WebSocket
        if headers is not None:
            for name, value in throttle.headers().items():
                headers[name] = value
        if not throttle.allowed:
            if headers is not None:
                headers["Retry-After"] = str(max(1, int(throttle.wait_seconds + 0.999)))
                response.status_code = 429
            message = f"This operation costs {cost} points; {int(throttle.capacity - throttle.level)} are left."
            raise rate_limited(message, throttle.wait_seconds, limit=throttle.capacity, cost=cost)
        return throttle.status()

    async def _budget_of(self, context: Any) -> tuple[str, int]:
        try:
            principal = context.principal(allow_locked=True)
        except Exception:  # a bad token is reported by the resolver that needs it; budget by address
            principal = None
        if principal is None:
            s = self.settings
            return f"address:{self.address(context)}", scaled(s.anonymous_requests_per_minute, s.rate_limit_scale)
        limits = await self.container.identity.limits.limits_for(principal)
        return f"{principal.kind}:{principal.subject_id}", limits.requests_per_minute

    async def anonymous_request(self, scope: Any) -> Decision:
        """Count one anonymous HTTP operation of an address (A4 requests per minute, for nobody in particular)."""
        s = self.settings
        limit = scaled(s.anonymous_requests_per_minute, s.rate_limit_scale)
        count, left = await self.counters.count(f"requests:{self.addresses.resolve(scope)}", limit, 60)
        return Decision(count <= limit, max(1, int(left + 0.999)) if count > limit else 0, count, limit)

    async def apq_registration(self, scope: Any) -> Decision:
        """Count one new automatic persisted query registered by an address (its hourly quota)."""
        s = self.settings
        limit = scaled(s.apq_registrations_per_hour, s.rate_limit_scale)
        count, left = await self.counters.hit(f"apq:{self.addresses.resolve(scope)}", 3600)
        return Decision(count <= limit, max(1, int(left + 0.999)) if count > limit else 0, count, limit)

    # -- attempts (login, OTP, SMS code, captcha) ----------------------------------------------------
    async def attempt(
        self,
        context: Any,
        action: str,
        name: str | None,
        call: Callable[[], Awaitable[T]],
        refuse: Callable[[Rejection], T],
        captcha: tuple[str | None, str | None] = (None, None),
    ) -> T:
        return await self.attempts.guard(self.address(context), action, name, call, refuse, captcha)
