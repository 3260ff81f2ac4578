"""ICE servers for `hello`: STUN as configured, TURN with coturn REST-API credentials."""

import base64
import hashlib
import hmac

from calls.ice import ice_servers_for, turn_credentials


def test_no_servers_are_configured_by_default(settings):
    assert ice_servers_for(username="alice") == []


def test_turn_credentials_follow_the_coturn_rest_scheme(settings):
    settings.TURN_SECRET = "s3cret"
    settings.TURN_TTL = 600
    username, password = turn_credentials(username="alice", now=1_000_000)
    assert username == "1000600:alice"
    expected = hmac.new(b"s3cret", b"1000600:alice", hashlib.sha1).digest()
    assert base64.b64decode(password) == expected


def test_configured_servers_are_listed_with_credentials(settings):
    settings.STUN_URLS = ["stun:stun.example.com:3478"]
    settings.TURN_URLS = ["turn:turn.example.com:3478?transport=udp"]
    settings.TURN_SECRET = "s3cret"
    stun, turn = ice_servers_for(username="alice")
    assert stun.urls == ["stun:stun.example.com:3478"]
    assert stun.username is None
    assert turn.urls == ["turn:turn.example.com:3478?transport=udp"]
    assert turn.username.endswith(":alice")
    assert turn.credential


def test_turn_without_a_secret_is_listed_without_credentials(settings):
    settings.TURN_URLS = ["turn:turn.example.com:3478"]
    (turn,) = ice_servers_for(username="alice")
    assert (turn.username, turn.credential) == (None, None)
