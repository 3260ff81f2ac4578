"""Parley's Redis channel layer (config.redis_layer), on a real Redis.

Each `process` below is a layer instance of its own, as each daphne process has: they
share nothing but Redis. A raw Redis subscriber shows what was published; a "fence"
event published after the step under test proves, by arriving first, that the step
published nothing (Redis keeps one publisher's order).
"""

import asyncio
import uuid

import pytest
from redis import asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError

from config.layers import DEVICE_GROUP_PREFIX, redis_pubsub_layer
from config.redis_layer import LocalFirstChannelLayer


@pytest.fixture
def redis(redis_url):
    if redis_url is None:
        pytest.skip("no REDIS_URL and no redis-server binary")
    return redis_url


@pytest.fixture
async def processes(redis):
    """A factory of layers ("processes") on one Redis, all with one fresh prefix."""
    prefix = f"t{uuid.uuid4().hex[:8]}"
    made = []

    def process() -> LocalFirstChannelLayer:
        config = redis_pubsub_layer(redis, prefix=prefix)["CONFIG"]
        made.append(LocalFirstChannelLayer(**config))
        return made[-1]

    process.prefix = prefix
    yield process
    for layer in made:
        await layer.flush()


@pytest.fixture
async def published(redis):
    """A raw Redis subscriber: `await published.watch(name)`, then `next()`."""
    client = aioredis.Redis.from_url(redis)
    pubsub = client.pubsub()

    class Published:
        async def watch(self, *names):
            await pubsub.subscribe(*names)
            for _ in names:
                await pubsub.get_message(timeout=2)  # the confirmation

        async def next(self) -> str:
            message = await pubsub.get_message(
                ignore_subscribe_messages=True, timeout=2
            )
            assert message is not None, "nothing was published"
            return message["channel"].decode()

    yield Published()
    await pubsub.aclose()
    await client.aclose()


def group_channel(prefix: str, group: str) -> str:
    return f"{prefix}__group__{group}"


async def receive(layer, channel) -> dict:
    return await asyncio.wait_for(layer.receive(channel), 2)


async def test_an_event_for_a_socket_of_this_process_never_goes_through_redis(
    processes, published
):
    here, elsewhere = processes(), processes()
    mine = await here.new_channel()
    fence = await elsewhere.new_channel()
    await published.watch(mine, fence)

    await here.send(mine, {"type": "x.event", "n": 1})
    await here.send(fence, {"type": "x.fence"})

    assert await receive(here, mine) == {"type": "x.event", "n": 1}
    assert await published.next() == fence


async def test_an_event_for_another_process_goes_through_redis(processes):
    here, elsewhere = processes(), processes()
    theirs = await elsewhere.new_channel()
    await here.send(theirs, {"type": "x.event", "text": "hello"})
    assert await receive(elsewhere, theirs) == {"type": "x.event", "text": "hello"}


async def test_a_group_event_reaches_each_member_here_and_elsewhere_once(processes):
    here, elsewhere = processes(), processes()
    first, second = await here.new_channel(), await here.new_channel()
    theirs = await elsewhere.new_channel()
    for layer, channel in ((here, first), (here, second), (elsewhere, theirs)):
        await layer.group_add("room.r1", channel)

    await here.group_send("room.r1", {"type": "x.event", "n": 1})
    await here.group_send("room.r1", {"type": "x.event", "n": 2})

    for layer, channel in ((here, first), (here, second), (elsewhere, theirs)):
        # The copy that came back from Redis to `here` was dropped: n=2 is next.
        assert (await receive(layer, channel))["n"] == 1
        assert (await receive(layer, channel))["n"] == 2


