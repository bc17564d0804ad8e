"""The venue's commands on the in-process bus: what waits is read as one batch, in the order sent."""

from __future__ import annotations

from brokerql.bus.memory import MemoryBus
from brokerql.bus.topics import COMMANDS_TOPIC
from brokerql.domain.trading.gateway import CancelOrder
from brokerql.exchange.commands import BusCommands


async def test_the_commands_waiting_are_read_together_in_order_then_none_until_the_next() -> None:
    bus = MemoryBus()
    commands = BusCommands(bus)
    await commands.open()
    sent = [CancelOrder(order_id=f"ord_{k}", symbol="600000") for k in range(7)]
    for command in sent:
        await bus.publish(COMMANDS_TOPIC, command)

    # One batch: the host journals it in one transaction instead of one commit per command.
    assert [command for _id, command in await commands.next(timeout=1)] == sent
    assert await commands.next(timeout=0.01) == []
    await bus.publish(COMMANDS_TOPIC, sent[0])
    assert [command for _id, command in await commands.next(timeout=1)] == [sent[0]]
    await commands.close()
