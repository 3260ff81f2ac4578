"""Group call invitations (seed 004): ringing people into a room works as calls do:
busy, offline, timeout, answered elsewhere, declined; and a full room rings nobody.

Each test runs on the in-memory layer and on real Redis (the `channel_layer` fixture).
"""

import asyncio

import pytest
from channels.db import database_sync_to_async

from calls.models import Call
from calls.selectors import missed_calls
from rooms.services import room_create
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("channel_layer"),
]


@pytest.fixture
def people(db):
    """Alice (who owns the room), Bob, Carol and Dave."""
    return {
        name: UserFactory(username=name, display_name=name.capitalize())
        for name in ("alice", "bob", "carol", "dave")
    }


@database_sync_to_async
def open_room(owner, room_id="standup", **fields):
    return room_create(owner=owner, name="Stand-up", room_id=room_id, **fields)


async def enter(socket, room_id="standup") -> dict:
    await socket.send_frame({"type": "room.join", "room_id": room_id})
    return await socket.frame_of("room.joined")


async def invite(socket, *users, room_id="standup") -> dict:
    """Send room.invite; the ok or the error that answers it."""
    await socket.send_frame(
        {"type": "room.invite", "room_id": room_id, "users": list(users), "req": "i"}
    )
    while True:
        frame = await socket.frame()
        if frame["type"] in ("ok", "error") and frame.get("req") == "i":
            return frame


async def inviter_in_room(signed_in, people):
    await open_room(people["alice"])
    alice, _ = await signed_in(people["alice"])
    await enter(alice)
    return alice


@database_sync_to_async
def bill(call_id: str) -> Call:
    return Call.objects.select_related("room").get(call_id=call_id)


async def test_an_invitation_rings_every_device_with_the_room_and_the_inviter(
    signed_in, people
):
    alice = await inviter_in_room(signed_in, people)
    bob_laptop, _ = await signed_in(people["bob"])
    bob_phone, _ = await signed_in(people["bob"])

    ok = await invite(alice, "bob")

    (invitation,) = ok["invitations"]
    assert invitation["user"] == "bob"
    for socket in (bob_laptop, bob_phone):
        incoming = await socket.frame_of("call.incoming")
        assert incoming["call_id"] == invitation["call_id"]
        assert incoming["caller"]["username"] == "alice"
        assert incoming["room"] == {
            "room_id": "standup",
            "name": "Stand-up",
            "members": 1,
        }
    ringing = await alice.frame_of("call.ringing")
    assert (ringing["callee"]["username"], ringing["room"]["room_id"]) == (
        "bob",
        "standup",
    )


async def test_accepting_sends_the_invitee_into_the_room_and_stops_the_other_devices(
    signed_in, people
):
    alice = await inviter_in_room(signed_in, people)
    bob_laptop, _ = await signed_in(people["bob"])
    bob_phone, _ = await signed_in(people["bob"])
    call_id = (await invite(alice, "bob"))["invitations"][0]["call_id"]
    await bob_laptop.frame_of("call.incoming")

    await bob_laptop.send_frame({"type": "call.accept", "call_id": call_id})

    started = await bob_laptop.frame_of("call.started")
    assert (started["group"], started["room_id"]) == (True, "standup")
    told = await alice.frame_of("call.started")
    assert (told["group"], told["peer"]["username"]) == (True, "bob")
    assert (await bob_phone.frame_of("call.answered_elsewhere"))["call_id"] == call_id
    joined = await enter(bob_laptop)
    assert {m["user"]["username"] for m in joined["members"]} == {"alice", "bob"}

    call = await bill(call_id)
    assert (call.state, call.end_reason, call.room.room_id) == (
        "ended",
        "hangup",
        "standup",
    )
    assert call.answered_at is not None
    # The invitation is over: Bob is free for other calls, Alice could invite again.
    assert not await database_sync_to_async(missed_calls(user=people["bob"]).exists)()


async def test_a_declined_invitation_is_reported_to_the_inviter(signed_in, people):
    alice = await inviter_in_room(signed_in, people)
    carol, _ = await signed_in(people["carol"])
    call_id = (await invite(alice, "carol"))["invitations"][0]["call_id"]
    await carol.frame_of("call.incoming")

    await carol.send_frame({"type": "call.reject", "call_id": call_id})

    ended = await alice.frame_of("call.ended")
    assert (ended["call_id"], ended["reason"], ended["code"]) == (
        call_id,
        "reject",
        100104,
    )
    assert (await bill(call_id)).end_reason == "reject"


async def test_offline_invitees_are_reported_and_get_a_missed_call(signed_in, people):
    alice = await inviter_in_room(signed_in, people)
    call_id = (await invite(alice, "dave"))["invitations"][0]["call_id"]

    ended = await alice.frame_of("call.ended")
    assert (ended["call_id"], ended["reason"], ended["code"]) == (
        call_id,
        "offline",
        100102,
    )
    missed = await database_sync_to_async(list)(missed_calls(user=people["dave"]))
    assert [c.call_id for c in missed] == [call_id]
    assert missed[0].is_invitation


