"""The group writer of `orderEvents`: per event, one loop writes the same frame to every socket of a group.

An account's feed is the one bus subscription of this process to `account.<id>`; its members are the
`orderEvents` operations that follow the account, grouped by selection (push_channel.FrameKey: every
member is the account's owner, so nothing else changes a rendering). The feed is itself a cursor
(services/order_stream.EventCursor): it drops what the bus delivers twice and fills what the bus lost
(a gap, a Resync, its own overflow) from the store, once for all its members. Per event it renders each
group's payload once and writes it, in its own turn, to every member whose cursor is exactly at
`seq - 1`; the member's cursor moves on with it.

A member out of its group (before strawberry sent its first item, or behind: replaying after `afterSeq`,
an event the feed met while it was out, its rendering carrying an error of its own) catches up in its
own task, from what the feed handed it and from the store, and rejoins once its cursor reached the
feed's. So every seq goes to a member exactly once, in order (D4, services/order_stream.py).

A member whose transport is paused keeps its frames, in order, behind the write in flight (drained by a
task of its own); more than `subscriber_buffer` of them ends its stream with SLOW_CONSUMER and the last
seq its socket took, as a bus subscriber that overflows does. Heartbeats fall on a grid shared by every
stream (subscriptions/beat_slots.py); at its slot a member's task checks the session, then writes
`Heartbeat { lastSeq }`: the slot's rendering for its selection with its own seq spliced in.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from brokerql.bus import Bus, Resync, SlowConsumer
from brokerql.bus.topics import account_topic
from brokerql.domain.trading.messages import AccountEvent
from brokerql.monitor.figures import ProcessFigures
from brokerql.schema.types.trading import Heartbeat, OrderEvent
from brokerql.services.order_stream import AccountEventStream, EventCursor, StreamRefused
from brokerql.subscriptions.beat_slots import BeatSlots, splice
from brokerql.subscriptions.group_writer import Group, PushCount, detached, group_payload, place, unplace
from brokerql.subscriptions.order_member import Member, shared_event
from brokerql.subscriptions.push_channel import FrameKey
from brokerql.tasks import stop_tasks

log = logging.getLogger(__name__)

# Events a feed keeps, rendered, for members that catch up on them: few, since a process may hold a feed
# for each of thousands of accounts and a member rarely falls more than a few events behind.
RECENT = 16


class AccountFeed:
    """One account's events in this process (one bus subscription), written to its groups."""

    def __init__(self, fanout: OrderFanout, account_id: str) -> None:
        self.fanout, self.account_id, self.topic = fanout, account_id, account_topic(account_id)
        self.groups: dict[FrameKey, Group] = {}
        self.others: dict[Member, None] = {}  # out of a group: not started on the shared path, or behind
        self.recent: OrderedDict[int, OrderEvent] = OrderedDict()  # seq -> the shared object of a recent event
        self.cursor: EventCursor | None = None  # the last seq the feed wrote
        self.closed = False
        self.task: asyncio.Task[None] | None = None
        self.opened: asyncio.Future[None] = detached(self._open(), f"order-feed-open {self.topic}")

    @property
    def last_seq(self) -> int:
        return self.cursor.last_seq  # type: ignore[union-attr]

    @property
    def empty(self) -> bool:
        return not self.groups and not self.others

    async def _open(self) -> None:
        subscription = await self.fanout.bus.subscribe([self.topic])
        try:  # the store's last seq, read after the subscription opened: nothing committed since is missed
            last = await self.fanout.stream.last_seq(self.account_id)
        except BaseException:
            await subscription.close()
            raise
        self.cursor = EventCursor(self.fanout.stream.queries, self.account_id, last)
        if self.closed:  # its last member left while it opened
            await subscription.close()
        else:
            self.task = detached(self._run(subscription), f"order-feed {self.topic}")

    def close(self) -> None:
        self.closed = True
        if self.task is not None:
            self.task.cancel()

    async def _run(self, subscription: Any) -> None:
        try:
            while True:
                try:
                    item = await subscription.get()
                    pending = await self.cursor.on_live(item[1])  # type: ignore[union-attr,index]
                except Resync:  # the bus may have lost events: the store has them
                    pending = await self.cursor.catch_up()  # type: ignore[union-attr]
                except SlowConsumer:  # this process fell behind the bus: a new subscription, the store has the rest
                    await subscription.close()
                    subscription = await self.fanout.bus.subscribe([self.topic])
                    pending = await self.cursor.catch_up()  # type: ignore[union-attr]
                for event in pending:
                    self.cursor.sent(event)  # type: ignore[union-attr]
                    await self.publish(event)
        except Exception:  # the store cannot be read: end the streams rather than leave them silent
            log.exception("order group writer: the feed of %s failed", self.topic)
            self.fanout.drop(self)
            failure = StreamRefused("UNAVAILABLE", "This stream was interrupted; resubscribe with afterSeq.")
            for member in [*self.others, *(m for group in self.groups.values() for m in group.members)]:
                member.fail(failure)
        finally:
            await subscription.close()

    async def publish(self, event: AccountEvent) -> None:
        """Every member gets `event` once, in order: on the shared path or on its own."""
        item = self.recent[event.seq] = shared_event(event)
        if len(self.recent) > RECENT:
            self.recent.popitem(last=False)
        for member in self.others:
            member.offer(event)
        for group in list(self.groups.values()):
            try:
                await self._write(group, event, item)
            except Exception:  # its rendering failed: its members render the event each on their own
                log.exception("order group writer: event %s of %s was not rendered for a group", event.seq, self.topic)
                for member in list(group.members):
                    self.leave_group(member, event)

    async def _write(self, group: Group, event: AccountEvent, item: OrderEvent) -> None:
        if not group.members:  # the last ones left while an earlier group rendered
            return
        payload = await group_payload(group, item, lambda member: self.leave_group(member, event))
        if payload is None:
            return
        written, behind, failed = 0, [], []
        for member in group.members:  # no await in this loop: the group cannot change under it
            at = member.cursor.last_seq
            if at >= event.seq:
                continue  # it read this one from the store before it joined
            if at != event.seq - 1:
                behind.append(member)
            elif member.send(event.seq, payload):
                written += 1
            else:
                failed.append(member)
        for member in behind:
            self.leave_group(member, event)
        for member in failed:
            self.leave_group(member, None)
        self.fanout.count(written)

    def join_group(self, member: Member) -> None:
        """From now on the group writer writes its events (its cursor has reached the feed's)."""
        self.others.pop(member, None)
        place(self.groups, member, member.channel.selection_key())
        member.grouped = True

    def leave_group(self, member: Member, event: AccountEvent | None) -> None:
        """Onto its own path (with `event` to catch up on); its task does the rest."""
        if member.grouped:
            unplace(self.groups, [member])
            member.grouped = False
            if not member.left:
                self.others[member] = None
        if event is not None:
            member.offer(event)


