"""The group writer of `quotes`: per snapshot, one loop writes the same frame to every socket of a group.

A group: the `quotes` operations of this process that follow a topic (a symbol in one view) with the
same selection and entitlement set (push_channel.FrameKey). Per snapshot the topic's feed renders each
group's payload once and writes it, in its own turn, to every member whose socket takes it now
(push_channel.send_now): no task wake-up and no lookup per subscriber. A member whose transport is
paused leaves the loop: its snapshots wait as the newest one per topic (latest wins) until its own
drain task has written them, then the loop writes to it again.

Each stream's own task (`QuoteFanout.follow`) sends strawberry's first event, then sleeps until its
heartbeat (liveness), a failed write, or a tier change: the tier watch reads each client's tier once per
tier cache period and regroups its streams (new entitlement set, view) or ends them (FORBIDDEN,
NOT_FOUND). A stream leaves every group in its own `finally`, before strawberry sends anything else.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from strawberry.http.exceptions import WebSocketDisconnected

from brokerql.bus import Bus, Resync
from brokerql.monitor.figures import ProcessFigures
from brokerql.schema.types.market import Quote
from brokerql.services.market import MarketData
from brokerql.subscriptions.group_writer import Group, PushCount, SocketMember, detached, group_payload, place, unplace
from brokerql.subscriptions.push_channel import FrameKey, PushChannel, shared_quote
from brokerql.tasks import stop_tasks

log = logging.getLogger(__name__)


class Member(SocketMember):
    """One `quotes` operation on the group writer. `viewer` is its subscriptions/quotes.Viewer."""

    def __init__(self, channel: PushChannel, viewer: Any, client_id: str | None) -> None:
        super().__init__(channel)
        self.viewer, self.client_id = viewer, client_id
        self.fanout: QuoteFanout | None = None
        self.views: dict[str, bool] = {}  # symbol -> delayed
        self.feeds: list[TopicFeed] = []
        self.pending: dict[str, Quote] = {}  # topic -> the newest snapshot not written yet
        self.own_rendering: set[str] = set()  # topics whose pending snapshot it renders itself
        self.regroup = False

    def defer(self, topic: str, quote: Quote, *, own_rendering: bool = False) -> None:
        """Keep `quote` as the topic's newest unwritten snapshot; the drain task writes it (rendered with
        this member's own executor when its rendering carries an error of its own)."""
        self.pending[topic] = quote
        if own_rendering:
            self.own_rendering.add(topic)
        if self.key is None:
            self.wake.set()
        elif self.draining is None:
            self.draining = asyncio.create_task(self._drain(None))

    async def _drain(self, in_flight: Awaitable[None] | None) -> None:
        try:
            if in_flight is not None:
                await in_flight
            while self.pending and not self.left:
                topic = next(iter(self.pending))
                mine = topic in self.own_rendering
                self.own_rendering.discard(topic)
                payload = await self.channel.own(self.pending.pop(topic), self.key, mine=mine)  # type: ignore[arg-type]
                rest = self.channel.write(payload)
                self.fanout.count(1)  # type: ignore[union-attr]
                if rest is not None:
                    await rest
        except Exception as exc:
            self.fail(exc)
        finally:
            self.draining = None


