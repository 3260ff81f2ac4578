"""Room events on the wire. Every socket in a room is in the group `room.<room_id>`;
a member alone is reached through its device group (calls.delivery.device_group).

A room event carries the frame's text and, optionally, what it changes for the
receiving socket (`effect`): a member joined or left (its member list), or this
socket is out of the room (kicked, or the room closed).
"""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from accounts.models import User
from calls import protocol
from calls.delivery import device_group
from rooms.models import Member

ROOM_EVENT = "room.event"


def room_group(room_id: str) -> str:
    return f"room.{room_id}"


def _event(
    frame: protocol.ServerFrame, room_id: str, effect: dict | None, skip: str | None
):
    return {
        "type": ROOM_EVENT,
        "text": protocol.encode(frame),
        "room_id": room_id,
        "effect": effect,
        "except_member": skip,
    }


async def room_broadcast(
    room_id: str,
    frame: protocol.ServerFrame,
    *,
    effect: dict | None = None,
    except_member: str | None = None,
) -> None:
    """Send a frame to every socket in the room (but `except_member`)."""
    await get_channel_layer().group_send(
        room_group(room_id), _event(frame, room_id, effect, except_member)
    )


async def room_send_to_member(
    room_id: str,
    member_id: str,
    frame: protocol.ServerFrame,
    *,
    effect: dict | None = None,
) -> None:
    await get_channel_layer().group_send(
        device_group(member_id), _event(frame, room_id, effect, None)
    )


async def room_announce_left(room_id: str, member_id: str, reason: str) -> None:
    """The others in the room hear a member is out (`left`, `kicked`, …)."""
    await room_broadcast(
        room_id,
        protocol.RoomMemberLeft(room_id=room_id, member_id=member_id, reason=reason),
        effect={"kind": "left", "member_id": member_id},
        except_member=member_id,
    )


async def rooms_announce_disconnected(members) -> None:
    """Members gone with their socket (closed, or its process died): each room hears."""
    for member in members:
        await room_announce_left(member.room.room_id, member.member_id, "disconnected")


async def room_announce_kicked(room_id: str, member_id: str, *, by: User) -> None:
    """The kicked member hears it and is out; the others hear it left."""
    await room_send_to_member(
        room_id,
        member_id,
        protocol.RoomKicked(room_id=room_id, by=protocol.UserInfo.of(by)),
        effect={"kind": "out"},
    )
    await room_announce_left(room_id, member_id, "kicked")


async def room_announce_muted(room_id: str, members: list[Member], *, by: User):
    """Each muted member hears who turned their microphone off."""
    frame = protocol.RoomMuted(room_id=room_id, by=protocol.UserInfo.of(by))
    for member in members:
        await room_send_to_member(room_id, member.member_id, frame)


async def room_announce_closed(room_id: str, members: list[Member]) -> None:
    """Everyone who was in the room hears it closed and is out of it."""
    frame = protocol.RoomClosed(room_id=room_id)
    for member in members:
        await room_send_to_member(
            room_id, member.member_id, frame, effect={"kind": "out"}
        )


def room_announce_closed_sync(room_id: str, members: list[Member]) -> None:
    """room_announce_closed for synchronous callers (the REST API, the admin)."""
    async_to_sync(room_announce_closed)(room_id, members)
