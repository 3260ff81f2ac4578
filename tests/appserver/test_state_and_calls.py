"""User state for an application, and ending its users' calls from the server."""

import pytest
from channels.db import database_sync_to_async

from accounts.services import app_user_get_or_create
from tests.factories import ApplicationFactory, CallFactory, UserFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("channel_layer"),
]

STATE = "/api/server/users/state"


async def states(api, *users) -> dict[str, tuple[str, int]]:
    code, body = await api("post", STATE, {"users": list(users)})
    assert code == 200
    return {row["user_id"]: (row["state"], row["devices"]) for row in body}


async def call_between(caller, callee, caller_id: str) -> str:
    """Caller rings callee, callee accepts: the call id."""
    await caller.send_frame(
        {"type": "call.invite", "callee": caller_id, "media": "video", "req": "1"}
    )
    call_id = (await caller.frame_of("ok"))["call_id"]
    await callee.frame_of("call.incoming")
    return call_id


async def test_state_goes_online_ringing_in_call_offline(app_socket, async_server_api):
    assert await states(async_server_api, "alice", "bob", "nobody") == {
        "alice": ("offline", 0),
        "bob": ("offline", 0),
        "nobody": ("offline", 0),
    }
    alice, _ = await app_socket("alice")
    bob, _ = await app_socket("bob")
    assert await states(async_server_api, "alice", "bob") == {
        "alice": ("online", 1),
        "bob": ("online", 1),
    }

    call_id = await call_between(alice, bob, "bob")
    assert await states(async_server_api, "alice", "bob") == {
        "alice": ("ringing", 1),
        "bob": ("ringing", 1),
    }
    await bob.send_frame({"type": "call.accept", "call_id": call_id})
    await alice.frame_of("call.started")
    _, body = await async_server_api("post", STATE, {"users": ["bob"]})
    assert body[0]["state"] == "in_call" and body[0]["call_id"] == call_id

    await alice.disconnect()
    await bob.disconnect()
    assert await states(async_server_api, "alice", "bob") == {
        "alice": ("offline", 0),
        "bob": ("offline", 0),
    }


async def test_state_lists_the_rooms_a_user_is_in(app_socket, async_server_api):
    code, _ = await async_server_api(
        "post", "/api/server/rooms", {"room_id": "standup", "name": "S", "owner": "al"}
    )
    assert code == 201
    al, _ = await app_socket("al")
    await al.send_frame({"type": "room.join", "room_id": "standup"})
    await al.frame_of("room.joined")
    code, body = await async_server_api("post", STATE, {"users": ["al"]})
    assert body[0]["rooms"] == ["standup"]


async def test_finishing_a_call_ends_it_forced_for_both(app_socket, async_server_api):
    alice, _ = await app_socket("alice")
    bob, _ = await app_socket("bob")
    call_id = await call_between(alice, bob, "bob")
    await bob.send_frame({"type": "call.accept", "call_id": call_id})
    await alice.frame_of("call.started")

    code, bill = await async_server_api("post", f"/api/server/calls/{call_id}/finish")

    assert code == 200
    assert (bill["state"], bill["end_reason"], bill["end_code"]) == (
        "ended",
        "forced",
        100108,
    )
    assert (bill["caller"]["username"], bill["callee"]["username"]) == ("alice", "bob")
    for socket in (alice, bob):
        ended = await socket.frame_of("call.ended")
        assert (ended["reason"], ended["code"]) == ("forced", 100108)

    code, body = await async_server_api("post", f"/api/server/calls/{call_id}/finish")
    assert (code, body["error"]) == (409, "call_ended")


async def test_finishing_a_ringing_call_stops_the_ringing(app_socket, async_server_api):
    alice, _ = await app_socket("alice")
    bob, _ = await app_socket("bob")
    call_id = await call_between(alice, bob, "bob")
    code, bill = await async_server_api("post", f"/api/server/calls/{call_id}/finish")
    assert (code, bill["end_reason"]) == (200, "forced")
    assert (await bob.frame_of("call.ended"))["code"] == 100108


@pytest.mark.parametrize("whose", ["unknown", "parley", "another-app"])
async def test_only_the_apps_own_calls_can_be_finished(whose, async_server_api):
    def make_call() -> str:
        if whose == "unknown":
            return "0" * 32
        if whose == "parley":
            return CallFactory(ringing=True).call_id
        other = ApplicationFactory()
        caller = app_user_get_or_create(application=other, user_id="x")
        return CallFactory(ringing=True, caller=caller, callee=UserFactory()).call_id

    call_id = await database_sync_to_async(make_call)()
    code, body = await async_server_api("post", f"/api/server/calls/{call_id}/finish")
    assert (code, body["error"]) == (404, "call_not_found")


async def test_an_app_user_calls_only_users_of_the_same_app(
    app_socket, async_server_api
):
    """`callee` names a user of the caller's own application."""
    await database_sync_to_async(UserFactory)(username="carol")  # Parley's own Carol
    alice, _ = await app_socket("alice")
    await alice.send_frame(
        {"type": "call.invite", "callee": "carol", "media": "audio", "req": "1"}
    )
    error = await alice.frame_of("error")
    assert error["error"] == "user_not_found"
