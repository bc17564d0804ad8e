"""The Schema subclass: coded errors, quiet logs for client mistakes, no field suggestions in production."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.types.execution import PreExecutionError

from brokerql.schema.errors import classify

# "Cannot query field 'quot' on type 'Query'. Did you mean 'quote'?" tells an attacker the schema.
SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


class BrokerSchema(strawberry.Schema):
    """Strawberry logs every error at ERROR level; bad queries from clients are not our errors
    (`classify` logs them at INFO, and only unexpected failures at ERROR)."""

    def __init__(
        self, *args: Any, production: bool = False, limits: Any = None, kept_answers: Any = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.production = production
        self.limits = limits  # schema/operation_limits.OperationLimits, which the guard applies
        self.kept_answers = kept_answers  # schema/read_cache.AnswerCache, shared with the kept-answer lane

    async def stream(self, *args: Any, **kwargs: Any) -> Any:
        """Streaming transports (WebSocket): a document refused while parsing (a syntax error, too many
        tokens) is an operation error to report, as executing over HTTP reports it, not an exception."""
        return self._refusals_as_results(await super().stream(*args, **kwargs))

    async def _refusals_as_results(self, source: Any) -> AsyncIterator[Any]:
        try:
            try:
                first = await anext(source)
            except GraphQLError as error:  # classified by the transport, as pre-execution errors are
                yield PreExecutionError(data=None, errors=[error])
                return
            except StopAsyncIteration:
                return
            yield first
            async for item in source:
                yield item
        finally:
            await source.aclose()

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        for error in errors:
            classify(error)
            if self.production and "Did you mean" in error.message:
                error.message = SUGGESTION.sub("", error.message)
