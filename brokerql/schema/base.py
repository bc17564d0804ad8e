"""The Schema subclass: coded errors, quiet logs for client mistakes."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError

from brokerql.schema.errors import classify


class BrokerSchema(strawberry.Schema):
    """Strawberry logs every error at ERROR level; bad queries from clients are not our errors."""

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        for error in errors:
            classify(error)
