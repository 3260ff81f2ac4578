"""Room control on behalf of an application (seed 004): create, kick, mute, close,
delete; and the application's rooms are its own."""

import pytest
from channels.db import database_sync_to_async

from rooms.models import Room
from tests.factories import ApplicationFactory, RoomFactory, UserFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("channel_layer"),
]

ROOMS = "/api/server/rooms"


async def make_room(api, room_id="standup", owner="alice", **fields):
    code, room = await api(
        "post",
        ROOMS,
        {"room_id": room_id, "name": "Stand-up", "owner": owner, **fields},
    )
    assert code == 201, room
    return room


async def join(socket, room_id="standup") -> dict:
    await socket.send_frame({"type": "room.join", "room_id": room_id})
    return await socket.frame_of("room.joined")


async def test_an_app_creates_a_room_owned_by_its_user(async_server_api):
    room = await make_room(async_server_api, member_cap=3, info={"topic": "q3"})
    assert room["owner"]["username"] == "alice"
    assert (room["member_cap"], room["info"]) == (3, {"topic": "q3"})

    code, again = await async_server_api(
        "post", ROOMS, {"room_id": "standup", "name": "x", "owner": "bob"}
    )
    assert (code, again["error"]) == (409, "room_taken")
    code, bad = await async_server_api(
        "post", ROOMS, {"room_id": "has space", "name": "x", "owner": "bob"}
    )
    assert (code, bad["error"]) == (422, "invalid_room")
    code, bad = await async_server_api(
        "post", ROOMS, {"name": "x", "owner": "not a valid id"}
    )
    assert (code, bad["error"]) == (422, "invalid_user_id")


async def test_kick_mute_all_and_close_reach_the_members(app_socket, async_server_api):
    await make_room(async_server_api)
    alice, _ = await app_socket("alice")
    bob, _ = await app_socket("bob")
    carol, _ = await app_socket("carol")
    await join(alice)
    bob_member = (await join(bob))["member_id"]
    await join(carol)

    code, muted = await async_server_api("post", f"{ROOMS}/standup/mute_all")
    assert (code, muted) == (200, {"muted": 2})
    for socket in (bob, carol):
        assert (await socket.frame_of("room.muted"))["by"]["username"] == "alice"

    code, _ = await async_server_api(
        "post", f"{ROOMS}/standup/kick", {"member_id": bob_member}
    )
    assert code == 204
    assert (await bob.frame_of("room.kicked"))["room_id"] == "standup"
    left = await carol.frame_of("room.member_left")
    assert (left["member_id"], left["reason"]) == (bob_member, "kicked")
    code, members = await async_server_api("get", f"{ROOMS}/standup/members")
    assert bob_member not in {m["member_id"] for m in members}

    code, gone = await async_server_api(
        "post", f"{ROOMS}/standup/kick", {"member_id": bob_member}
    )
    assert (code, gone["error"]) == (404, "member_not_found")

    code, room = await async_server_api("post", f"{ROOMS}/standup/close")
    assert code == 200 and room["closed_at"]
    for socket in (alice, carol):
        await socket.frame_of("room.closed")
    code, closed = await async_server_api("post", f"{ROOMS}/standup/mute_all")
    assert (code, closed["error"]) == (409, "room_closed")


async def test_delete_closes_and_removes_the_room(app_socket, async_server_api):
    await make_room(async_server_api)
    alice, _ = await app_socket("alice")
    await join(alice)

    code, _ = await async_server_api("delete", f"{ROOMS}/standup")

    assert code == 204
    await alice.frame_of("room.closed")
    assert not await Room.objects.filter(room_id="standup").aexists()
    code, body = await async_server_api("get", f"{ROOMS}/standup")
    assert (code, body["error"]) == (404, "room_not_found")


async def test_an_apps_rooms_are_its_own(app, app_socket, async_server_api):
    """Another application, and Parley's own users, neither see nor enter them."""
    await make_room(async_server_api)
    other = await database_sync_to_async(ApplicationFactory)()
    code, body = await async_server_api("get", f"{ROOMS}/standup", as_app=other)
    assert (code, body["error"]) == (404, "room_not_found")
    code, body = await async_server_api("post", f"{ROOMS}/standup/close", as_app=other)
    assert (code, body["error"]) == (404, "room_not_found")

    outsider, _ = await app_socket("alice", of=other)
    await outsider.send_frame({"type": "room.join", "room_id": "standup", "req": "1"})
    assert (await outsider.frame_of("error"))["error"] == "room_not_found"

    # And the app cannot reach a room of Parley's own users.
    await database_sync_to_async(RoomFactory)(
        room_id="parley-room", owner=await database_sync_to_async(UserFactory)()
    )
    code, body = await async_server_api("post", f"{ROOMS}/parley-room/close")
    assert (code, body["error"]) == (404, "room_not_found")


async def test_the_app_rings_its_users_into_a_room(app_socket, async_server_api):
    """Seed 004: the application server pushes the join invitation."""
    await make_room(async_server_api)
    bob, _ = await app_socket("bob")

    code, body = await async_server_api(
        "post", f"{ROOMS}/standup/invite", {"users": ["bob", "eric"]}
    )

    assert code == 200
    ids = {i["user"]: i["call_id"] for i in body["invitations"]}
    assert set(ids) == {"bob", "eric"}
    incoming = await bob.frame_of("call.incoming")
    assert (incoming["call_id"], incoming["caller"]["username"]) == (
        ids["bob"],
        "alice",
    )
    assert incoming["room"]["room_id"] == "standup"
    code, bill = await async_server_api("get", f"/api/server/calls/{ids['eric']}")
    assert (bill["end_reason"], bill["end_code"]) == ("offline", 100102)

    await bob.send_frame({"type": "call.accept", "call_id": ids["bob"]})
    started = await bob.frame_of("call.started")
    assert (started["group"], started["room_id"]) == (True, "standup")

    code, body = await async_server_api(
        "post", f"{ROOMS}/standup/invite", {"users": ["nobody at all"]}
    )
    assert (code, body["error"]) == (422, "invalid_user_id")
    code, body = await async_server_api(
        "post", f"{ROOMS}/standup/invite", {"users": ["alice"]}
    )
    assert (code, body["error"]) == (422, "cannot_call_self")
