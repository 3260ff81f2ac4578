"""An outside application backend drives a real Parley server process end to end:
its own key pair, a token it signs, server push, user state, a call it ends, and
signed webhooks on an HTTP server of its own (issue 5's "done when")."""

import base64
import json
import os
import time

import httpx
import pytest
from websockets.sync.client import connect

from appserver.webhooks import webhook_verify
from tests.appserver.keys import app_token, key_pair
from tests.browser.harness import start_daphne
from tests.browser.services import stop
from tests.factories import ApplicationFactory


@pytest.fixture
def server(transactional_db):
    """A daphne process on the test database, sending webhooks from its own thread."""
    url, proc = start_daphne(WEBHOOK_SENDER="thread")
    yield url
    stop(proc)


def frame_of(socket, type_: str, timeout: float = 10) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        frame = json.loads(socket.recv(timeout=max(0.1, deadline - time.monotonic())))
        if frame["type"] == type_:
            return frame


def test_an_outside_backend_drives_parley(server, receiver):
    # The backend makes a key pair; the admin registers its public half.
    private_key, public_pem = key_pair("ed25519")
    app = ApplicationFactory(public_key=public_pem, webhook_url=receiver.url)
    receiver.statuses = [500]  # the first webhook fails and must be retried
    api = httpx.Client(
        base_url=server,
        headers={"X-App-Id": app.app_id, "X-App-Key": app.api_key},
        timeout=10,
    )
    ws_url = server.replace("http://", "ws://") + "/ws/"

    def state(*users) -> dict[str, str]:
        answer = api.post("/api/server/users/state", json={"users": list(users)})
        assert answer.status_code == 200, answer.text
        return {row["user_id"]: row["state"] for row in answer.json()}

    def socket_of(token: str):
        return connect(ws_url, additional_headers={"Authorization": f"Bearer {token}"})

    # Alice's token is signed by the backend itself; Bob's is minted by Parley.
    alice_token = app_token(app.app_id, "alice", private_key, "EdDSA")
    minted = api.post("/api/server/usersig", json={"user_id": "bob", "ttl": 600})
    assert minted.status_code == 200
    bob_token = minted.json()["user_sig"]
    assert state("alice", "bob") == {"alice": "offline", "bob": "offline"}

    with socket_of(alice_token) as alice:
        assert frame_of(alice, "hello")["user"]["username"] == "alice"
        assert state("alice", "bob") == {"alice": "online", "bob": "offline"}

        raw = os.urandom(300) + bytes(range(256))
        pushed = api.post(
            "/api/server/push",
            json={"users": ["alice", "bob"], "payload": base64.b64encode(raw).decode()},
        )
        assert pushed.json() == {"delivered": {"alice": 1}, "offline": ["bob"]}
        assert base64.b64decode(frame_of(alice, "push")["payload"]) == raw

        with socket_of(bob_token) as bob:
            frame_of(bob, "hello")
            alice.send(
                json.dumps(
                    {
                        "type": "call.invite",
                        "callee": "bob",
                        "media": "video",
                        "req": "c",
                    }
                )
            )
            call_id = frame_of(alice, "ok")["call_id"]
            frame_of(bob, "call.incoming")
            assert state("alice", "bob") == {"alice": "ringing", "bob": "ringing"}
            bob.send(json.dumps({"type": "call.accept", "call_id": call_id}))
            frame_of(alice, "call.started")
            frame_of(bob, "call.started")
            assert state("alice", "bob") == {"alice": "in_call", "bob": "in_call"}

            finished = api.post(f"/api/server/calls/{call_id}/finish")
            assert finished.status_code == 200
            for socket in (alice, bob):
                ended = frame_of(socket, "call.ended")
                assert (ended["reason"], ended["code"]) == ("forced", 100108)

    deadline = time.monotonic() + 10
    while state("alice", "bob") != {"alice": "offline", "bob": "offline"}:
        assert time.monotonic() < deadline, "the users never went offline"
        time.sleep(0.1)

    # call.started (answered 500, then retried about 2 s later) and call.ended.
    received = receiver.wait_for(3, timeout=30)
    bodies = [
        webhook_verify(
            body=r.body,
            authorization=r.headers["Authorization"],
            secret=app.webhook_secret,
        )
        for r in received
    ]
    events = [(b["event"], r.answered) for b, r in zip(bodies, received, strict=True)]
    assert events == [
        ("call.started", 500),
        ("call.ended", 200),
        ("call.started", 200),
    ]
    assert received[2].body == received[0].body
    assert received[2].at - received[0].at >= 1.5  # the first retry waits 2 s
    bill = bodies[1]["data"]
    assert (bill["call_id"], bill["end_reason"], bill["end_code"]) == (
        call_id,
        "forced",
        100108,
    )