class OrderFanout:
    """The account feeds of this process's `orderEvents` streams over graphql-transport-ws."""

    def __init__(self, stream: AccountEventStream, bus: Bus, figures: ProcessFigures) -> None:
        self.stream, self.bus = stream, bus
        self.feeds: dict[str, AccountFeed] = {}
        self.count = PushCount(figures, "orderEvents")
        self.beats = BeatSlots(stream.clock.now)

    async def follow(
        self,
        member: Member,
        account_id: str,
        after_seq: int | None,
        check_live: Callable[[], Awaitable[Any]],
        heartbeat: float,
    ) -> AsyncIterator[OrderEvent | Heartbeat]:
        """The stream of one member (`account_id` is the caller's, checked): it yields only what strawberry
        sends (its first item, and everything while its channel cannot take frames of the writer's); the
        feed and the member's own path below write the rest. StreamRefused for an afterSeq beyond the end."""
        beat = None
        feed = member.feed = self._feed(account_id)
        feed.others[member] = None
        try:
            await asyncio.shield(feed.opened)
            start = await self.stream.start_seq(account_id, after_seq)  # the feed's subscription is open
            member.cursor = EventCursor(self.stream.queries, account_id, start)
            member.written_seq = member.cursor.last_seq
            beat = self.beats.schedule(member, heartbeat)
            while True:
                if not member.grouped:
                    events = await self._behind(member, feed)
                    for event in events:
                        if member.channel.ready:
                            await self._send_own(member, feed, event)
                        else:  # strawberry's path: the channel learns the executor and extensions from it
                            member.cursor.sent(event)
                            member.written_seq = event.seq
                            yield feed.recent.get(event.seq) or shared_event(event)
                    if events:
                        continue
                    if member.channel.ready and not member.inbox and member.failure is None:
                        feed.join_group(member)  # caught up (a store read may have ended with nothing new)
                await member.wake.wait()
                member.wake.clear()
                if member.failure is not None:
                    raise member.ended()
                if member.beat_due:
                    member.beat_due = False
                    await check_live()  # revoked, expired or idle-locked: the stream ends with its error
                    if member.channel.ready:
                        await self._send_beat(member)
                    else:
                        yield Heartbeat(last_seq=member.cursor.last_seq, server_time=self.stream.clock.now())
                    beat = self.beats.schedule(member, heartbeat)
        finally:
            if beat is not None:
                beat.cancel()
            self._leave(member)

    async def _behind(self, member: Member, feed: AccountFeed) -> list[AccountEvent]:
        """What a member out of its group sends next, oldest first: [] once it reached the feed's seq (or
        the store has nothing more)."""
        cursor = member.cursor
        while member.inbox:
            pending = await cursor.on_live(member.inbox.popleft())  # type: ignore[union-attr]
            if pending:
                return pending
        if cursor.last_seq < feed.last_seq:  # type: ignore[union-attr]
            return await cursor.catch_up()  # type: ignore[union-attr]
        return []

    async def _send_own(self, member: Member, feed: AccountFeed, event: AccountEvent) -> None:
        if event.seq <= member.cursor.last_seq:  # type: ignore[union-attr]
            return
        item = feed.recent.get(event.seq) or shared_event(event)
        payload = await member.channel.own(item, member.channel.selection_key())
        if member.send(event.seq, payload):
            self.count(1)
        await member.flushed()
        if member.failure is not None:
            raise member.ended()

    async def _send_beat(self, member: Member) -> None:
        """`Heartbeat { lastSeq }` with the last seq written or queued before it: its slot's rendering
        with the seq spliced in (subscriptions/beat_slots.py), or its own when that cannot be spliced."""
        key = member.channel.selection_key()
        template = await member.channel.own(self.beats.template(member.beat_slot), key)
        while True:
            last = member.cursor.last_seq  # type: ignore[union-attr]
            payload = splice(template, last)
            if payload is None:
                beat = Heartbeat(last_seq=last, server_time=self.stream.clock.now())
                payload = await member.channel.own(beat, key, mine=True)
            if member.cursor.last_seq == last:  # type: ignore[union-attr]
                member.send(0, payload)
                return

    def _feed(self, account_id: str) -> AccountFeed:
        feed = self.feeds.get(account_id)
        if feed is None or (feed.opened.done() and feed.opened.exception() is not None):
            feed = self.feeds[account_id] = AccountFeed(self, account_id)
        return feed

    def drop(self, feed: AccountFeed) -> None:
        if self.feeds.get(feed.account_id) is feed:
            del self.feeds[feed.account_id]

    def _leave(self, member: Member) -> None:
        member.left = member.channel.ended = True  # nothing more is written for this operation
        feed = member.feed
        if feed is not None:
            feed.others.pop(member, None)
            if member.grouped:
                unplace(feed.groups, [member])
                member.grouped = False
            if feed.empty:
                self.drop(feed)
                feed.close()
        if member.draining is not None:
            member.draining.cancel()

    async def stop(self) -> None:
        tasks = [task for task in (feed.task for feed in self.feeds.values()) if task is not None]
        for feed in self.feeds.values():
            feed.close()
        await stop_tasks(tasks)
        self.feeds.clear()
