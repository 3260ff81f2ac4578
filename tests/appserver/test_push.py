"""Server push (seed 000): a base64 message to every online device of some users."""

import base64
import os

import pytest
from channels.db import database_sync_to_async

from tests.factories import ApplicationFactory, UserFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("channel_layer"),
]


async def test_a_push_reaches_every_device_byte_exact_and_says_who_was_offline(
    app, app_socket, async_server_api
):
    laptop, _ = await app_socket("alice")
    phone, _ = await app_socket("alice")
    await app_socket("carol")
    raw = bytes(range(256)) + os.urandom(512)
    payload = base64.b64encode(raw).decode()

    status, body = await async_server_api(
        "post",
        "/api/server/push",
        {"users": ["alice", "bob", "ghost"], "payload": payload, "flag": 3},
    )

    assert status == 200
    assert body == {"delivered": {"alice": 2}, "offline": ["bob", "ghost"]}
    for socket in (laptop, phone):
        push = await socket.frame_of("push")
        assert base64.b64decode(push["payload"]) == raw
        assert (push["flag"], push["from_app"]) == (3, app.app_id)
        assert push["sent_at"]


async def test_a_push_stays_inside_its_application(app, app_socket, async_server_api):
    """Another app's `alice`, and Parley's own `alice`, are other people."""
    other = await database_sync_to_async(ApplicationFactory)()
    theirs, _ = await app_socket("alice", of=other)
    await database_sync_to_async(UserFactory)(username="alice")

    status, body = await async_server_api(
        "post", "/api/server/push", {"users": ["alice"], "payload": "aGk="}
    )

    assert (status, body["offline"]) == (200, ["alice"])
    assert await theirs.receive_nothing(timeout=0.3)


@pytest.mark.parametrize(
    ("payload", "status", "slug"),
    [
        ("not base64!", 422, "payload_not_base64"),
        ("aGVsbG8", 422, "payload_not_base64"),  # bad padding
        ("aGVs\nbG8=", 422, "payload_not_base64"),  # whitespace inside
        ("", 200, None),  # an empty message is still a message
    ],
)
async def test_the_payload_must_be_base64(
    payload, status, slug, app_socket, async_server_api
):
    await app_socket("alice")
    code, body = await async_server_api(
        "post", "/api/server/push", {"users": ["alice"], "payload": payload}
    )
    assert code == status
    if slug:
        assert body["error"] == slug


async def test_the_payload_is_bounded(settings, app_socket, async_server_api):
    settings.PUSH_MAX_BYTES = 100
    socket, _ = await app_socket("alice")
    just_fits = base64.b64encode(b"x" * 100).decode()
    too_big = base64.b64encode(b"x" * 101).decode()

    code, body = await async_server_api(
        "post", "/api/server/push", {"users": ["alice"], "payload": too_big}
    )
    assert (code, body["error"]) == (413, "payload_too_large")
    assert "100 bytes" in body["message"]
    assert await socket.receive_nothing(timeout=0.2)

    code, _ = await async_server_api(
        "post", "/api/server/push", {"users": ["alice"], "payload": just_fits}
    )
    assert code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"users": [], "payload": "aGk="},
        {"users": [f"u{n}" for n in range(101)], "payload": "aGk="},
        {"users": ["alice"]},
        {"users": "alice", "payload": "aGk="},
        {"users": ["alice"], "payload": "aGk=", "flag": -1},
    ],
    ids=["no-users", "too-many-users", "no-payload", "users-not-a-list", "bad-flag"],
)
async def test_a_malformed_push_is_422(body, async_server_api):
    code, answer = await async_server_api("post", "/api/server/push", body)
    assert (code, answer["error"]) == (422, "invalid_request")
