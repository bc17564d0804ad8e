"""graphql-transport-ws as the GraphQL view runs it: coded pre-execution errors, and a push channel per
operation."""

from __future__ import annotations

from typing import Any

from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler

from brokerql.subscriptions.push_channel import PushChannel, attach


class ProtocolHandler(BaseGraphQLTransportWSHandler):
    """graphql-transport-ws: an operation refused before it runs (syntax, validation, limits) gets an
    `error` message with the coded errors, as the protocol requires, instead of a closed socket.

    Every operation also gets a `PushChannel` (subscriptions/push_channel.py): the broadcast path that
    a subscription may use to write pre-serialized `next` frames beside strawberry's per-event loop."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.push_channels: dict[str, PushChannel] = {}

    async def _handle_pre_execution_error(self, operation: Any, result: Any) -> None:
        self.schema.process_errors(result.errors)
        await operation.send_initial_errors(result.errors)

    async def run_operation(self, operation: Any) -> None:
        channel = PushChannel(self, operation)
        self.push_channels[operation.id] = channel
        attach(channel)  # this task's context: the operation's resolvers and executor see it
        try:
            await super().run_operation(operation)
        finally:
            if self.push_channels.get(operation.id) is channel:
                del self.push_channels[operation.id]

    async def handle_complete(self, message: Any) -> None:
        channel = self.push_channels.get(message.get("id"))
        if channel is not None:  # before strawberry cancels the stream: no frame may follow the complete
            channel.ended = True
        await super().handle_complete(message)

    async def send_message(self, message: Any) -> None:
        if message.get("type") == "next":  # the channel learns the subscriber's own `extensions`
            channel = self.push_channels.get(message.get("id"))
            if channel is not None and channel.suffix is None:
                channel.learn_payload(message.get("payload") or {})
        await super().send_message(message)
