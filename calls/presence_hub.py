"""Presence for a whole process: one member of the "presence" group per process (its
hub), which hands each event to the process's signed-in sockets in memory; and the
process's heartbeat over those sockets (calls.heartbeat).

With one group member per socket, every announcement became one channel-layer event
per socket, each received, dispatched and decoded on its own: a thousand people
signing in cost half a million of them and starved everything else in the process
(`make bench`, docs/performance.md). The hub receives one event per announcement.
"""

import asyncio
import contextlib
import logging
import weakref

from channels.layers import get_channel_layer
from django.conf import settings

from accounts.services import PRESENCE_GROUP
from calls import heartbeat

log = logging.getLogger(__name__)

# Group membership expires (channels-redis: after a day); the hub renews its own.
RENEW_EVERY = 3600.0
# Sockets served between two turns of the event loop.
YIELD_EVERY = 50


class PresenceHub:
    """The process's member of the presence group, for one event loop."""

    def __init__(self) -> None:
        self.sockets: set = set()
        self.ready: asyncio.Event | None = None
        self.tasks: list[asyncio.Task] = []

    async def join(self, socket) -> None:
        """`socket.presence_changed(event)` is called for every announcement from
        when this returns until `leave(socket)`."""
        self.sockets.add(socket)
        if self.ready is None:
            self.ready = asyncio.Event()
            self.layer = get_channel_layer()
            self.tasks = [
                asyncio.create_task(self.run(self.ready)),
                asyncio.create_task(self.beat()),
            ]
        await self.ready.wait()

    async def leave(self, socket) -> None:
        self.sockets.discard(socket)
        if self.sockets or self.ready is None:
            return
        tasks, self.tasks, self.ready = self.tasks, [], None
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def run(self, ready: asyncio.Event) -> None:
        # The default name prefix: channels-redis receives a process's channels
        # through one queue named after it.
        channel = await self.layer.new_channel()
        await self.layer.group_add(PRESENCE_GROUP, channel)
        renew = asyncio.create_task(self.renew(channel))
        ready.set()
        try:
            while True:
                event = await self.layer.receive(channel)
                for done, socket in enumerate(list(self.sockets), start=1):
                    try:
                        await socket.presence_changed(event)
                    except Exception:
                        log.exception("presence event not delivered to a socket")
                    if done % YIELD_EVERY == 0:
                        # A send that has room completes without yielding: without
                        # this, a burst of news held the loop for its whole fan-out
                        # (a minute for 1 000 people signing in at once).
                        await asyncio.sleep(0)
        finally:
            renew.cancel()
            with contextlib.suppress(Exception):
                await self.layer.group_discard(PRESENCE_GROUP, channel)

    async def beat(self) -> None:
        """The process's heartbeat, while it has signed-in sockets."""
        while True:
            await asyncio.sleep(settings.PRESENCE_HEARTBEAT)
            try:
                await heartbeat.beat(self.sockets)
            except Exception:
                # A failed beat must not end the heartbeat; the next one retries.
                log.exception("heartbeat failed")

    async def renew(self, channel: str) -> None:
        while True:
            await asyncio.sleep(RENEW_EVERY)
            try:
                await self.layer.group_add(PRESENCE_GROUP, channel)
            except Exception:
                log.exception("presence hub could not renew its group membership")


_hubs: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, PresenceHub]" = (
    weakref.WeakKeyDictionary()
)


def presence_hub() -> PresenceHub:
    """This process's hub (one per event loop: daphne runs one; tests run many)."""
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None:
        hub = _hubs[loop] = PresenceHub()
    return hub
