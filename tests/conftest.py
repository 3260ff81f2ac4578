"""Fixtures shared by every test: people, channel layers on memory and on real Redis."""

import asyncio
import contextlib
import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from channels.layers import get_channel_layer
from channels_redis.pubsub import RedisPubSubChannelLayer
from django.conf import settings
from django.test import Client

from accounts.usersig import usersig_issue
from config.asgi import application
from config.layers import channel_layer_for, memory_layer
from tests.factories import UserFactory
from tests.sockets import ORIGIN, Socket, bearer

BROWSER_TESTS = Path(__file__).parent / "browser"

# The browser fixtures (daphne, Chromium, sign_in), for tests/browser and tests/bot.
pytest_plugins = ["tests.browser.harness"]

# The test process closes its database connections after each use: a connection kept
# open by a consumer's worker thread (CONN_MAX_AGE) would stop pytest-django dropping
# the test database at the end. The daphne processes of browser tests keep theirs.
settings.DATABASES["default"]["CONN_MAX_AGE"] = 0


def pytest_collection_modifyitems(items):
    """Mark the browser tests and run them, and every other test marked `browser`
    (the bot's), last: Playwright's sync API keeps an event loop running in the main
    thread for as long as the browser is open, which the async consumer tests cannot
    share."""
    for item in items:
        if item.path.is_relative_to(BROWSER_TESTS):
            item.add_marker(pytest.mark.browser)
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture(autouse=True)
def _no_webhook_sender_thread(settings):
    # Tests send due webhooks themselves (webhooks_send_due); a background sender in
    # the test process would race them. Daphne processes the tests start keep theirs.
    settings.WEBHOOK_SENDER = "off"


@pytest.fixture
def user(db):
    return UserFactory(username="alice", display_name="Alice")


@pytest.fixture
def other_user(db):
    return UserFactory(username="bob", display_name="Bob")


def _signed_in_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def alice_client(user):
    """A browser-less Django client signed in as Alice."""
    return _signed_in_client(user)


@pytest.fixture
def bob_client(other_user):
    """A browser-less Django client signed in as Bob."""
    return _signed_in_client(other_user)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """REDIS_URL if set; else a redis-server of our own on a unix socket; else None."""
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    binary = shutil.which("redis-server")
    if binary is None:
        yield None
        return
    workdir = tmp_path_factory.mktemp("redis")
    sock = workdir / "redis.sock"
    args = ["--port", "0", "--unixsocket", str(sock), "--save", ""]
    args += ["--appendonly", "no", "--dir", str(workdir)]
    proc = subprocess.Popen([binary, *args], stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not sock.exists():
        if time.monotonic() > deadline or proc.poll() is not None:
            raise RuntimeError("redis-server did not start")
        time.sleep(0.02)
    yield f"unix://{sock}"
    proc.terminate()
    proc.wait(10)


def use_redis_layer(settings, redis_url) -> None:
    if redis_url is None:
        if os.environ.get("CI"):
            pytest.fail("CI must test on Redis: set REDIS_URL or install redis")
        pytest.skip("no REDIS_URL and no redis-server binary")
    # A prefix of its own keeps each test's groups apart on a shared Redis.
    settings.CHANNEL_LAYERS = {
        "default": channel_layer_for(
            redis_url, kind=settings.REDIS_LAYER, prefix=f"t{uuid.uuid4().hex[:8]}"
        )
    }


async def close_layer_connections() -> None:
    """Close channels-redis' connections inside the test's own event loop, so that no
    blocking read is left for the loop's shutdown to cancel."""
    layer = get_channel_layer()
    if hasattr(layer, "close_pools"):  # channels-redis' core layer
        await layer.close_pools()
    elif isinstance(layer, RedisPubSubChannelLayer):
        await layer.flush()


@pytest.fixture(params=["memory", "redis"])
async def channel_layer(request, settings, redis_url):
    """Run the test once on the in-memory layer and once on channels-redis."""
    if request.param == "memory":
        settings.CHANNEL_LAYERS = {"default": memory_layer()}
    else:
        use_redis_layer(settings, redis_url)
    yield request.param
    await close_layer_connections()


@pytest.fixture
async def redis_channel_layer(settings, redis_url):
    """Run the test on channels-redis only."""
    use_redis_layer(settings, redis_url)
    yield
    await close_layer_connections()


# --- sockets (tests/sockets.py) ------------------------------------------------------


@pytest.fixture
async def open_socket():
    """`await open_socket(headers)` → a connected Socket; all are closed at teardown."""
    sockets: list[Socket] = []

    async def open_(headers=(ORIGIN,)) -> Socket:
        socket = Socket(application, "/ws/", headers=list(headers))
        connected, _ = await socket.connect()
        assert connected, "handshake refused"
        sockets.append(socket)
        return socket

    yield open_
    # Every consumer is told its socket is gone, so that it finishes (and stops
    # reading from the channel layer) before this test's event loop closes.
    for socket in sockets:
        # A test that timed out may have cancelled the consumer already.
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await socket.disconnect()


@pytest.fixture
def signed_in(open_socket):
    """`await signed_in(user)` → a socket authenticated by a bearer token, past hello."""

    async def sign_in(user) -> tuple[Socket, dict]:
        socket = await open_socket([ORIGIN, bearer(usersig_issue(user=user))])
        hello = await socket.frame_of("hello")
        return socket, hello

    return sign_in
