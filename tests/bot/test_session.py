"""The bot's signalling side: the protocol it reads through calls.protocol, URLs,
roles and media of a call, backoff, loopback ICE, and reconnection to a restarted
server."""

import asyncio
import json

import aioice.ice
import pytest

from calls import protocol
from calls.bot.media import MediaSource
from calls.bot.peer import allow_loopback_ice, rtc_configuration
from calls.bot.session import (
    BACKOFF_MAX,
    BotOptions,
    BotSession,
    allowed_media,
    backoff_delay,
)
from calls.bot.transport import socket_url
from tests.browser.harness import start_daphne
from tests.browser.services import stop


def test_server_frames_read_back_through_the_protocol_module():
    relay = protocol.CallSignalRelay(
        call_id="c1",
        from_="alice",
        candidate=protocol.IceCandidate(
            candidate="candidate:1 1 udp 1 1.2.3.4 5 typ host"
        ),
    )
    text = protocol.encode(relay)
    assert '"from":"alice"' in text
    parsed = protocol.parse_server_frame(text)
    assert parsed == relay
    assert protocol.parse_server_frame('{"type":"not.yet.invented"}') is None
    for bad in ("nope", "[]", '{"type":"call.ended"}', b"{}"):
        with pytest.raises(protocol.ProtocolError):
            protocol.parse_server_frame(bad)


def test_the_bot_writes_client_frames_the_server_accepts():
    frame = protocol.RoomSignal.model_validate(
        {"room_id": "r", "to": "m", "description": {"type": "offer", "sdp": "v=0"}}
    )
    assert protocol.parse_client_frame(protocol.encode(frame)) == frame


@pytest.mark.parametrize(
    ("given", "url"),
    [
        ("http://127.0.0.1:8000", "ws://127.0.0.1:8000/ws/"),
        ("https://call.example.com/", "wss://call.example.com/ws/"),
        ("https://example.com/parley", "wss://example.com/parley/ws/"),
        ("ws://127.0.0.1:8000/ws/", "ws://127.0.0.1:8000/ws/"),
    ],
)
def test_socket_url(given, url):
    assert socket_url(given) == url


class ScriptedServer:
    """A Transport whose server answers `call.invite` with its `ok` and the call's
    `call.ended` in one burst, as a server does for a callee who is offline."""

    def __init__(self):
        self.inbox: asyncio.Queue[str] = asyncio.Queue()
        hello = {
            "type": "hello",
            "user": {"id": 1, "username": "alice", "display_name": "Alice"},
            "device_id": "d1",
            "protocol": protocol.PROTOCOL_VERSION,
            "ice_servers": [],
        }
        self.inbox.put_nowait(json.dumps(hello))

    async def send(self, text: str) -> None:
        frame = json.loads(text)
        assert frame["type"] == "call.invite"
        ok = {"type": "ok", "req": frame["req"], "call_id": "c1"}
        ended = {
            "type": "call.ended",
            "call_id": "c1",
            "reason": "offline",
            "code": protocol.END_CODES["offline"],
            "duration_s": 0,
        }
        for answer in (ok, ended):
            self.inbox.put_nowait(json.dumps(answer))

    async def receive(self) -> str:
        return await self.inbox.get()


async def test_a_call_that_ends_right_after_its_ok_ends_the_bot():
    """The `call.ended` read straight after the invite's `ok` is the bot's call: the
    call id is taken from the `ok` before the next frame is handled."""
    options = BotOptions(username="alice", media=MediaSource("pattern"), call="bob")
    session = BotSession(options)
    reader = asyncio.create_task(session.serve(ScriptedServer()))
    try:
        outcome = await asyncio.wait_for(session.done, 5)
    finally:
        reader.cancel()
    assert outcome.error == "the call ended without an answer: offline"


def test_what_each_side_of_a_call_sends():
    assert allowed_media("caller", "video", 0) == {"audio", "video"}
    assert allowed_media("callee", "audio", 0) == {"audio"}
    assert allowed_media("callee", "video", protocol.FLAGS["forbid_callee_video"]) == {
        "audio"
    }
    assert allowed_media("caller", "video", protocol.FLAGS["forbid_callee_video"]) == {
        "audio",
        "video",
    }
    assert allowed_media("caller", "video", 0x30) == set()


def test_backoff_has_full_jitter_up_to_a_cap():
    assert backoff_delay(0, lambda: 0.999) < 0.5
    assert backoff_delay(3, lambda: 0.5) == 2.0
    assert backoff_delay(30, lambda: 0.999) < BACKOFF_MAX
    assert backoff_delay(5, lambda: 0.0) == 0


def test_the_ice_servers_are_the_servers_and_never_a_public_default():
    assert rtc_configuration([]).iceServers == []
    turn = protocol.IceServer(urls=["turn:t:3478"], username="u", credential="c")
    (server,) = rtc_configuration([turn]).iceServers
    assert (server.urls, server.username, server.credential) == (
        ["turn:t:3478"],
        "u",
        "c",
    )


def test_loopback_ice_is_opt_in(monkeypatch):
    assert "127.0.0.1" not in aioice.ice.get_host_addresses(True, False)
    monkeypatch.setattr(aioice.ice, "get_host_addresses", aioice.ice.get_host_addresses)
    allow_loopback_ice()
    allow_loopback_ice()  # once is enough; twice changes nothing
    assert aioice.ice.get_host_addresses(True, False).count("127.0.0.1") == 1
    assert "127.0.0.1" not in aioice.ice.get_host_addresses(False, True)


@pytest.mark.browser
def test_the_bot_reconnects_to_a_restarted_server(loopback_only, people, callbot):
    url, server = start_daphne()
    port = int(url.rsplit(":", 1)[1])
    try:
        bob = callbot("bob", "--answer", "--once", server=url)
        bob.wait_for("signed in as bob")
        stop(server)
        bob.wait_for("connection lost")
        url, server = start_daphne(port=port)
        bob.wait_for("reconnecting in")
        bob.wait_for("signed in as bob", count=2, timeout=30)
        # And it still answers: a call from another bot after the restart.
        assert (
            callbot("alice", "--call", "bob", "--duration", "2", server=url).finish()
            == 0
        )
        assert bob.finish() == 0
    finally:
        stop(server)
