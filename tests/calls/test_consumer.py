"""The /ws/ socket: who may connect, the envelope, bad frames, flooding, presence."""

import asyncio
import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from channels.db import database_sync_to_async
from django.test import override_settings

from accounts.models import Device
from accounts.usersig import usersig_issue
from calls.protocol import ERRORS, MAX_FRAME_BYTES
from tests.sockets import ORIGIN, bearer, session_cookie

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("channel_layer"),
]

UNAUTHORIZED = 4401


# --- who may connect ---------------------------------------------------------------


@override_settings(SOCKET_AUTH_TIMEOUT=0.2)
async def test_anonymous_socket_is_closed_when_no_auth_frame_comes(open_socket):
    """A socket with no session and no token gets no hello and is closed 4401."""
    socket = await open_socket()
    assert await socket.closed_with(timeout=3) == UNAUTHORIZED


async def test_anonymous_socket_sending_anything_but_auth_is_closed(open_socket):
    """Before authenticating, only `auth` is accepted."""
    socket = await open_socket()
    await socket.send_frame({"type": "ping"})
    assert await socket.closed_with() == UNAUTHORIZED


async def test_cross_origin_handshake_is_refused(user):
    """A page on another site cannot open the socket, even with a valid session."""
    from channels.testing import WebsocketCommunicator

    from config.asgi import application

    socket = WebsocketCommunicator(
        application,
        "/ws/",
        headers=[(b"origin", b"https://evil.example"), await session_cookie(user)],
    )
    connected, _ = await socket.connect()
    assert not connected
    await socket.disconnect()


async def test_session_cookie_gets_hello(open_socket, user):
    """A signed-in browser tab is greeted with its user, device id and protocol."""
    socket = await open_socket([ORIGIN, await session_cookie(user)])
    hello = await socket.frame_of("hello")
    assert hello["user"] == {
        "id": user.pk,
        "username": "alice",
        "display_name": "Alice",
    }
    assert hello["protocol"] == 1
    assert len(hello["device_id"]) == 32
    assert hello["ice_servers"] == []


@override_settings(SOCKET_AUTH_TIMEOUT=0.2)
async def test_session_cookie_without_origin_is_not_enough(open_socket, user):
    """Non-browser clients (no Origin) must use a token; a cookie alone is ignored."""
    socket = await open_socket([await session_cookie(user)])
    assert await socket.closed_with(timeout=3) == UNAUTHORIZED


async def test_bearer_token_gets_hello(open_socket, user):
    """`Authorization: Bearer <userSig>` authenticates a bot with no Origin."""
    socket = await open_socket([bearer(usersig_issue(user=user))])
    hello = await socket.frame_of("hello")
    assert hello["user"]["username"] == "alice"


async def test_a_handshake_does_not_wait_for_the_database_thread(open_socket, user):
    """Sign-ins and call work queue on the process's one database thread. The
    handshake itself must not queue there: a busy process would let it outlast
    daphne's 5 s handshake limit, which resets the connection."""
    by_token, by_cookie = (
        [bearer(usersig_issue(user=user))],
        [ORIGIN, await session_cookie(user)],
    )
    release = threading.Event()
    busy = asyncio.ensure_future(database_sync_to_async(release.wait)(10))
    await asyncio.sleep(0.1)  # the database thread is held from now on
    try:
        for headers in (by_token, by_cookie):
            socket = await open_socket(headers)  # accepted
            assert not busy.done()
    finally:
        release.set()
        await busy
    assert (await socket.frame_of("hello"))["user"]["username"] == "alice"


async def test_auth_frame_gets_hello_and_ok(open_socket, user):
    """`{"type":"auth","user_sig":…}` as the first frame signs the socket in."""
    socket = await open_socket()
    await socket.send_frame(
        {"type": "auth", "user_sig": usersig_issue(user=user), "req": "a1"}
    )
    assert (await socket.frame())["type"] == "hello"
    assert await socket.frame_of("ok") == {"type": "ok", "req": "a1"}


def _expired(user):
    return usersig_issue(user=user, ttl=60, now=datetime.now(UTC) - timedelta(hours=1))


def _tampered(user):
    head, body, sig = usersig_issue(user=user).split(".")
    return f"{head}.{body}.{sig[:-4]}AAAA"


@override_settings(USERSIG_ISSUER="someone-else")
def _wrong_issuer(user):
    return usersig_issue(user=user)


@pytest.mark.parametrize(
    "make_token", [_expired, _tampered, _wrong_issuer, lambda u: "x.y.z"]
)
@pytest.mark.parametrize("how", ["bearer", "auth_frame"])
async def test_bad_tokens_are_refused(open_socket, user, make_token, how):
    """Expired, tampered, foreign and garbage tokens close the socket with 4401."""
    token = await database_sync_to_async(make_token)(user)
    if how == "bearer":
        socket = await open_socket([ORIGIN, bearer(token)])
    else:
        socket = await open_socket()
        await socket.send_frame({"type": "auth", "user_sig": token})
    assert await socket.closed_with() == UNAUTHORIZED


