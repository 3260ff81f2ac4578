"""Parley's Redis channel layer: channels-redis' Pub/Sub layer, in-process first.

Every process of a deployment runs one. Compared with the layer it extends:

- **An event for a socket of this process never goes through Redis.** `send` to one
  of this process's channels, and `group_send` to the members of a group that are in
  this process, hand the event straight to their queues. A group's other members
  (other processes) still get it through Redis; the copy that comes back to this
  process is recognised by its origin and dropped. So a relay between two sockets of
  one process costs no Redis round trip, and everything one process sends to one
  socket arrives in the order it was sent, whatever path each event took.
- **Solo groups.** A group named with one of `solo_group_prefixes` (Parley's
  `device.<id>`) has one member at most, anywhere. When that member is in this
  process, nothing is published.
- **Publishing is pipelined, subscribing batched.** Concurrent publishes are written
  to Redis together, one round trip for a batch, in the order they were made; each
  `send` still waits for its own publish and raises if it failed. Subscriptions made
  meanwhile go out as one SUBSCRIBE. The base layer did one operation at a time
  behind one lock: under 2 000 publishes a second on this project's machines, and
  under load a new socket waited seconds for its SUBSCRIBE (docs/performance.md).
- **Channel names say their process**: `<prefix>specific.<process>!<id>`, like
  channels-redis' core layer, so that a device row tells which process holds it.

Events handed over in-process are the sender's own dict, shared by every receiver
in the process: receivers must not change them (Parley's handlers only read).
Like the base layer, an event for a channel nobody listens to is dropped, and
nothing is replayed.
"""

import asyncio
import contextlib
import itertools
import uuid

from channels_redis.pubsub import (
    RedisPubSubChannelLayer,
    RedisPubSubLoopLayer,
    RedisSingleShardConnection,
)
from channels_redis.utils import _wrap_close, decode_hosts

ORIGIN_LENGTH = 16  # bytes of process id before each published event