class TopicFeed:
    """One topic's snapshots (one conflated bus subscription), written to its groups."""

    def __init__(self, fanout: QuoteFanout, topic: str, symbol: str, delayed: bool) -> None:
        self.fanout, self.topic, self.symbol, self.delayed = fanout, topic, symbol, delayed
        self.groups: dict[FrameKey, Group] = {}
        self.parked: dict[Member, None] = {}
        self.closed = False
        self.task: asyncio.Task[None] | None = None
        self.opened: asyncio.Future[None] = detached(self._open(), f"quotes-feed-open {topic}")

    @property
    def empty(self) -> bool:
        return not self.groups and not self.parked

    async def _open(self) -> None:
        subscription = await self.fanout.bus.subscribe([self.topic], conflate=True)
        if self.closed:  # its last member left while it subscribed
            await subscription.close()
        else:
            self.task = detached(self._run(subscription), f"quotes-feed {self.topic}")

    def close(self) -> None:
        self.closed = True
        if self.task is not None:
            self.task.cancel()

    async def _run(self, subscription: Any) -> None:
        async with subscription:
            while True:
                try:
                    item = await subscription.get()
                except Resync:  # the upstream link was lost: whatever is latest now
                    snapshot = await self.fanout.market.snapshot(self.symbol, delayed=self.delayed)
                    item = None if snapshot is None else (self.topic, snapshot)
                if item is not None:
                    await self.publish(shared_quote(self.topic, item[1]))

    async def publish(self, quote: Quote) -> None:
        for member in self.parked:
            member.defer(self.topic, quote)
        for group in list(self.groups.values()):
            try:
                await self._write(group, quote)
            except Exception:  # one group's rendering must not stop the topic for the others
                log.exception("quote group writer: a snapshot of %s was not written to a group", self.topic)

    async def _write(self, group: Group, quote: Quote) -> None:
        if not group.members:
            return
        # a member whose rendering carries an error of its own gets the snapshot on its drain instead
        payload = await group_payload(group, quote, lambda member: member.defer(self.topic, quote, own_rendering=True))
        if payload is None:
            return
        written, failed = 0, []
        for member in group.members:  # no await in this loop: the group cannot change under it
            if member.draining is not None:
                member.pending[self.topic] = quote  # a slow socket: latest wins
            elif member.write(payload):
                written += 1
            else:
                failed.append(member)
        for member in failed:
            self.fanout.remove(member)
        self.fanout.count(written)


class _ClientWatch:
    __slots__ = ("key", "members")

    def __init__(self, key: Any) -> None:
        self.key = key
        self.members: dict[Member, None] = {}


