"""1:1 calls over the socket: ringing, answers, every end reason, errors, isolation.

Each test runs on the in-memory layer and on real Redis (the `channel_layer` fixture).
"""

import asyncio
import time
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.test import override_settings

from accounts.models import Device
from calls.delivery import deliver
from calls.models import Call, LiveParty
from calls.services import call_force_end, calls_reap_orphans, calls_tick_due
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("channel_layer"),
]


@pytest.fixture
def carol(db):
    return UserFactory(username="carol", display_name="Carol")


async def invite(socket, callee="bob", media="video", **fields) -> str:
    await socket.send_frame(
        {"type": "call.invite", "callee": callee, "media": media, "req": "i", **fields}
    )
    ok = await socket.frame_of("ok")
    assert ok["req"] == "i"
    return ok["call_id"]


async def bill(call_id) -> Call:
    return await Call.objects.aget(call_id=call_id)


async def ringing_call(signed_in, user, other_user):
    """Alice calls Bob; both sockets, past `call.ringing` / `call.incoming`."""
    alice, _ = await signed_in(user)
    bob, bob_hello = await signed_in(other_user)
    call_id = await invite(alice)
    assert await alice.frame_of("call.ringing") == {
        "type": "call.ringing",
        "call_id": call_id,
        "callee": {"id": other_user.pk, "username": "bob", "display_name": "Bob"},
        "media": "video",
        "flags": 0x02,
    }
    incoming = await bob.frame_of("call.incoming")
    assert incoming["call_id"] == call_id
    return alice, bob, call_id, bob_hello


async def active_call(signed_in, user, other_user):
    alice, bob, call_id, _ = await ringing_call(signed_in, user, other_user)
    await bob.send_frame({"type": "call.accept", "call_id": call_id})
    await alice.frame_of("call.started")
    await bob.frame_of("call.started")
    return alice, bob, call_id


async def heard_of_no_call(socket) -> None:
    """Ping the socket; nothing it hears before the pong may be about a call (what
    comes first is presence chatter, in no set order)."""
    for frame in await socket.fenced():
        assert not frame["type"].startswith("call."), frame


async def ended(socket, call_id) -> dict:
    frame = await socket.frame_of("call.ended", timeout=3)
    assert frame["call_id"] == call_id
    return frame


# --- the happy path ---------------------------------------------------------------------


async def test_invite_rings_the_callee_with_who_calls_and_how(
    signed_in, user, other_user
):
    alice, _ = await signed_in(user)
    bob, _ = await signed_in(other_user)
    call_id = await invite(alice, media="audio", flags=0x40, user_data='{"topic":"hi"}')
    await alice.frame_of("call.ringing")
    incoming = await bob.frame_of("call.incoming")
    assert incoming == {
        "type": "call.incoming",
        "call_id": call_id,
        "caller": {"id": user.pk, "username": "alice", "display_name": "Alice"},
        "media": "audio",
        "flags": 0x41,  # the media's flag (0x01 audio) is added to the forbid flag
        "user_data": '{"topic":"hi"}',
    }
    call = await bill(call_id)
    assert (call.state, call.media, call.flags) == ("ringing", "audio", 0x41)
    assert await LiveParty.objects.acount() == 2


async def test_accept_starts_the_call_on_both_answering_devices(
    signed_in, user, other_user
):
    alice, bob, call_id, bob_hello = await ringing_call(signed_in, user, other_user)
    await bob.send_frame({"type": "call.accept", "call_id": call_id, "req": "a"})
    assert await bob.frame_of("ok") == {"type": "ok", "req": "a"}
    at_alice = await alice.frame_of("call.started")
    at_bob = await bob.frame_of("call.started")
    assert at_alice["peer"]["username"] == "bob"
    assert at_alice["peer"]["device_id"] == bob_hello["device_id"]
    assert at_bob["peer"]["username"] == "alice"
    assert (at_alice["polite"], at_bob["polite"]) == (False, True)
    assert at_alice["room_id"] == at_bob["room_id"] == call_id
    call = await bill(call_id)
    assert call.state == "active" and call.answered_at is not None


async def test_hangup_ends_the_call_for_both_with_its_duration(
    signed_in, user, other_user
):
    alice, bob, call_id = await active_call(signed_in, user, other_user)
    # Pretend the conversation took three seconds.
    answered_at = (await bill(call_id)).answered_at - timedelta(seconds=3)
    await Call.objects.filter(call_id=call_id).aupdate(answered_at=answered_at)
    await bob.send_frame({"type": "call.hangup", "call_id": call_id})
    for socket in (alice, bob):
        frame = await ended(socket, call_id)
        assert (frame["reason"], frame["code"]) == ("hangup", 0)
        assert frame["duration_s"] >= 3
    call = await bill(call_id)
    assert (call.state, call.end_reason, call.end_code) == ("ended", "hangup", 0)
    assert call.duration_s >= 3
    assert await LiveParty.objects.acount() == 0