async def test_someone_ringing_or_in_a_call_is_busy(signed_in, people):
    alice = await inviter_in_room(signed_in, people)
    bob, _ = await signed_in(people["bob"])
    carol, _ = await signed_in(people["carol"])
    await carol.send_frame({"type": "call.invite", "callee": "bob", "media": "audio"})
    await bob.frame_of("call.incoming")

    ok = await invite(alice, "bob", "carol")

    ids = {i["user"]: i["call_id"] for i in ok["invitations"]}
    ended = {}
    for _ in range(2):
        frame = await alice.frame_of("call.ended")
        ended[frame["call_id"]] = (frame["reason"], frame["code"])
    assert ended == {ids["bob"]: ("busy", 100103), ids["carol"]: ("busy", 100103)}


async def test_an_invitee_ringing_in_one_invitation_is_busy_for_another(
    signed_in, people
):
    alice = await inviter_in_room(signed_in, people)
    await open_room(people["dave"], room_id="other")
    dave, _ = await signed_in(people["dave"])
    await enter(dave, "other")
    await signed_in(people["bob"])
    await invite(alice, "bob")
    ok = await invite(dave, "bob", room_id="other")
    ended = await dave.frame_of("call.ended")
    assert (ended["call_id"], ended["reason"]) == (
        ok["invitations"][0]["call_id"],
        "busy",
    )


async def test_an_unanswered_invitation_times_out(settings, signed_in, people):
    settings.CALL_RING_TIMEOUT = 0.3
    alice = await inviter_in_room(signed_in, people)
    bob, _ = await signed_in(people["bob"])
    call_id = (await invite(alice, "bob"))["invitations"][0]["call_id"]
    await bob.frame_of("call.incoming")

    for socket in (alice, bob):
        ended = await socket.frame_of("call.ended", timeout=3)
        assert (ended["call_id"], ended["reason"], ended["code"]) == (
            call_id,
            "timeout",
            100105,
        )


async def test_the_inviter_may_cancel_an_invitation(signed_in, people):
    alice = await inviter_in_room(signed_in, people)
    bob, _ = await signed_in(people["bob"])
    call_id = (await invite(alice, "bob"))["invitations"][0]["call_id"]
    await bob.frame_of("call.incoming")
    await alice.send_frame({"type": "call.cancel", "call_id": call_id})
    assert (await bob.frame_of("call.ended"))["reason"] == "cancel"


async def test_several_invitations_ring_at_once(signed_in, people):
    alice = await inviter_in_room(signed_in, people)
    sockets = {n: (await signed_in(people[n]))[0] for n in ("bob", "carol", "dave")}
    ok = await invite(alice, "bob", "carol", "dave")
    assert [i["user"] for i in ok["invitations"]] == ["bob", "carol", "dave"]
    incoming = await asyncio.gather(
        *(s.frame_of("call.incoming") for s in sockets.values())
    )
    assert len({f["call_id"] for f in incoming}) == 3


@pytest.mark.parametrize(
    ("case", "slug"),
    [
        ("full", "room_full"),
        ("unknown", "user_not_found"),
        ("self", "cannot_call_self"),
        ("member", "already_in_room"),
        ("outsider", "not_in_room"),
        ("not-owner", "not_room_owner"),
        ("no-room", "room_not_found"),
    ],
)
async def test_a_refused_invitation_rings_nobody(case, slug, signed_in, people):
    await open_room(
        people["alice"],
        member_cap=2 if case == "full" else 6,
        inviters="owner" if case == "not-owner" else "members",
    )
    alice, _ = await signed_in(people["alice"])
    bob, _ = await signed_in(people["bob"])
    carol, _ = await signed_in(people["carol"])
    await enter(alice)
    inviter, users, room_id = alice, ["carol"], "standup"
    if case == "full":
        users = ["bob", "carol"]  # one place left, two invitees
    elif case == "unknown":
        users = ["carol", "nobody"]
    elif case == "self":
        users = ["alice"]
    elif case == "member":
        await enter(carol)
    elif case == "outsider":
        inviter = bob
    elif case == "not-owner":
        await enter(bob)
        inviter = bob
    elif case == "no-room":
        room_id = "nowhere"

    answer = await invite(inviter, *users, room_id=room_id)

    assert (answer["type"], answer["error"]) == ("error", slug)
    assert answer["message"]
    assert await carol.receive_nothing(timeout=0.2)
    assert not await Call.objects.aexists()


@pytest.mark.parametrize(
    ("fields", "slug"),
    [
        ({}, "missing_field"),
        ({"users": []}, "invalid_field"),
        ({"users": "bob"}, "invalid_field"),
        ({"users": [f"u{n}" for n in range(17)]}, "invalid_field"),
        ({"users": ["bob"], "media": "hologram"}, "invalid_field"),
        ({"users": ["bob"], "room_id": "has space"}, "invalid_field"),
    ],
    ids=["no-users", "empty", "not-a-list", "seventeen", "bad-media", "bad-room-id"],
)
async def test_a_malformed_invitation_is_an_error_frame(
    fields, slug, signed_in, people
):
    alice = await inviter_in_room(signed_in, people)
    await alice.send_frame(
        {"type": "room.invite", "room_id": "standup", "req": "i", **fields}
    )
    error = await alice.frame_of("error")
    assert (error["req"], error["error"]) == ("i", slug)
    await alice.send_frame({"type": "ping", "req": "p"})
    assert (await alice.frame_of("pong"))["req"] == "p"  # the socket goes on
    assert not await Call.objects.aexists()
