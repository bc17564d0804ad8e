"""The Schema subclass: coded errors, quiet logs for client mistakes, no field suggestions in production."""

from __future__ import annotations

import re
from typing import Any

import strawberry
from graphql import GraphQLError

from brokerql.schema.errors import classify

# "Cannot query field 'quot' on type 'Query'. Did you mean 'quote'?" tells an attacker the schema.
SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


class BrokerSchema(strawberry.Schema):
    """Strawberry logs every error at ERROR level; bad queries from clients are not our errors
    (`classify` logs them at INFO, and only unexpected failures at ERROR)."""

    def __init__(self, *args: Any, production: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.production = production

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        for error in errors:
            classify(error)
            if self.production and "Did you mean" in error.message:
                error.message = SUGGESTION.sub("", error.message)