# --- every end reason and code -----------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "frame_type", "reason", "code"),
    [
        ("bob", "call.reject", "reject", 100104),
        ("alice", "call.cancel", "cancel", 100101),
        ("alice", "call.hangup", "cancel", 100101),  # hanging up a ringing call
        ("bob", "call.hangup", "reject", 100104),
    ],
)
async def test_a_ringing_call_ends_for_everyone_involved(
    signed_in, user, other_user, who, frame_type, reason, code
):
    alice, bob, call_id, _ = await ringing_call(signed_in, user, other_user)
    sockets = {"alice": alice, "bob": bob}
    await sockets[who].send_frame({"type": frame_type, "call_id": call_id})
    for socket in (alice, bob):
        frame = await ended(socket, call_id)
        assert (frame["reason"], frame["code"], frame["duration_s"]) == (
            reason,
            code,
            0,
        )
    assert (await bill(call_id)).end_code == code


async def test_calling_someone_offline_ends_offline_and_is_billed(
    signed_in, user, other_user
):
    alice, _ = await signed_in(user)
    call_id = await invite(alice)
    frame = await ended(alice, call_id)
    assert (frame["reason"], frame["code"]) == ("offline", 100102)
    call = await bill(call_id)
    assert (call.state, call.end_reason) == ("ended", "offline")


async def test_calling_someone_in_a_call_ends_busy(signed_in, user, other_user, carol):
    """Busy holds whichever side of their call the callee is on."""
    await active_call(signed_in, user, other_user)
    carol_socket, _ = await signed_in(carol)
    for callee in ("bob", "alice"):
        call_id = await invite(carol_socket, callee=callee)
        frame = await ended(carol_socket, call_id)
        assert (frame["reason"], frame["code"]) == ("busy", 100103)
        assert (await bill(call_id)).end_reason == "busy"


@override_settings(CALL_RING_TIMEOUT=0.3)
async def test_an_unanswered_call_times_out(signed_in, user, other_user):
    alice, bob, call_id, _ = await ringing_call(signed_in, user, other_user)
    for socket in (alice, bob):
        frame = await ended(socket, call_id)
        assert (frame["reason"], frame["code"]) == ("timeout", 100105)


@override_settings(CALL_DISCONNECT_GRACE=0.3)
async def test_a_party_whose_socket_closes_ends_the_call_after_the_grace(
    signed_in, user, other_user
):
    alice, bob, call_id = await active_call(signed_in, user, other_user)
    await alice.disconnect()
    frame = await ended(bob, call_id)
    assert (frame["reason"], frame["code"]) == ("disconnect", 100106)
    assert (await bill(call_id)).end_reason == "disconnect"


@override_settings(CALL_DISCONNECT_GRACE=5)
async def test_a_party_back_within_the_grace_keeps_the_call(
    signed_in, user, other_user
):
    """A new socket of the lost party takes its place; both connect media anew."""
    alice, bob, call_id = await active_call(signed_in, user, other_user)
    await alice.disconnect()
    alice_again, hello = await signed_in(user)
    restarted = await alice_again.frame_of("call.started")
    assert restarted["call_id"] == call_id and restarted["polite"] is False
    at_bob = await bob.frame_of("call.started")
    assert at_bob["peer"]["device_id"] == hello["device_id"]
    call = await bill(call_id)
    assert (call.state, call.gone_deadline) == ("active", None)
    await bob.send_frame({"type": "call.hangup", "call_id": call_id})
    assert (await ended(alice_again, call_id))["reason"] == "hangup"


@override_settings(CALL_DISCONNECT_GRACE=0.5, PRESENCE_HEARTBEAT=0.1)
async def test_a_socket_whose_row_was_swept_while_it_lived_keeps_its_call(
    signed_in, user, other_user
):
    """Another process's sweep took Alice's device row (her process too busy to beat)
    and gave her call its grace; her next heartbeat writes the row again and takes
    the call back, with no renegotiation: the call outlives the grace."""
    alice, bob, call_id = await active_call(signed_in, user, other_user)
    alice_device = (await bill(call_id)).caller_device
    await Device.objects.filter(device_id=alice_device).adelete()
    await deliver(await database_sync_to_async(calls_reap_orphans)())
    assert (await bill(call_id)).gone_deadline is not None
    deadline = asyncio.get_running_loop().time() + 3
    while (await bill(call_id)).gone_deadline is not None:
        assert asyncio.get_running_loop().time() < deadline, "never taken back"
        await asyncio.sleep(0.05)
    assert await Device.objects.filter(device_id=alice_device).aexists()
    # Past the grace, which no longer applies.
    await deliver(await database_sync_to_async(calls_tick_due)(now=time.time() + 1))
    assert (await bill(call_id)).state == "active"
    await bob.send_frame({"type": "call.hangup", "call_id": call_id})
    seen = []
    while not seen or seen[-1]["type"] != "call.ended":
        seen.append(await alice.frame())
    assert seen[-1]["reason"] == "hangup"
    assert "call.started" not in [frame["type"] for frame in seen]


