"""ICE servers for `hello` and GET /api/ice-servers: STUN as configured, TURN with
coturn REST-API credentials and their lifetime."""

import base64
import hashlib
import hmac

import pytest
from django.test import Client

from accounts.usersig import usersig_issue
from calls.ice import ice_servers_for, ice_servers_ttl, turn_credentials


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


TURN = {
    "TURN_URLS": ["turn:turn.example.com:3478?transport=udp"],
    "TURN_SECRET": "s3cret",
    "TURN_TTL": 600,
}


def test_the_ttl_is_given_only_when_credentials_expire(settings):
    assert ice_servers_ttl() is None
    settings.TURN_URLS = TURN["TURN_URLS"]
    assert ice_servers_ttl() is None  # TURN without a secret: nothing expires
    settings.TURN_SECRET = "s3cret"
    settings.TURN_TTL = 600
    assert ice_servers_ttl() == 600


@pytest.mark.django_db(transaction=True)
async def test_hello_carries_the_credentials_ttl(signed_in, user, settings):
    """A client learns from hello when to fetch new TURN credentials."""
    for name, value in TURN.items():
        setattr(settings, name, value)
    _, hello = await signed_in(user)
    (turn,) = hello["ice_servers"]
    assert turn["username"].endswith(":alice")
    assert hello["ice_servers_ttl"] == 600


@pytest.mark.django_db(transaction=True)
async def test_hello_leaves_the_ttl_out_when_nothing_expires(signed_in, user):
    _, hello = await signed_in(user)
    assert hello["ice_servers"] == []
    assert "ice_servers_ttl" not in hello


def test_the_api_gives_fresh_credentials_with_their_ttl(
    alice_client, settings, monkeypatch
):
    for name, value in TURN.items():
        setattr(settings, name, value)
    monkeypatch.setattr("calls.ice.time.time", lambda: 1_000_000)
    answer = alice_client.get("/api/ice-servers")
    assert answer.status_code == 200
    body = answer.json()
    assert body["ice_servers_ttl"] == 600
    (turn,) = body["ice_servers"]
    assert turn["urls"] == TURN["TURN_URLS"]
    assert turn["username"] == "1000600:alice"
    expected = hmac.new(b"s3cret", b"1000600:alice", hashlib.sha1).digest()
    assert base64.b64decode(turn["credential"]) == expected


def test_the_api_answers_a_user_token_too(user, settings):
    settings.STUN_URLS = ["stun:stun.example.com:3478"]
    token = usersig_issue(user=user)
    answer = Client().get("/api/ice-servers", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert answer.status_code == 200
    assert answer.json() == {
        "ice_servers": [
            {
                "urls": ["stun:stun.example.com:3478"],
                "username": None,
                "credential": None,
            }
        ],
        "ice_servers_ttl": None,
    }


@pytest.mark.parametrize("headers", [{}, {"HTTP_AUTHORIZATION": "Bearer not-a-token"}])
def test_the_api_needs_credentials(db, headers):
    answer = Client().get("/api/ice-servers", **headers)
    assert answer.status_code == 401
    assert answer.json()["error"] == "unauthenticated"
