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
- **Publishing is pipelined.** Concurrent publishes are written to Redis together,
  one round trip for a batch, in the order they were made; each `send` still waits
  for its own publish and raises if it failed. One publish at a time (the base
  layer's, behind a lock) held a process to under 2 000 a second on this project's
  machines (docs/performance.md).
- **Channel names say their process**: `<prefix>specific.<process>!<id>`, like
  channels-redis' core layer, so that a device row tells which process holds it.

Events handed over in-process are the sender's own dict, shared by every receiver
in the process: receivers must not change them (Parley's handlers only read).
Like the base layer, an event for a channel nobody listens to is dropped, and
nothing is replayed.
"""

import asyncio
import contextlib
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
    """One Redis server's connections, publishing in batches."""

    def __init__(self, host, channel_layer) -> None:
        super().__init__(host, channel_layer)
        self._outbox: list[tuple[str, bytes, asyncio.Future]] = []
        self._writer: asyncio.Task | None = None

    async def publish(self, channel: str, message: bytes) -> None:
        done = asyncio.get_running_loop().create_future()
        self._outbox.append((channel, message, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.ensure_future(self._write())
        await done

    async def _write(self) -> None:
        """Publish what is waiting, as one pipeline, until nothing is."""
        while self._outbox:
            batch, self._outbox = self._outbox, []
            try:
                async with self._lock:
                    self._ensure_redis()
                    pipe = self._redis.pipeline(transaction=False)
                    for channel, message, _ in batch:
                        pipe.publish(channel, message)
                    await pipe.execute()
            except asyncio.CancelledError:
                _settle(batch, ConnectionError("channel layer closed"))
                raise
            except Exception as error:
                _settle(batch, error)
            else:
                _settle(batch, None)

    def _receive_message(self, message) -> None:
        if message is not None:
            name = message["channel"]
            if isinstance(name, bytes):
                name = name.decode()
            self.channel_layer.receive_published(name, message["data"])

    async def flush(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.cancel()
            with contextlib.suppress(BaseException):
                await writer
        _settle(self._outbox, ConnectionError("channel layer flushed"))
        self._outbox = []
        await super().flush()


def _settle(batch, error: Exception | None) -> None:
    """Tell the senders of a batch how their publish went."""
    for _, _, done in batch:
        if done.done():  # its sender was cancelled
            continue
        if error is None:
            done.set_result(None)
        else:
            done.set_exception(error)