def refuse_everyone(**call):
    return False


@override_settings(CALL_POLICY="tests.calls.test_call_flow.refuse_everyone")
async def test_a_policy_hook_can_deny_a_call(signed_in, user, other_user):
    alice, _ = await signed_in(user)
    bob, _ = await signed_in(other_user)
    call_id = await invite(alice)
    frame = await ended(alice, call_id)
    assert (frame["reason"], frame["code"]) == ("denied", 100107)
    await heard_of_no_call(bob)  # Bob was never rung


async def test_the_server_can_force_a_call_to_end(signed_in, user, other_user):
    alice, bob, call_id = await active_call(signed_in, user, other_user)
    await deliver(await database_sync_to_async(call_force_end)(call_id=call_id))
    for socket in (alice, bob):
        frame = await ended(socket, call_id)
        assert (frame["reason"], frame["code"]) == ("forced", 100108)


# --- several devices, glare -----------------------------------------------------------------


async def test_every_device_of_the_callee_rings_and_the_first_answer_wins(
    signed_in, user, other_user
):
    alice, bob_tab1, call_id, _ = await ringing_call(signed_in, user, other_user)
    bob_tab2, tab2_hello = await signed_in(other_user)
    assert (await bob_tab2.frame_of("call.incoming"))["call_id"] == call_id
    await bob_tab2.send_frame({"type": "call.accept", "call_id": call_id})
    assert (await bob_tab1.frame_of("call.answered_elsewhere"))["call_id"] == call_id
    started = await alice.frame_of("call.started")
    assert started["peer"]["device_id"] == tab2_hello["device_id"]
    await bob_tab1.send_frame(
        {"type": "call.accept", "call_id": call_id, "req": "late"}
    )
    error = await bob_tab1.frame_of("error")
    assert (error["error"], error["req"]) == ("not_ringing", "late")


async def test_glare_resolves_into_one_call(signed_in, user, other_user):
    """Alice calls Bob while Bob's call to Alice rings: they are connected, once."""
    alice, bob, call_id, _ = await ringing_call(signed_in, user, other_user)
    await bob.send_frame(
        {"type": "call.invite", "callee": "alice", "media": "video", "req": "g"}
    )
    assert (await bob.frame_of("ok"))["call_id"] == call_id
    assert (await alice.frame_of("call.started"))["call_id"] == call_id
    assert (await bob.frame_of("call.started"))["call_id"] == call_id
    assert await Call.objects.acount() == 1


# --- errors ---------------------------------------------------------------------------------


async def expect_error(socket, frame, slug):
    await socket.send_frame({**frame, "req": "e"})
    error = await socket.frame_of("error")
    assert (error["error"], error["req"]) == (slug, "e"), error
    return error


@pytest.mark.parametrize(
    ("frame", "slug"),
    [
        (
            {"type": "call.invite", "callee": "nobody", "media": "video"},
            "user_not_found",
        ),
        (
            {"type": "call.invite", "callee": "alice", "media": "video"},
            "cannot_call_self",
        ),
        (
            {"type": "call.invite", "callee": "bob", "media": "hologram"},
            "invalid_field",
        ),
        ({"type": "call.invite", "callee": "bob"}, "missing_field"),
        (
            {"type": "call.invite", "callee": "bob", "media": "video", "flags": 256},
            "invalid_field",
        ),
        (
            {
                "type": "call.invite",
                "callee": "bob",
                "media": "video",
                "user_data": "x" * 1025,
            },
            "invalid_field",
        ),
        ({"type": "call.accept", "call_id": "0" * 32}, "call_not_found"),
        ({"type": "call.hangup"}, "missing_field"),
        ({"type": "call.signal", "call_id": "c"}, "invalid_field"),
        (
            {
                "type": "call.signal",
                "call_id": "c",
                "description": {"type": "offer", "sdp": "v=0"},
            },
            "not_in_call",
        ),
        (
            {"type": "call.media", "call_id": "c", "audio": True, "video": False},
            "not_in_call",
        ),
    ],
)
async def test_bad_call_requests_get_their_error(
    signed_in, user, other_user, frame, slug
):
    alice, _ = await signed_in(user)
    await expect_error(alice, frame, slug)
    assert await Call.objects.acount() == 0


