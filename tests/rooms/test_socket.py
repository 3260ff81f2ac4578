"""Rooms on the socket: joining, every room error, leaving (three ways), signalling
inside one room only, chat, media state and the owner's moderation.

Each test runs on the in-memory layer and on real Redis (the `channel_layer` fixture).
"""

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from accounts.models import Device
from accounts.services import device_connect
from calls import heartbeat
from rooms.models import Member, Room, RoomMessage
from rooms.services import room_close, room_create, room_join
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("channel_layer"),
]

OFFER = {"type": "offer", "sdp": "v=0\r\n"}
CANDIDATE = {"candidate": "candidate:1 1 udp 1 127.0.0.1 5000 typ host", "sdpMid": "0"}


@pytest.fixture(autouse=True)
def cheap_passwords(settings):
    """Users and room passwords hash fast: these tests are about the socket."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def carol(db):
    return UserFactory(username="carol", display_name="Carol")


def person(user) -> dict:
    """A user as frames show them."""
    return {"id": user.pk, "username": user.username, "display_name": user.shown_name}


@database_sync_to_async
def open_room(owner, room_id="standup", **fields) -> Room:
    return room_create(owner=owner, name="Standup", room_id=room_id, **fields)


async def join(socket, room_id="standup", **fields) -> dict:
    """Join; the `room.joined` that follows the ok."""
    await socket.send_frame(
        {"type": "room.join", "room_id": room_id, "req": "j", **fields}
    )
    ok = await socket.frame_of("ok")
    assert (ok["req"], ok["room_id"]) == ("j", room_id), ok
    joined = await socket.frame_of("room.joined")
    assert joined["member_id"] == ok["member_id"]
    return joined


async def in_room(signed_in, *users, room_id="standup"):
    """A signed-in socket per user, each joined to the room in turn, past the
    `room.member_joined` frames that the later ones caused; with their hellos."""
    sockets, hellos = [], []
    for user in users:
        socket, hello = await signed_in(user)
        await join(socket, room_id)
        for earlier in sockets:
            await earlier.frame_of("room.member_joined")
        sockets.append(socket)
        hellos.append(hello)
    return sockets, hellos


async def expect_error(socket, frame, slug) -> dict:
    await socket.send_frame({**frame, "req": "e"})
    error = await socket.frame_of("error")
    assert (error["error"], error["req"]) == (slug, "e"), error
    return error


def types(frames) -> list[str]:
    return [frame["type"] for frame in frames if frame["type"] != "presence"]


async def say(socket, text, room_id="standup") -> None:
    """Post a chat text (its ok comes to the sender before its `room.message`).

    Sent through the channel layer like every room frame, its `room.message`
    reaches each member after every room frame sent before it: a fence."""
    await socket.send_frame(
        {"type": "room.message", "room_id": room_id, "text": text, "req": "say"}
    )


# --- joining --------------------------------------------------------------------------


async def test_joining_answers_with_the_member_id_and_shows_the_room(signed_in, user):
    """The member id is the socket's device id; `room.joined` has the room and its
    members, the newcomer included."""
    await open_room(user, info={"topic": "daily"}, member_cap=4)
    alice, hello = await signed_in(user)
    await alice.send_frame({"type": "room.join", "room_id": "standup", "req": "j"})
    assert await alice.frame() == {
        "type": "ok",
        "req": "j",
        "room_id": "standup",
        "member_id": hello["device_id"],
    }
    me = {
        "member_id": hello["device_id"],
        "user": person(user),
        "audio": True,
        "video": True,
    }
    assert await alice.frame_of("room.joined") == {
        "type": "room.joined",
        "room_id": "standup",
        "member_id": hello["device_id"],
        "room": {
            "room_id": "standup",
            "name": "Standup",
            "info": {"topic": "daily"},
            "owner": person(user),
            "member_cap": 4,
        },
        "members": [me],
    }
    member = await Member.objects.select_related("user").aget()
    assert (member.member_id, member.user) == (hello["device_id"], user)


async def test_the_members_hear_who_joined_and_the_newcomer_sees_them(
    signed_in, user, other_user
):
    """`room.joined` lists everyone in join order; the others get the newcomer as
    `room.member_joined`, and the newcomer does not hear about itself."""
    await open_room(user)
    (alice,), (alice_hello,) = await in_room(signed_in, user)
    bob, bob_hello = await signed_in(other_user)
    joined = await join(bob)
    bob_member = {
        "member_id": bob_hello["device_id"],
        "user": person(other_user),
        "audio": True,
        "video": True,
    }
    assert joined["members"] == [
        {
            "member_id": alice_hello["device_id"],
            "user": person(user),
            "audio": True,
            "video": True,
        },
        bob_member,
    ]
    assert await alice.frame_of("room.member_joined") == {
        "type": "room.member_joined",
        "room_id": "standup",
        "member": bob_member,
    }
    await say(bob, "hi all")
    not_to_oneself = ["ok", "room.message"]
    assert types(await bob.frames_until("room.message")) == not_to_oneself


async def test_joining_again_from_the_same_socket_changes_nothing(
    signed_in, user, other_user
):
    """The second join is answered like the first, and the others hear nothing."""
    await open_room(user)
    (alice, bob), (_, bob_hello) = await in_room(signed_in, user, other_user)
    again = await join(bob)
    assert again["member_id"] == bob_hello["device_id"]
    assert len(again["members"]) == 2
    await say(bob, "still here")
    assert types(await alice.frames_until("room.message")) == ["room.message"]
    assert await Member.objects.acount() == 2


# --- errors ---------------------------------------------------------------------------


async def test_only_an_open_existing_room_can_be_joined(signed_in, user):
    """An unknown id is `room_not_found`; a room the service closed, `room_closed`."""
    closed = await open_room(user, room_id="yesterday")
    await database_sync_to_async(room_close)(room=closed)
    alice, _ = await signed_in(user)
    error = await expect_error(
        alice, {"type": "room.join", "room_id": "nowhere"}, "room_not_found"
    )
    assert error["code"] == 4046
    error = await expect_error(
        alice, {"type": "room.join", "room_id": "yesterday"}, "room_closed"
    )
    assert error["code"] == 4091
    assert await Member.objects.acount() == 0


async def test_a_room_with_a_password_wants_the_right_one(signed_in, user, other_user):
    """No password or a wrong one is `wrong_password` and joins nobody."""
    await open_room(user, password="open sesame")
    bob, _ = await signed_in(other_user)
    join_ = {"type": "room.join", "room_id": "standup"}
    error = await expect_error(bob, join_, "wrong_password")
    assert error["code"] == 4033
    await expect_error(bob, {**join_, "password": "open barley"}, "wrong_password")
    assert await Member.objects.acount() == 0
    await join(bob, password="open sesame")


async def test_a_full_room_turns_the_next_member_away(
    signed_in, user, other_user, carol
):
    """With `member_cap` members in, the next socket gets `room_full`."""
    await open_room(user, member_cap=2)
    await in_room(signed_in, user, other_user)
    carol_socket, _ = await signed_in(carol)
    error = await expect_error(
        carol_socket, {"type": "room.join", "room_id": "standup"}, "room_full"
    )
    assert error["code"] == 4092
    assert await Member.objects.acount() == 2


async def test_a_socket_not_in_the_room_cannot_act_in_it(signed_in, user, other_user):
    """Another device of a member is not a member either."""
    await open_room(user)
    (_,), (alice_hello,) = await in_room(signed_in, user)
    for outsider in [(await signed_in(other_user))[0], (await signed_in(user))[0]]:
        for frame in (
            {"type": "room.leave"},
            {"type": "room.message", "text": "hi"},
            {"type": "room.custom", "data": {"hand": "up"}},
            {"type": "room.media", "audio": False, "video": False},
            {
                "type": "room.signal",
                "to": alice_hello["device_id"],
                "description": OFFER,
            },
        ):
            error = await expect_error(
                outsider, {**frame, "room_id": "standup"}, "not_in_room"
            )
            assert error["code"] == 4031
    assert await RoomMessage.objects.acount() == 0
    assert await Member.objects.acount() == 1


async def test_a_signal_to_someone_not_in_the_room_is_refused(
    signed_in, user, other_user
):
    """A stranger, oneself, and a member who left are all `member_not_found`."""
    await open_room(user)
    (alice, bob), (alice_hello, bob_hello) = await in_room(signed_in, user, other_user)
    signal = {"type": "room.signal", "room_id": "standup", "candidate": CANDIDATE}
    for to in ("0" * 32, alice_hello["device_id"]):  # a stranger; oneself
        error = await expect_error(alice, {**signal, "to": to}, "member_not_found")
        assert error["code"] == 4047
    await bob.send_frame({"type": "room.leave", "room_id": "standup"})
    await alice.frame_of("room.member_left")
    await expect_error(
        alice, {**signal, "to": bob_hello["device_id"]}, "member_not_found"
    )


async def test_only_the_owner_moderates(signed_in, user, other_user):
    """A member who is not the owner cannot kick, mute everyone or close; nothing
    changes and nobody hears of it."""
    await open_room(user)
    (alice, bob), (alice_hello, _) = await in_room(signed_in, user, other_user)
    for frame in (
        {"type": "room.kick", "member_id": alice_hello["device_id"]},
        {"type": "room.mute_all"},
        {"type": "room.close"},
    ):
        error = await expect_error(
            bob, {**frame, "room_id": "standup"}, "not_room_owner"
        )
        assert error["code"] == 4032
    await say(bob, "sorry")
    assert types(await alice.frames_until("room.message")) == ["room.message"]
    assert [m.audio async for m in Member.objects.all()] == [True, True]
    assert (await Room.objects.aget()).closed_at is None
    await expect_error(
        alice,
        {"type": "room.kick", "room_id": "standup", "member_id": "0" * 32},
        "member_not_found",
    )


BAD_FRAMES = [
    # (what is wrong, the frame, its error slug, the field named)
    (
        "a room id with a space",
        {"type": "room.join", "room_id": "stand up"},
        "invalid_field",
        "room_id",
    ),
    (
        "a room id too long",
        {"type": "room.leave", "room_id": "r" * 65},
        "invalid_field",
        "room_id",
    ),
    ("no room id", {"type": "room.join"}, "missing_field", "room_id"),
    (
        "an empty text",
        {"type": "room.message", "room_id": "standup", "text": ""},
        "invalid_field",
        "text",
    ),
    (
        "a text over 2000 characters",
        {"type": "room.message", "room_id": "standup", "text": "x" * 2001},
        "invalid_field",
        "text",
    ),
    (
        "no text",
        {"type": "room.message", "room_id": "standup"},
        "missing_field",
        "text",
    ),
    (
        "custom data over 4096 bytes",
        {"type": "room.custom", "room_id": "standup", "data": {"blob": "y" * 4096}},
        "invalid_field",
        None,
    ),
    (
        "no custom data",
        {"type": "room.custom", "room_id": "standup"},
        "missing_field",
        "data",
    ),
    (
        "a signal with a description and a candidate",
        {
            "type": "room.signal",
            "room_id": "standup",
            "to": "x",
            "description": OFFER,
            "candidate": CANDIDATE,
        },
        "invalid_field",
        None,
    ),
    (
        "a signal with neither",
        {"type": "room.signal", "room_id": "standup", "to": "x"},
        "invalid_field",
        None,
    ),
    (
        "a signal to nobody",
        {"type": "room.signal", "room_id": "standup", "description": OFFER},
        "missing_field",
        "to",
    ),
    (
        "media without video",
        {"type": "room.media", "room_id": "standup", "audio": True},
        "missing_field",
        "video",
    ),
    (
        "a kick of nobody",
        {"type": "room.kick", "room_id": "standup"},
        "missing_field",
        "member_id",
    ),
]


async def test_malformed_room_frames_are_refused_before_anything_happens(
    signed_in, user
):
    """Members get the same answer as anyone: the frame is checked first."""
    await open_room(user)
    (alice,), _ = await in_room(signed_in, user)
    for what, frame, slug, field in BAD_FRAMES:
        error = await expect_error(alice, frame, slug)
        assert error.get("field") == field, what
    assert await RoomMessage.objects.acount() == 0


# --- leaving --------------------------------------------------------------------------


async def test_a_member_who_leaves_is_gone_for_the_others(
    signed_in, user, other_user, carol
):
    """`room.leave`: the others get `room.member_left` with reason `left`."""
    await open_room(user)
    (alice, bob, carol_socket), (_, bob_hello, _) = await in_room(
        signed_in, user, other_user, carol
    )
    await bob.send_frame({"type": "room.leave", "room_id": "standup", "req": "l"})
    assert await bob.frame_of("ok") == {"type": "ok", "req": "l"}
    for socket in (alice, carol_socket):
        assert await socket.frame_of("room.member_left") == {
            "type": "room.member_left",
            "room_id": "standup",
            "member_id": bob_hello["device_id"],
            "reason": "left",
        }
    assert not await Member.objects.filter(member_id=bob_hello["device_id"]).aexists()
    await expect_error(
        bob, {"type": "room.message", "room_id": "standup", "text": "hi"}, "not_in_room"
    )


async def test_a_member_whose_socket_closes_has_disconnected(
    signed_in, user, other_user
):
    """Closing the socket leaves the room with reason `disconnected`."""
    await open_room(user)
    (alice, bob), (_, bob_hello) = await in_room(signed_in, user, other_user)
    await bob.disconnect()
    assert await alice.frame_of("room.member_left") == {
        "type": "room.member_left",
        "room_id": "standup",
        "member_id": bob_hello["device_id"],
        "reason": "disconnected",
    }
    assert await Member.objects.acount() == 1


async def stale(device_id, settings) -> None:
    """The device row as a process that died leaves it: nobody refreshes it."""
    long_ago = timezone.now() - timedelta(seconds=settings.PRESENCE_STALE_AFTER + 60)
    await Device.objects.filter(device_id=device_id).aupdate(last_seen=long_ago)


async def test_a_member_whose_process_died_is_swept_out_by_the_heartbeat(
    signed_in, settings, user, other_user
):
    """Bob is in the room through a process that died: his device and member rows
    are there, and nobody refreshes them. Alice's process beats every 0.2 s: its
    sweep takes them away, and the room hears Bob left, `disconnected`."""
    settings.PRESENCE_HEARTBEAT = 0.2
    await open_room(user)
    await database_sync_to_async(device_connect)(
        user=other_user, device_id="bobs-dead", channel_name="specific.dead!1"
    )
    await database_sync_to_async(room_join)(
        user=other_user, device_id="bobs-dead", room_id="standup"
    )
    await stale("bobs-dead", settings)
    alice, _ = await signed_in(user)
    await join(alice)
    assert await alice.frame_of("room.member_left", timeout=3) == {
        "type": "room.member_left",
        "room_id": "standup",
        "member_id": "bobs-dead",
        "reason": "disconnected",
    }
    assert not await Member.objects.filter(member_id="bobs-dead").aexists()


async def test_a_swept_member_that_joins_again_is_announced_again(
    signed_in, settings, user, other_user
):
    """Another process's sweep took Bob's rows while his socket lived; when he joins
    again, the others are told (and can signal him again)."""
    await open_room(user)
    (alice, bob), (_, bob_hello) = await in_room(signed_in, user, other_user)
    await stale(bob_hello["device_id"], settings)
    await heartbeat.sweep()  # as the other process's heartbeat does
    assert (await alice.frame_of("room.member_left"))["reason"] == "disconnected"
    await join(bob)
    await say(bob, "back")
    announced = [
        frame["member"]["member_id"]
        for frame in await alice.frames_until("room.message")
        if frame["type"] == "room.member_joined"
    ]
    assert announced == [bob_hello["device_id"]]


# --- signalling -----------------------------------------------------------------------


async def test_a_signal_reaches_the_named_member_only(
    signed_in, user, other_user, carol
):
    """`room.signal` goes to the member named in `to`, marked `from` the sender's
    member id; a third member of the same room gets nothing."""
    await open_room(user)
    (alice, bob, carol_socket), hellos = await in_room(
        signed_in, user, other_user, carol
    )
    alice_id, bob_id, _ = (hello["device_id"] for hello in hellos)
    await alice.send_frame(
        {
            "type": "room.signal",
            "room_id": "standup",
            "to": bob_id,
            "description": OFFER,
        }
    )
    assert await bob.frame_of("room.signal") == {
        "type": "room.signal",
        "room_id": "standup",
        "from": alice_id,
        "description": OFFER,
    }
    await bob.send_frame(
        {
            "type": "room.signal",
            "room_id": "standup",
            "to": alice_id,
            "candidate": CANDIDATE,
            "req": "s",
        }
    )
    assert await bob.frame_of("ok") == {"type": "ok", "req": "s"}
    assert await alice.frame_of("room.signal") == {
        "type": "room.signal",
        "room_id": "standup",
        "from": bob_id,
        "candidate": CANDIDATE,
    }
    assert "room.signal" not in types(await carol_socket.fenced())


async def test_rooms_are_sealed_from_each_other(signed_in, user, other_user, carol):
    """Alice and Bob are in one room, Carol in another: Alice cannot signal Carol,
    and nothing said or done in Alice's room reaches Carol."""
    await open_room(user, room_id="north")
    await open_room(carol, room_id="south")
    (alice, bob), (_, bob_hello) = await in_room(
        signed_in, user, other_user, room_id="north"
    )
    (carol_socket,), (carol_hello,) = await in_room(signed_in, carol, room_id="south")
    signal = {"type": "room.signal", "description": OFFER}
    await expect_error(
        alice,
        {**signal, "room_id": "north", "to": carol_hello["device_id"]},
        "member_not_found",
    )
    await expect_error(
        alice,
        {**signal, "room_id": "south", "to": carol_hello["device_id"]},
        "not_in_room",
    )
    await alice.send_frame({**signal, "room_id": "north", "to": bob_hello["device_id"]})
    await alice.send_frame(
        {"type": "room.media", "room_id": "north", "audio": False, "video": False}
    )
    await alice.send_frame({"type": "room.mute_all", "room_id": "north"})
    await say(alice, "north only", room_id="north")
    await bob.frame_of("room.message")
    assert types(await carol_socket.fenced()) == []