class QuoteFanout:
    """The groups of this process's `quotes` streams over graphql-transport-ws, by topic."""

    def __init__(self, market: MarketData, bus: Bus, figures: ProcessFigures, *, tier_seconds: float) -> None:
        self.market, self.bus, self.tier_seconds = market, bus, tier_seconds
        self.feeds: dict[str, TopicFeed] = {}
        self.clients: dict[str, _ClientWatch] = {}
        self._watch: asyncio.Task[None] | None = None
        self.count = PushCount(figures, "quotes")

    async def follow(
        self, member: Member, views: dict[str, bool], check_live: Callable[[], Awaitable[Any]], heartbeat: float
    ) -> AsyncIterator[Quote]:
        """The stream of one member: it yields only what strawberry sends (the first snapshot, or every
        one while the channel cannot broadcast); the group writer writes the rest. Its heartbeat is a
        timer, not a task per beat."""
        loop, beat = asyncio.get_running_loop(), None
        try:
            await self._join(member, views)
            for symbol, delayed in views.items():  # the latest of each symbol, unless a newer one came
                topic = self.market.topic(symbol, delayed=delayed)
                snapshot = await self.market.snapshot(symbol, delayed=delayed)
                if snapshot is not None and topic not in member.pending:
                    member.pending[topic] = shared_quote(topic, snapshot)
            beat = loop.call_later(heartbeat, member.beat)
            while True:
                if member.key is None and member.pending:
                    yield member.pending.pop(next(iter(member.pending)))
                    if member.channel.ready:
                        self._place(member, (*member.channel.selection_key(), await member.viewer.key()))
                    continue
                await member.wake.wait()
                member.wake.clear()
                if member.failure is not None:
                    raise WebSocketDisconnected from member.failure
                if member.beat_due:
                    member.beat_due = False
                    await check_live()  # revoked, expired or idle-locked: the stream ends with its error
                    beat = loop.call_later(heartbeat, member.beat)
                if member.regroup:
                    member.regroup = False
                    await self._regroup(member)
        finally:
            if beat is not None:
                beat.cancel()
            self._leave(member)

    # -- membership -----------------------------------------------------------------------------------
    async def _join(self, member: Member, views: dict[str, bool]) -> None:
        """Park `member` on the topics of `views`: their snapshots wait in its `pending` until placed."""
        member.fanout, member.views = self, dict(views)
        member.feeds = [self._feed(symbol, delayed) for symbol, delayed in views.items()]
        for feed in member.feeds:
            feed.parked[member] = None
        await asyncio.gather(*(asyncio.shield(feed.opened) for feed in member.feeds))

    def _feed(self, symbol: str, delayed: bool) -> TopicFeed:
        topic = self.market.topic(symbol, delayed=delayed)
        feed = self.feeds.get(topic)
        if feed is None or (feed.opened.done() and feed.opened.exception() is not None):
            feed = self.feeds[topic] = TopicFeed(self, topic, symbol, delayed)
        return feed

    def _place(self, member: Member, key: FrameKey) -> None:
        """Into the groups of `key` on its topics: from now on the group writer writes its frames."""
        for feed in member.feeds:
            feed.parked.pop(member, None)
            place(feed.groups, member, key)
        if member.pending and member.draining is None:  # what came while it was parked, in order
            member.draining = asyncio.create_task(member._drain(None))
        self._watch_client(member, key[-1])

    async def _regroup(self, member: Member) -> None:
        """After a tier change: the groups (and views) of its new entitlement set."""
        viewer_key = await member.viewer.key()
        if member.key is None or member.key[-1] == viewer_key:
            return
        views = {symbol: await member.viewer.delayed(symbol) for symbol in member.views}  # may raise: the end
        self.remove(member)
        topics = {self.market.topic(symbol, delayed=delayed) for symbol, delayed in views.items()}
        member.pending = {topic: quote for topic, quote in member.pending.items() if topic in topics}
        await self._join(member, views)
        self._place(member, (*member.channel.selection_key(), viewer_key))

    def remove(self, member: Member) -> None:
        """Out of every group and feed (a feed nobody follows closes its bus subscription)."""
        for feed in member.feeds:
            feed.parked.pop(member, None)
            unplace(feed.groups, [member])
            if feed.empty and self.feeds.get(feed.topic) is feed:
                del self.feeds[feed.topic]
                feed.close()
        member.feeds = []

    def _leave(self, member: Member) -> None:
        member.left = member.channel.ended = True  # nothing more is written for this operation
        self.remove(member)
        watch = self.clients.get(member.client_id or "")
        if watch is not None:
            watch.members.pop(member, None)
            if not watch.members:
                del self.clients[member.client_id]  # type: ignore[arg-type]
        if member.draining is not None:
            member.draining.cancel()

    # -- the tier watch -------------------------------------------------------------------------------
    def _watch_client(self, member: Member, viewer_key: Any) -> None:
        if member.client_id is None:  # a partner's entitlements are its token's scopes: they cannot change
            return
        watch = self.clients.get(member.client_id)
        if watch is None:
            watch = self.clients[member.client_id] = _ClientWatch(viewer_key)
        watch.members[member] = None
        if self._watch is None or self._watch.done():
            self._watch = detached(self._watch_tiers(), "quotes-tier-watch")

    async def _watch_tiers(self) -> None:
        while self.clients:
            await asyncio.sleep(self.tier_seconds)
            for watch in list(self.clients.values()):
                if not watch.members:
                    continue
                try:
                    key = await next(iter(watch.members)).viewer.key()
                except Exception:  # the tier read failed: the next round asks again
                    log.warning("quote streams: reading a client's tier failed", exc_info=True)
                    continue
                if key != watch.key:
                    watch.key = key
                    for member in watch.members:
                        member.regroup = True
                        member.wake.set()

    async def stop(self) -> None:
        tasks = [task for task in [self._watch, *(feed.task for feed in self.feeds.values())] if task is not None]
        for feed in self.feeds.values():
            feed.close()
        await stop_tasks(tasks)
        self.feeds.clear()