async def test_moves_out_of_turn_are_refused(signed_in, user, other_user, carol):
    alice, bob, call_id, _ = await ringing_call(signed_in, user, other_user)
    carol_socket, _ = await signed_in(carol)
    await expect_error(alice, {"type": "call.accept", "call_id": call_id}, "forbidden")
    await expect_error(alice, {"type": "call.reject", "call_id": call_id}, "forbidden")
    await expect_error(bob, {"type": "call.cancel", "call_id": call_id}, "forbidden")
    await expect_error(
        carol_socket, {"type": "call.hangup", "call_id": call_id}, "call_not_found"
    )
    await expect_error(
        alice,
        {"type": "call.invite", "callee": "carol", "media": "audio"},
        "already_in_call",
    )
    assert (await bill(call_id)).state == "ringing", "nothing changed the call"


async def test_a_stale_call_id_is_an_error(signed_in, user, other_user):
    alice, bob, call_id, _ = await ringing_call(signed_in, user, other_user)
    await alice.send_frame({"type": "call.cancel", "call_id": call_id})
    await ended(bob, call_id)
    await expect_error(bob, {"type": "call.accept", "call_id": call_id}, "call_ended")
    await expect_error(bob, {"type": "call.hangup", "call_id": call_id}, "call_ended")


# --- signalling ---------------------------------------------------------------------------


async def test_signals_go_to_the_peer_device_only(signed_in, user, other_user, carol):
    """A third user's socket and the callee's other tab never see the call's signals."""
    alice, bob, call_id = await active_call(signed_in, user, other_user)
    carol_socket, _ = await signed_in(carol)
    bob_other_tab, _ = await signed_in(other_user)
    offer = {"type": "offer", "sdp": "v=0\r\n"}
    await alice.send_frame(
        {"type": "call.signal", "call_id": call_id, "description": offer}
    )
    candidate = {
        "candidate": "candidate:1 1 udp 1 127.0.0.1 5000 typ host",
        "sdpMid": "0",
    }
    await bob.send_frame(
        {"type": "call.signal", "call_id": call_id, "candidate": candidate}
    )
    await alice.send_frame(
        {"type": "call.media", "call_id": call_id, "audio": False, "video": True}
    )
    assert await bob.frame_of("call.signal") == {
        "type": "call.signal",
        "call_id": call_id,
        "from": "alice",
        "description": offer,
    }
    relayed = await alice.frame_of("call.signal")
    assert (relayed["from"], relayed["candidate"]) == ("bob", candidate)
    media = await bob.frame_of("call.media")
    assert (media["from"], media["audio"], media["video"]) == ("alice", False, True)
    await expect_error(
        bob_other_tab,
        {"type": "call.signal", "call_id": call_id, "description": offer},
        "not_in_call",
    )
    await expect_error(
        carol_socket,
        {"type": "call.signal", "call_id": call_id, "description": offer},
        "not_in_call",
    )
    for bystander in (carol_socket, bob_other_tab):
        await heard_of_no_call(bystander)


async def test_after_the_call_ends_signals_are_refused(signed_in, user, other_user):
    alice, _, call_id = await active_call(signed_in, user, other_user)
    await alice.send_frame({"type": "call.hangup", "call_id": call_id})
    await ended(alice, call_id)
    await expect_error(
        alice,
        {"type": "call.signal", "call_id": call_id, "candidate": {"candidate": "c"}},
        "not_in_call",
    )


async def test_ringing_stops_on_every_tab_when_the_caller_cancels(
    signed_in, user, other_user
):
    alice, bob, call_id, _ = await ringing_call(signed_in, user, other_user)
    bob_tab2, _ = await signed_in(other_user)
    await bob_tab2.frame_of("call.incoming")
    await alice.send_frame({"type": "call.cancel", "call_id": call_id})
    await asyncio.gather(ended(bob, call_id), ended(bob_tab2, call_id))


async def test_a_partys_socket_that_the_call_does_not_know_hears_it_end(
    signed_in, user, other_user
):
    """Bob's process died and his page reconnected elsewhere before his old socket
    was known to be gone: his new socket is not the call's, yet hears it end."""
    alice, bob, call_id = await active_call(signed_in, user, other_user)
    bob_again, _ = await signed_in(other_user)  # the call keeps Bob's first socket

    await deliver(await database_sync_to_async(call_force_end)(call_id=call_id))

    for socket in (alice, bob, bob_again):
        assert (await ended(socket, call_id))["reason"] == "forced"