# --- messages and media ---------------------------------------------------------------


async def test_a_text_is_stored_and_reaches_every_member(signed_in, user, other_user):
    """A RoomMessage row; `ok {id}`; `room.message` to every member, sender too."""
    await open_room(user)
    (alice, bob), (alice_hello, _) = await in_room(signed_in, user, other_user)
    await say(alice, "good morning")
    ok = await alice.frame_of("ok")
    stored = await RoomMessage.objects.select_related("room", "sender").aget()
    assert ok == {"type": "ok", "req": "say", "id": stored.pk}
    assert (stored.room.room_id, stored.sender, stored.member_id) == (
        "standup",
        user,
        alice_hello["device_id"],
    )
    assert (stored.kind, stored.text, stored.data) == ("text", "good morning", None)
    for socket in (alice, bob):  # the sender too
        assert await socket.frame_of("room.message") == {
            "type": "room.message",
            "room_id": "standup",
            "id": stored.pk,
            "from": person(user),
            "member_id": alice_hello["device_id"],
            "kind": "text",
            "text": "good morning",
            "sent_at": stored.sent_at.isoformat(),
        }


async def test_custom_data_is_stored_and_reaches_every_member(
    signed_in, user, other_user
):
    """`room.custom` carries any JSON as `data`, stored and sent like a text."""
    await open_room(user)
    (alice, bob), (_, bob_hello) = await in_room(signed_in, user, other_user)
    data = {"hand": "up", "queue": [1, 2], "nested": {"ok": True}}
    await bob.send_frame(
        {"type": "room.custom", "room_id": "standup", "data": data, "req": "c"}
    )
    ok = await bob.frame_of("ok")
    stored = await RoomMessage.objects.aget()
    assert ok == {"type": "ok", "req": "c", "id": stored.pk}
    assert (stored.kind, stored.text, stored.data) == ("custom", "", data)
    for socket in (alice, bob):
        assert await socket.frame_of("room.message") == {
            "type": "room.message",
            "room_id": "standup",
            "id": stored.pk,
            "from": person(other_user),
            "member_id": bob_hello["device_id"],
            "kind": "custom",
            "data": data,
            "sent_at": stored.sent_at.isoformat(),
        }


