"""Rooms on the socket: entering, member events, signalling inside one room only,
chat, moderation, and members whose socket or process went away.

Each test runs on the in-memory layer and on real Redis.
"""

import pytest
from channels.db import database_sync_to_async
from django.test import override_settings

from rooms.models import Member, Room, RoomMessage
from rooms.services import room_close, room_create
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("channel_layer"),
]

OFFER = {"type": "offer", "sdp": "v=0\r\n"}


@pytest.fixture
def carol(db):
    return UserFactory(username="carol", display_name="Carol")


@database_sync_to_async
def make_room(owner, room_id="team", **fields) -> Room:
    return room_create(owner=owner, name="Team", room_id=room_id, **fields)


async def join(socket, room_id="team", **fields) -> dict:
    await socket.send_frame(
        {"type": "room.join", "room_id": room_id, "req": "j", **fields}
    )
    ok = await socket.frame_of("ok")
    assert ok["room_id"] == room_id
    return await socket.frame_of("room.joined")


async def expect_error(socket, frame, slug):
    await socket.send_frame({**frame, "req": "e"})
    error = await socket.frame_of("error")
    assert (error["error"], error["req"]) == (slug, "e"), error


async def fence(socket) -> list[dict]:
    """Every frame the socket got before a ping's pong."""
    await socket.send_frame({"type": "ping", "req": "fence"})
    frames = []
    while (frame := await socket.frame())["type"] != "pong":
        frames.append(frame)
    return frames


async def test_joining_lists_everyone_and_tells_the_others(signed_in, user, other_user):
    await make_room(user, info={"topic": "planning"})
    alice, _ = await signed_in(user)
    await join(alice)
    bob, bob_hello = await signed_in(other_user)
    joined = await join(bob)
    assert joined["member_id"] == bob_hello["device_id"]
    assert joined["room"]["info"] == {"topic": "planning"}
    assert joined["room"]["owner"]["username"] == "alice"
    assert [m["user"]["username"] for m in joined["members"]] == ["alice", "bob"]
    seen = await alice.frame_of("room.member_joined")
    assert seen["member"]["member_id"] == bob_hello["device_id"]
    assert (seen["member"]["audio"], seen["member"]["video"]) == (True, True)
    await join(bob)  # again, from the same socket: nothing new for the others
    assert not [f for f in await fence(alice) if f["type"] == "room.member_joined"]


async def test_every_room_error(signed_in, user, other_user, carol):
    await make_room(user, room_id="locked", password="s3cret")
    await make_room(user, room_id="pair", member_cap=2)
    closed = await make_room(user, room_id="gone")
    await database_sync_to_async(room_close)(room=closed)
    bob, _ = await signed_in(other_user)
    join_ = {"type": "room.join"}
    await expect_error(bob, {**join_, "room_id": "nope"}, "room_not_found")
    await expect_error(bob, {**join_, "room_id": "gone"}, "room_closed")
    await expect_error(
        bob, {**join_, "room_id": "locked", "password": "x"}, "wrong_password"
    )
    await join(bob, "locked", password="s3cret")
    await expect_error(bob, {**join_, "room_id": "bad id!"}, "invalid_field")
    await expect_error(bob, {"type": "room.leave"}, "missing_field")
    alice, _ = await signed_in(user)
    await join(alice, "pair")
    await join(bob, "pair")
    carol_socket, _ = await signed_in(carol)
    await expect_error(carol_socket, {**join_, "room_id": "pair"}, "room_full")
    for frame in (
        {"type": "room.leave", "room_id": "pair"},
        {"type": "room.message", "room_id": "pair", "text": "hi"},
        {"type": "room.media", "room_id": "pair", "audio": False, "video": True},
        {"type": "room.signal", "room_id": "pair", "to": "x", "description": OFFER},
    ):
        await expect_error(carol_socket, frame, "not_in_room")
    await expect_error(
        bob,
        {"type": "room.signal", "room_id": "pair", "to": "x", "description": OFFER},
        "member_not_found",
    )
    for frame in (
        {"type": "room.kick", "room_id": "pair", "member_id": "x"},
        {"type": "room.mute_all", "room_id": "pair"},
        {"type": "room.close", "room_id": "pair"},
    ):
        await expect_error(bob, frame, "not_room_owner")
    await expect_error(
        alice,
        {"type": "room.kick", "room_id": "pair", "member_id": "x"},
        "member_not_found",
    )
    for frame in (
        {"type": "room.message", "room_id": "pair", "text": ""},
        {"type": "room.message", "room_id": "pair", "text": "x" * 2001},
        {"type": "room.custom", "room_id": "pair", "data": {"blob": "y" * 5000}},
        {"type": "room.signal", "room_id": "pair", "to": "x"},
    ):
        await expect_error(bob, frame, "invalid_field")


