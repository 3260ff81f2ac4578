"""The socket on channels-redis specifically, on both of its layers (REDIS_LAYER)."""

import asyncio

import pytest

from tests.conftest import close_layer_connections, use_redis_layer


@pytest.fixture(params=["pubsub", "core"])
async def each_redis_layer(request, settings, redis_url):
    settings.REDIS_LAYER = request.param
    use_redis_layer(settings, redis_url)
    yield
    await close_layer_connections()


pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("each_redis_layer"),
]


async def test_an_idle_socket_outlives_the_layers_blocking_wait(signed_in, user):
    """channels-redis waits 5 s per blocking read; a quiet socket must not be torn
    down when a wait ends empty (redis-py 8's 5 s default read timeout did that)."""
    socket, _ = await signed_in(user)
    await asyncio.sleep(6.5)
    await socket.send_frame({"type": "ping", "req": "still-here"})
    assert (await socket.frame_of("pong"))["req"] == "still-here"