async def test_media_state_goes_to_the_others_and_is_stored(
    signed_in, user, other_user, carol
):
    """The others get `room.media` (not the sender); the Member row keeps it."""
    await open_room(user)
    (alice, bob, carol_socket), (alice_hello, _, _) = await in_room(
        signed_in, user, other_user, carol
    )
    await alice.send_frame(
        {
            "type": "room.media",
            "room_id": "standup",
            "audio": False,
            "video": True,
            "req": "m",
        }
    )
    assert await alice.frame_of("ok") == {"type": "ok", "req": "m"}
    for socket in (bob, carol_socket):
        assert await socket.frame_of("room.media") == {
            "type": "room.media",
            "room_id": "standup",
            "member_id": alice_hello["device_id"],
            "audio": False,
            "video": True,
        }
    await say(alice, "can you see me")
    not_echoed = ["ok", "room.message"]
    assert types(await alice.frames_until("room.message")) == not_echoed
    member = await Member.objects.aget(member_id=alice_hello["device_id"])
    assert (member.audio, member.video) == (False, True)


# --- moderation -----------------------------------------------------------------------


async def test_the_owner_kicks_a_member_out(signed_in, user, other_user, carol):
    """The kicked socket gets `room.kicked` and is out of the room (no frames, no
    acting in it); the others hear `member_left` with reason `kicked`."""
    await open_room(user)
    (alice, bob, carol_socket), (alice_hello, bob_hello, _) = await in_room(
        signed_in, user, other_user, carol
    )
    await alice.send_frame(
        {
            "type": "room.kick",
            "room_id": "standup",
            "member_id": bob_hello["device_id"],
            "req": "k",
        }
    )
    assert await alice.frame_of("ok") == {"type": "ok", "req": "k"}
    assert await bob.frame_of("room.kicked") == {
        "type": "room.kicked",
        "room_id": "standup",
        "by": person(user),
    }
    for socket in (alice, carol_socket):
        assert await socket.frame_of("room.member_left") == {
            "type": "room.member_left",
            "room_id": "standup",
            "member_id": bob_hello["device_id"],
            "reason": "kicked",
        }
    assert not await Member.objects.filter(member_id=bob_hello["device_id"]).aexists()
    await expect_error(
        bob,
        {"type": "room.message", "room_id": "standup", "text": "hey"},
        "not_in_room",
    )
    await expect_error(
        bob,
        {
            "type": "room.signal",
            "room_id": "standup",
            "to": alice_hello["device_id"],
            "description": OFFER,
        },
        "not_in_room",
    )
    await say(alice, "carry on")
    assert "room.message" not in types(await bob.fenced()), "out of the room's group"