async def test_a_bad_bearer_token_does_not_fall_back_to_the_session(open_socket, user):
    socket = await open_socket([ORIGIN, await session_cookie(user), bearer("x.y.z")])
    assert await socket.closed_with() == UNAUTHORIZED


async def test_second_auth_is_an_error(signed_in, user):
    socket, _ = await signed_in(user)
    await socket.send_frame(
        {"type": "auth", "user_sig": usersig_issue(user=user), "req": "2"}
    )
    error = await socket.frame_of("error")
    assert (error["error"], error["code"], error["req"]) == (
        "already_authenticated",
        4009,
        "2",
    )


# --- envelope and bad frames ---------------------------------------------------------


async def test_ping_is_answered_with_pong(signed_in, user):
    socket, _ = await signed_in(user)
    await socket.send_frame({"type": "ping", "req": "p1"})
    assert await socket.frame_of("pong") == {"type": "pong", "req": "p1"}


BAD_FRAMES = [
    ("not json", "bad_json", None),
    ("[1, 2]", "bad_frame", None),
    ('{"req": "r"}', "bad_frame", "r"),
    ('{"type": 7, "req": "r"}', "bad_frame", "r"),
    ('{"type": "call.teleport", "req": "r"}', "unknown_type", "r"),
    ('{"type": "auth", "req": "r"}', "missing_field", "r"),
    ('{"type": "auth", "user_sig": 42, "req": "r"}', "invalid_field", "r"),
    ('{"type": "ping", "req": 5}', "invalid_field", None),
    (
        json.dumps({"type": "ping", "pad": "x" * MAX_FRAME_BYTES}),
        "frame_too_large",
        None,
    ),
    (b"\x00\x01binary", "bad_frame", None),
]


@pytest.mark.parametrize(("raw", "slug", "req"), BAD_FRAMES)
async def test_bad_frame_gets_error_and_socket_stays_usable(
    signed_in, user, raw, slug, req
):
    """Each kind of bad frame is answered with its error; the socket lives on."""
    socket, _ = await signed_in(user)
    if isinstance(raw, bytes):
        await socket.send_to(bytes_data=raw)
    else:
        await socket.send_to(text_data=raw)
    error = await socket.frame_of("error")
    assert error["error"] == slug
    assert error["code"] == ERRORS[slug]
    assert error.get("req") == req
    assert error["message"]
    await socket.send_frame({"type": "ping", "req": "after"})
    assert (await socket.frame_of("pong"))["req"] == "after"


@override_settings(SOCKET_RATE=50, SOCKET_BURST=20, SOCKET_RATE_STRIKES=30)
async def test_flooding_is_throttled_then_closed_and_others_are_unaffected(
    signed_in, user, other_user
):
    """Past the burst, frames get `rate_limited`; a client that goes on is closed 4429."""
    flooder, _ = await signed_in(user)
    bystander, _ = await signed_in(other_user)
    for n in range(200):
        await flooder.send_frame({"type": "ping", "req": str(n)})
    answers = []
    while True:
        message = await flooder.receive_output(2)
        if message["type"] == "websocket.close":
            close_code = message["code"]
            break
        answers.append(json.loads(message["text"]))
    limited = [a for a in answers if a["type"] == "error"]
    assert close_code == 4429
    assert {a["error"] for a in limited} == {"rate_limited"}
    assert len(limited) >= 30
    assert sum(a["type"] == "pong" for a in answers) >= 20
    await bystander.send_frame({"type": "ping", "req": "still-fine"})
    assert (await bystander.frame_of("pong"))["req"] == "still-fine"


# --- presence ---------------------------------------------------------------------------


async def test_device_rows_follow_open_sockets(signed_in, user):
    first, hello1 = await signed_in(user)
    _, hello2 = await signed_in(user)
    assert await Device.objects.filter(user=user).acount() == 2
    await first.disconnect()
    ids = [
        d
        async for d in Device.objects.filter(user=user).values_list(
            "device_id", flat=True
        )
    ]
    assert ids == [hello2["device_id"]]
    assert hello1["device_id"] != hello2["device_id"]


async def test_others_see_a_user_go_online_and_offline(signed_in, user, other_user):
    alice, _ = await signed_in(user)
    bob, _ = await signed_in(other_user)
    seen = await alice.frame_of("presence")
    assert (seen["user"]["username"], seen["state"]) == ("bob", "online")
    await bob.disconnect()
    seen = await alice.frame_of("presence")
    assert (seen["user"]["username"], seen["state"]) == ("bob", "offline")


async def test_a_user_stays_online_while_one_of_their_devices_is(
    signed_in, user, other_user
):
    """Others are told when Bob's state changes, not for each of his tabs."""
    alice, _ = await signed_in(user)
    tab1, _ = await signed_in(other_user)
    tab2, _ = await signed_in(other_user)  # a second tab of Bob's: no news
    await tab1.disconnect()  # Bob is still online: no news either
    await tab2.disconnect()
    states = [(await alice.frame_of("presence"))["state"] for _ in range(2)]
    assert states == ["online", "offline"]