async def test_a_solo_group_whose_member_is_here_publishes_nothing(
    processes, published
):
    here = processes()
    device = f"{DEVICE_GROUP_PREFIX}d1"
    socket = await here.new_channel()
    await here.group_add(device, socket)
    room = await here.new_channel()
    await here.group_add("room.r1", room)
    await published.watch(
        group_channel(processes.prefix, device),
        group_channel(processes.prefix, "room.r1"),
    )

    await here.group_send(device, {"type": "x.event"})
    await here.group_send("room.r1", {"type": "x.fence"})

    assert await receive(here, socket) == {"type": "x.event"}
    assert await published.next() == group_channel(processes.prefix, "room.r1")


async def test_a_solo_group_whose_member_is_elsewhere_is_published(processes):
    here, elsewhere = processes(), processes()
    device = f"{DEVICE_GROUP_PREFIX}d2"
    socket = await elsewhere.new_channel()
    await elsewhere.group_add(device, socket)
    await here.group_send(device, {"type": "x.event", "for": "d2"})
    assert await receive(elsewhere, socket) == {"type": "x.event", "for": "d2"}


async def test_one_process_events_for_a_socket_arrive_in_the_order_sent(processes):
    """Direct sends, group sends and solo-group sends mixed, from this process and
    from another: each sender's events keep their order."""
    here, elsewhere = processes(), processes()
    socket = await here.new_channel()
    device = f"{DEVICE_GROUP_PREFIX}d3"
    await here.group_add(device, socket)
    await here.group_add("room.r2", socket)
    ways = [
        lambda layer, n: layer.send(socket, {"type": "x.event", "n": n}),
        lambda layer, n: layer.group_send(device, {"type": "x.event", "n": n}),
        lambda layer, n: layer.group_send("room.r2", {"type": "x.event", "n": n}),
    ]
    for sender in (here, elsewhere):
        # Started together, so that their publishes share pipelines.
        await asyncio.gather(*(ways[n % 3](sender, n) for n in range(300)))
        got = [(await receive(here, socket))["n"] for _ in range(300)]
        assert got == list(range(300))


async def test_channel_names_tell_their_process(processes):
    here, elsewhere = processes(), processes()
    a, b = await here.new_channel(), await here.new_channel()
    c = await elsewhere.new_channel()
    assert a != b
    assert a.split("!")[0] == b.split("!")[0] != c.split("!")[0]


async def test_a_publish_that_fails_raises_for_its_sender(tmp_path):
    layer = LocalFirstChannelLayer(
        **redis_pubsub_layer(f"unix://{tmp_path}/no-redis.sock")["CONFIG"]
    )
    with pytest.raises(RedisConnectionError):
        await layer.send("elsewhere.specific.x!y", {"type": "x.event"})
    with pytest.raises(RedisConnectionError):  # and the next one too, not a hang
        await layer.group_send("room.r3", {"type": "x.event"})
    await layer.flush()


async def test_many_sockets_joining_at_once_all_hear_their_group(processes):
    """Subscriptions made together go out batched; each is in place when its
    group_add returns."""
    here, elsewhere = processes(), processes()
    sockets = await asyncio.gather(*(elsewhere.new_channel() for _ in range(100)))
    await asyncio.gather(*(elsewhere.group_add(f"room.{s}", s) for s in sockets))
    for socket in sockets:
        await here.group_send(f"room.{socket}", {"type": "x.event", "to": socket})
    for socket in sockets:
        assert (await receive(elsewhere, socket))["to"] == socket


async def test_leaving_and_rejoining_a_group_keeps_the_last_word(processes):
    here, elsewhere = processes(), processes()
    socket = await elsewhere.new_channel()
    await asyncio.gather(
        elsewhere.group_add("room.r4", socket),
        elsewhere.group_discard("room.r4", socket),
        elsewhere.group_add("room.r4", socket),
    )
    await here.group_send("room.r4", {"type": "x.event", "n": 1})
    assert await receive(elsewhere, socket) == {"type": "x.event", "n": 1}
    await elsewhere.group_discard("room.r4", socket)
    await here.group_send("room.r4", {"type": "x.event", "n": 2})
    await here.send(socket, {"type": "x.fence"})  # published after n=2
    assert await receive(elsewhere, socket) == {"type": "x.fence"}
