"""Error codes: GraphQL errors carry `extensions.code`; business rejections are payload `UserError`s."""

from __future__ import annotations

import logging
import secrets
from enum import StrEnum
from typing import Any

import strawberry
from graphql import GraphQLError

from brokerql.domain.common import Rejection

log = logging.getLogger("brokerql.errors")


class ErrorCode(StrEnum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    NOT_FOUND = "NOT_FOUND"
    RATE_LIMITED = "RATE_LIMITED"
    QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
    UNAVAILABLE = "UNAVAILABLE"  # this process is draining: reconnect elsewhere (extensions.servers)
    INTERNAL = "INTERNAL"


class CodedError(GraphQLError):
    """A GraphQL error we raise on purpose: its message is safe to show and it has a code."""

    def __init__(self, code: ErrorCode, message: str, **extra: Any) -> None:
        super().__init__(message, extensions={"code": code.value, **extra})


def unauthenticated(message: str = "Log in first: send `Authorization: Bearer <token>`.") -> CodedError:
    return CodedError(ErrorCode.UNAUTHENTICATED, message)


def not_found(what: str) -> CodedError:
    return CodedError(ErrorCode.NOT_FOUND, f"{what} not found")


def forbidden(message: str, **extra: Any) -> CodedError:
    return CodedError(ErrorCode.FORBIDDEN, message, **extra)


def bad_input(message: str, field: str | None = None) -> CodedError:
    return CodedError(ErrorCode.BAD_USER_INPUT, message, **({"field": field} if field else {}))


@strawberry.type(description="A business rejection: the request was understood but refused.")
class UserError:
    code: str = strawberry.field(description="Stable machine-readable code, e.g. INSUFFICIENT_FUNDS.")
    message: str = strawberry.field(description="Human-readable explanation.")
    field: str | None = strawberry.field(description="The input field at fault, when there is one.")

    @classmethod
    def of(cls, rejection: Rejection) -> UserError:
        return cls(code=rejection.code, message=rejection.message, field=rejection.field)


def _original(error: GraphQLError) -> BaseException | None:
    original = error.original_error
    while isinstance(original, GraphQLError) and original.original_error is not None:
        original = original.original_error
    return original


def classify(error: GraphQLError) -> None:
    """Give every error a code in place; hide and log anything we did not raise on purpose.

    - our CodedErrors keep their code and message;
    - parse and validation errors (no path, no original exception) become BAD_USER_INPUT, or
      QUERY_TOO_COMPLEX when a complexity rule produced them;
    - variable coercion errors (a wrong type) are BAD_USER_INPUT;
    - anything else is a bug: INTERNAL with an error id, the traceback in the log only.
    """
    extensions = dict(error.extensions or {})
    original = _original(error)
    if isinstance(original, CodedError):
        extensions.update(original.extensions or {})
        error.message = original.message
    if "code" in extensions:
        error.extensions = extensions
        return
    if original is None or isinstance(original, GraphQLError):
        complex_ = "depth" in error.message.lower() or "aliases" in error.message.lower()
        code = ErrorCode.QUERY_TOO_COMPLEX if complex_ else ErrorCode.BAD_USER_INPUT
        error.extensions = {**extensions, "code": code.value}
        return
    if isinstance(original, PermissionError):
        error.extensions = {**extensions, "code": ErrorCode.FORBIDDEN.value}
        return
    error_id = secrets.token_hex(6)
    log.error("internal error %s at %s", error_id, error.path, exc_info=original)
    error.message = f"Internal error (id {error_id}). It has been logged."
    error.extensions = {"code": ErrorCode.INTERNAL.value, "errorId": error_id}
    error.original_error = None
