"""What resolvers call around an attempt and after an operator login (the work is in api/edge.py).

Kept free of schema imports: the resolvers import it, and the schema imports the resolvers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from brokerql.domain.common import Rejection

T = TypeVar("T")
OPERATOR_COOKIE = "brokerql_operator"


async def attempt(
    context: Any,
    action: str,
    name: str | None,
    call: Callable[[], Awaitable[T]],
    refuse: Callable[[Rejection], T],
    captcha: tuple[str | None, str | None] = (None, None),
) -> T:
    """What resolvers call around an attempt; without an edge (bare schema in tests) it just runs."""
    edge = getattr(context, "edge", None)
    if edge is None:
        return await call()
    return await edge.attempt(context, action, name, call, refuse, captcha)


def set_operator_cookie(context: Any, token: str | None, max_age: int) -> None:
    """After an operator login over HTTP: the cookie that opens GraphiQL (and introspection) in production.
    HttpOnly, SameSite=Strict and scoped to /graphql; Secure in production."""
    response = getattr(context, "response", None)
    edge = getattr(context, "edge", None)
    if token is None or edge is None or not hasattr(response, "set_cookie"):
        return
    response.set_cookie(
        OPERATOR_COOKIE,
        token,
        max_age=max_age,
        path="/graphql",
        httponly=True,
        samesite="strict",
        secure=edge.production,
    )