async def test_mute_all_mutes_every_member_but_the_owner(
    signed_in, user, other_user, carol
):
    """Every other member gets `room.muted` and has its microphone off in the
    database; the owner gets nothing and keeps its microphone."""
    await open_room(user)
    (alice, bob, carol_socket), (alice_hello, _, _) = await in_room(
        signed_in, user, other_user, carol
    )
    await alice.send_frame({"type": "room.mute_all", "room_id": "standup", "req": "m"})
    assert await alice.frame_of("ok") == {"type": "ok", "req": "m"}
    for socket in (bob, carol_socket):
        assert await socket.frame_of("room.muted") == {
            "type": "room.muted",
            "room_id": "standup",
            "by": person(user),
        }
    await say(alice, "quiet please")
    assert types(await alice.frames_until("room.message")) == ["ok", "room.message"]
    audio = {m.member_id: m.audio async for m in Member.objects.all()}
    assert audio.pop(alice_hello["device_id"]) is True
    assert list(audio.values()) == [False, False]


async def test_mute_all_spares_every_tab_of_the_owner(signed_in, user, other_user):
    """The owner's other socket in the room is the owner too: not told, not muted."""
    await open_room(user)
    (alice, alice_tab2, _), (_, tab2_hello, _) = await in_room(
        signed_in, user, user, other_user
    )
    await alice.send_frame({"type": "room.mute_all", "room_id": "standup"})
    await say(alice, "quiet please")
    seen = types(await alice_tab2.frames_until("room.message"))
    member = await Member.objects.aget(member_id=tab2_hello["device_id"])
    assert (seen, member.audio) == (["room.message"], True)


async def test_the_owner_closes_the_room_for_everyone(
    signed_in, user, other_user, carol
):
    """Everyone in it, the owner too, gets `room.closed`; the room stays closed."""
    await open_room(user)
    (alice, bob), _ = await in_room(signed_in, user, other_user)
    await alice.send_frame({"type": "room.close", "room_id": "standup", "req": "c"})
    assert await alice.frame_of("ok") == {"type": "ok", "req": "c"}
    for socket in (alice, bob):
        assert await socket.frame_of("room.closed") == {
            "type": "room.closed",
            "room_id": "standup",
        }
    room = await Room.objects.aget()
    assert room.closed_at is not None and not room.is_open
    assert await Member.objects.acount() == 0
    carol_socket, _ = await signed_in(carol)
    for socket in (carol_socket, bob, alice):
        await expect_error(
            socket, {"type": "room.join", "room_id": "standup"}, "room_closed"
        )
    await expect_error(
        bob,
        {"type": "room.message", "room_id": "standup", "text": "hi?"},
        "not_in_room",
    )