class LocalFirstChannelLayer(RedisPubSubChannelLayer):
    """CHANNEL_LAYERS BACKEND; CONFIG as channels-redis' Pub/Sub layer, plus
    `solo_group_prefixes`."""

    def __init__(self, *args, solo_group_prefixes=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.solo_group_prefixes = tuple(solo_group_prefixes)

    def _get_layer(self) -> "LocalFirstLoopLayer":
        # The base class's, with this module's loop layer.
        loop = asyncio.get_running_loop()
        layer = self._layers.get(loop)
        if layer is None:
            layer = self._layers[loop] = LocalFirstLoopLayer(
                *self._args, **self._kwargs, channel_layer=self
            )
            _wrap_close(self, loop)
        return layer

    def deserialize(self, message):
        # Queues hold events already decoded: in-process ones never were encoded,
        # and the reader decodes each published one once, however many sockets of
        # this process it is for.
        return message if isinstance(message, dict) else super().deserialize(message)


class LocalFirstLoopLayer(RedisPubSubLoopLayer):
    """The layer for one event loop (a daphne process has one)."""

    def __init__(self, hosts=None, **kwargs) -> None:
        super().__init__(hosts, **kwargs)
        self.process = uuid.uuid4().hex[:ORIGIN_LENGTH]
        self.origin = self.process.encode()
        self._shards = [PipelinedShard(host, self) for host in decode_hosts(hosts)]

    async def new_channel(self, prefix: str = "specific.") -> str:
        channel = f"{self.prefix}{prefix}{self.process}!{uuid.uuid4().hex}"
        await self._subscribe_to_channel(channel)
        return channel

    async def send(self, channel: str, message: dict) -> None:
        queue = self.channels.get(channel)
        if queue is not None:
            queue.put_nowait(message)
        else:
            await self._publish(channel, message)

    async def group_send(self, group: str, message: dict) -> None:
        group_channel = self._get_group_channel_name(group)
        members = self.groups.get(group_channel, ())
        for channel in members:
            queue = self.channels.get(channel)
            if queue is not None:
                queue.put_nowait(message)
        if members and group.startswith(self.channel_layer.solo_group_prefixes):
            return
        await self._publish(group_channel, message)

    async def _publish(self, name: str, message: dict) -> None:
        data = self.origin + self.channel_layer.serialize(message)
        await self._get_shard(name).publish(name, data)

    def receive_published(self, name: str, data: bytes) -> None:
        """An event from Redis, for a channel or group of this process."""
        if data[:ORIGIN_LENGTH] == self.origin:
            return  # sent by this process, which handed it over already
        if name in self.channels:
            receivers = (name,)
        elif name in self.groups:
            receivers = self.groups[name]
        else:
            return
        message = self.channel_layer.deserialize(data[ORIGIN_LENGTH:])
        for channel in receivers:
            queue = self.channels.get(channel)
            if queue is not None:
                queue.put_nowait(message)


class PipelinedShard(RedisSingleShardConnection):
    """One Redis server's connections. Publishes are pipelined; subscriptions are
    sent many channels to a command. Neither waits for the other: the base class
    ran both one at a time behind one lock, each over several turns of the event
    loop, and under load a new socket's SUBSCRIBE queued there for seconds (the
    handshake waits for it)."""

    def __init__(self, host, channel_layer) -> None:
        super().__init__(host, channel_layer)
        self._publishes = Batcher(self._publish_batch)
        self._subscriptions = Batcher(self._subscription_batch)

    async def publish(self, channel: str, message: bytes) -> None:
        await self._publishes.submit((channel, message))

    async def subscribe(self, channel: str) -> None:
        await self._subscriptions.submit(("subscribe", channel))

    async def unsubscribe(self, channel: str) -> None:
        await self._subscriptions.submit(("unsubscribe", channel))

    async def _publish_batch(self, batch: list[tuple[str, bytes]]) -> None:
        self._ensure_redis()
        pipe = self._redis.pipeline(transaction=False)
        for channel, message in batch:
            pipe.publish(channel, message)
        await pipe.execute()

    async def _subscription_batch(self, batch: list[tuple[str, str]]) -> None:
        async with self._lock:  # against flush()
            self._ensure_redis()
            self._ensure_receiver()
            # In order, a run of the same command at a time.
            for command, run in itertools.groupby(batch, key=lambda item: item[0]):
                channels = list(dict.fromkeys(channel for _, channel in run))
                if command == "subscribe":
                    channels = [c for c in channels if c not in self._subscribed_to]
                    if channels:
                        await self._pubsub.subscribe(*channels)
                        self._subscribed_to.update(channels)
                else:
                    channels = [c for c in channels if c in self._subscribed_to]
                    if channels:
                        await self._pubsub.unsubscribe(*channels)
                        self._subscribed_to.difference_update(channels)

    def _receive_message(self, message) -> None:
        if message is not None:
            name = message["channel"]
            if isinstance(name, bytes):
                name = name.decode()
            self.channel_layer.receive_published(name, message["data"])

    async def flush(self) -> None:
        await self._publishes.close()
        await self._subscriptions.close()
        await super().flush()


class Batcher:
    """Runs `run(items)` over what was submitted, in order, a batch at a time: all
    that was submitted while the previous batch ran. Each `submit` returns when its
    batch is done, or raises what the batch raised."""

    def __init__(self, run) -> None:
        self.run = run
        self.pending: list[tuple[object, asyncio.Future]] = []
        self.task: asyncio.Task | None = None

    async def submit(self, item) -> None:
        done = asyncio.get_running_loop().create_future()
        self.pending.append((item, done))
        if self.task is None or self.task.done():
            self.task = asyncio.ensure_future(self._drain())
        await done

    async def _drain(self) -> None:
        while self.pending:
            batch, self.pending = self.pending, []
            try:
                await self.run([item for item, _ in batch])
            except asyncio.CancelledError:
                _settle(batch, ConnectionError("channel layer closed"))
                raise
            except Exception as error:
                _settle(batch, error)
            else:
                _settle(batch, None)

    async def close(self) -> None:
        task, self.task = self.task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        _settle(self.pending, ConnectionError("channel layer closed"))
        self.pending = []


def _settle(batch, error: Exception | None) -> None:
    """Tell the submitters of a batch how it went."""
    for _, done in batch:
        if done.done():  # its submitter was cancelled
            continue
        if error is None:
            done.set_result(None)
        else:
            done.set_exception(error)