async def test_signals_reach_the_named_member_of_the_same_room_only(
    signed_in, user, other_user, carol
):
    await make_room(user, room_id="a")
    await make_room(carol, room_id="b")
    alice, _ = await signed_in(user)
    bob, bob_hello = await signed_in(other_user)
    carol_socket, carol_hello = await signed_in(carol)
    alice_joined = await join(alice, "a")
    await join(bob, "a")
    await join(carol_socket, "b")
    await alice.send_frame(
        {
            "type": "room.signal",
            "room_id": "a",
            "to": bob_hello["device_id"],
            "description": OFFER,
        }
    )
    relayed = await bob.frame_of("room.signal")
    assert relayed == {
        "type": "room.signal",
        "room_id": "a",
        "from": alice_joined["member_id"],
        "description": OFFER,
    }
    # A member of room a cannot reach a member of room b, and room b hears nothing.
    await expect_error(
        alice,
        {
            "type": "room.signal",
            "room_id": "a",
            "to": carol_hello["device_id"],
            "description": OFFER,
        },
        "member_not_found",
    )
    assert not [f for f in await fence(carol_socket) if f["type"].startswith("room.")]


async def test_messages_are_stored_and_reach_every_member(signed_in, user, other_user):
    await make_room(user)
    alice, alice_hello = await signed_in(user)
    bob, _ = await signed_in(other_user)
    await join(alice)
    await join(bob)
    await alice.send_frame(
        {"type": "room.message", "room_id": "team", "text": "hello", "req": "m"}
    )
    ok = await alice.frame_of("ok")
    for socket in (alice, bob):
        message = await socket.frame_of("room.message")
        assert message["id"] == ok["id"]
        assert (message["kind"], message["text"], message["from"]["username"]) == (
            "text",
            "hello",
            "alice",
        )
        assert message["member_id"] == alice_hello["device_id"] and message["sent_at"]
    await bob.send_frame(
        {"type": "room.custom", "room_id": "team", "data": {"hand": "up"}}
    )
    custom = await alice.frame_of("room.message")
    assert (custom["kind"], custom["data"]) == ("custom", {"hand": "up"})
    kinds = [m.kind async for m in RoomMessage.objects.order_by("pk")]
    assert kinds == ["text", "custom"]


async def test_media_state_is_shared_and_stored(signed_in, user, other_user):
    await make_room(user)
    alice, alice_hello = await signed_in(user)
    bob, _ = await signed_in(other_user)
    await join(alice)
    await join(bob)
    await alice.send_frame(
        {"type": "room.media", "room_id": "team", "audio": False, "video": True}
    )
    media = await bob.frame_of("room.media")
    assert (media["member_id"], media["audio"], media["video"]) == (
        alice_hello["device_id"],
        False,
        True,
    )
    member = await Member.objects.aget(member_id=alice_hello["device_id"])
    assert (member.audio, member.video) == (False, True)


async def test_the_owner_kicks_mutes_everyone_and_closes(
    signed_in, user, other_user, carol
):
    await make_room(user)
    alice, _ = await signed_in(user)
    bob, bob_hello = await signed_in(other_user)
    carol_socket, _ = await signed_in(carol)
    for socket in (alice, bob, carol_socket):
        await join(socket)
    await alice.send_frame(
        {"type": "room.kick", "room_id": "team", "member_id": bob_hello["device_id"]}
    )
    kicked = await bob.frame_of("room.kicked")
    assert kicked["by"]["username"] == "alice"
    left = await carol_socket.frame_of("room.member_left")
    assert (left["member_id"], left["reason"]) == (bob_hello["device_id"], "kicked")
    await expect_error(
        bob, {"type": "room.message", "room_id": "team", "text": "hi"}, "not_in_room"
    )

    await alice.send_frame({"type": "room.mute_all", "room_id": "team"})
    assert (await carol_socket.frame_of("room.muted"))["by"]["username"] == "alice"
    assert not [f for f in await fence(alice) if f["type"] == "room.muted"]
    assert [
        m.audio
        async for m in Member.objects.select_related("user").order_by("user__username")
    ] == [True, False]

    await alice.send_frame({"type": "room.close", "room_id": "team"})
    for socket in (alice, carol_socket):
        assert (await socket.frame_of("room.closed"))["room_id"] == "team"
    assert (await Room.objects.aget(room_id="team")).closed_at is not None
    await expect_error(
        carol_socket, {"type": "room.join", "room_id": "team"}, "room_closed"
    )


async def test_leaving_and_closing_the_socket_tell_the_others(
    signed_in, user, other_user, carol
):
    await make_room(user)
    alice, _ = await signed_in(user)
    bob, bob_hello = await signed_in(other_user)
    carol_socket, carol_hello = await signed_in(carol)
    for socket in (alice, bob, carol_socket):
        await join(socket)
    await bob.send_frame({"type": "room.leave", "room_id": "team"})
    left = await alice.frame_of("room.member_left")
    assert (left["member_id"], left["reason"]) == (bob_hello["device_id"], "left")
    await carol_socket.disconnect()
    left = await alice.frame_of("room.member_left")
    assert (left["member_id"], left["reason"]) == (
        carol_hello["device_id"],
        "disconnected",
    )
    assert await Member.objects.acount() == 1


@override_settings(PRESENCE_HEARTBEAT=0.2)
async def test_a_member_whose_process_died_is_swept_out(signed_in, user, other_user):
    """A process that died left a membership behind with no device row; a heartbeat
    in a live process sweeps it out and the room hears the member left."""
    room = await make_room(user)
    alice, _ = await signed_in(user)
    await join(alice)
    await Member.objects.acreate(room=room, user=other_user, member_id="dead-device")
    left = await alice.frame_of("room.member_left", timeout=3)
    assert (left["member_id"], left["reason"]) == ("dead-device", "disconnected")
    assert not await Member.objects.filter(member_id="dead-device").aexists()
