"""The application server API at /api/server/: what a company's own backend calls,
with `X-App-Id` + `X-App-Key` (docs/server-api.md)."""

from typing import Literal

from django.http import HttpResponse
from ninja import Field, Router, Schema, Status

from accounts.api import UserSigOut, usersig_answer
from accounts.models import Application, User
from accounts.services import InvalidExternalId, app_user_get_or_create
from appserver import services
from appserver.auth import AppKey
from appserver.delivery import (
    call_outcome_deliver,
    push_deliver,
    room_kicked_deliver,
    room_muted_deliver,
)
from calls.models import Call
from calls.schemas import CallBill
from calls.services import call_force_end, room_invite
from config.errors import ApiError
from rooms import services as rooms
from rooms.delivery import room_announce_closed_sync
from rooms.models import Room
from rooms.schemas import MemberOut, RoomIn, RoomOut
from rooms.selectors import room_by_id, room_members

router = Router(tags=["server"], auth=AppKey())

# HTTP statuses of the call errors the server API can meet.
ERROR_STATUS = {
    "user_not_found": 404,
    "room_not_found": 404,
    "cannot_call_self": 422,
    **{slug: status for slug, status in rooms.RoomError.STATUS.items()},
}

UserIds = list[str]


def _app(request) -> Application:
    return request.application


def _user(request, user_id: str) -> User:
    try:
        return app_user_get_or_create(application=_app(request), user_id=user_id)
    except InvalidExternalId as error:
        raise ApiError(422, "invalid_user_id", str(error)) from None


class UserSigIn(Schema):
    user_id: str = Field(
        description="Your user's id; the user is created on first use."
    )
    ttl: int | None = Field(default=None, gt=0, description="Lifetime in seconds.")


@router.post("/server/usersig", response=UserSigOut)
def server_usersig(request, body: UserSigIn):
    """A user token for one of your users, for their socket (`username` is the id)."""
    return usersig_answer(_user(request, body.user_id), body.ttl)


class PushIn(Schema):
    users: UserIds = Field(min_length=1, max_length=100, description="User ids.")
    payload: str = Field(description="Base64 text; at most PUSH_MAX_BYTES decoded.")
    flag: int = Field(default=0, ge=0, le=2**31 - 1, description="Yours to use.")


class PushOut(Schema):
    delivered: dict[str, int] = Field(description="User id → devices that got it.")
    offline: list[str] = Field(description="Users with no device online (or unknown).")


@router.post("/server/push", response=PushOut)
def server_push(request, body: PushIn):
    """A `push` frame to every online device of the named users (seed 000)."""
    try:
        plan = services.push_plan(
            application=_app(request),
            user_ids=list(dict.fromkeys(body.users)),
            payload=body.payload,
            flag=body.flag,
        )
    except services.ServerApiError as error:
        raise ApiError(error.status, error.slug, error.message) from None
    push_deliver(plan)
    return {
        "delivered": {user: len(devices) for user, devices in plan.devices.items()},
        "offline": plan.offline,
    }


class UsersIn(Schema):
    users: UserIds = Field(min_length=1, max_length=100, description="User ids.")


class UserStateOut(Schema):
    user_id: str
    state: Literal["offline", "online", "ringing", "in_call"]
    devices: int = Field(description="Sockets open now.")
    call_id: str | None = Field(description="The live call, if any.")
    rooms: list[str] = Field(description="Rooms the user is in now.")


@router.post("/server/users/state", response=list[UserStateOut])
def server_users_state(request, body: UsersIn):
    """Per user: offline, online, ringing or in a call. Unknown users are offline."""
    return services.users_state(
        application=_app(request), user_ids=list(dict.fromkeys(body.users))
    )


def _call(request, call_id: str) -> Call:
    call = (
        Call.objects.select_related("caller", "callee", "room")
        .filter(call_id=call_id, caller__application=_app(request))
        .first()
    )
    if call is None:
        raise ApiError(404, "call_not_found", "No such call of your users.")
    return call


@router.get("/server/calls/{call_id}", response=CallBill)
def server_call(request, call_id: str):
    """One of your users' calls: its bill."""
    return _call(request, call_id)


@router.post("/server/calls/{call_id}/finish", response=CallBill)
def server_call_finish(request, call_id: str):
    """End a live call: both parties get `call.ended` `forced` (100108)."""
    outcome = call_force_end(call_id=_call(request, call_id).call_id)
    call_outcome_deliver(outcome)
    if outcome.error is not None:
        raise ApiError(409, outcome.error.slug, outcome.error.message)
    return _call(request, call_id)


# --- rooms ------------------------------------------------------------------------------


def _room(request, room_id: str) -> Room:
    room = room_by_id(room_id=room_id, application_id=_app(request).pk)
    if room is None:
        raise ApiError(404, "room_not_found", f"No room {room_id!r} of yours.")
    return room


def _room_call(service, **fields):
    try:
        return service(**fields)
    except rooms.RoomError as error:
        raise ApiError(error.status, error.slug, error.message) from None


class ServerRoomIn(RoomIn):
    owner: str = Field(description="The user id of the room's owner.")


@router.post("/server/rooms", response={201: RoomOut})
def server_room_create(request, body: ServerRoomIn):
    """A room owned by one of your users (created on first use)."""
    fields = body.dict(exclude={"owner"})
    owner = _user(request, body.owner)
    return Status(201, _room_call(rooms.room_create, owner=owner, **fields))


@router.get("/server/rooms/{room_id}", response=RoomOut)
def server_room(request, room_id: str):
    return _room(request, room_id)


@router.get("/server/rooms/{room_id}/members", response=list[MemberOut])
def server_room_members(request, room_id: str):
    return list(room_members(room=_room(request, room_id)))


@router.post("/server/rooms/{room_id}/close", response=RoomOut)
def server_room_close(request, room_id: str):
    """Close the room: everyone in it hears `room.closed` and is out."""
    room = _room(request, room_id)
    room_announce_closed_sync(room.room_id, rooms.room_close(room=room))
    return _room(request, room_id)


@router.delete("/server/rooms/{room_id}", response={204: None})
def server_room_delete(request, room_id: str):
    """Close the room if it is open, then delete it with its message history."""
    room = _room(request, room_id)
    room_id = room.room_id
    room_announce_closed_sync(room_id, rooms.room_delete(room=room))
    return HttpResponse(status=204)


class KickIn(Schema):
    member_id: str = Field(description="The member's device id (see /members).")


@router.post("/server/rooms/{room_id}/kick", response={204: None})
def server_room_kick(request, room_id: str, body: KickIn):
    """The member is out (`room.kicked`); the others hear `member_left` `kicked`."""
    room = _room(request, room_id)
    member = _room_call(
        rooms.room_kick, room_id=room.room_id, by=room.owner, member_id=body.member_id
    )
    room_kicked_deliver(room.room_id, member.member_id, by=room.owner)
    return HttpResponse(status=204)


class InviteIn(Schema):
    users: UserIds = Field(min_length=1, max_length=16, description="User ids.")
    media: Literal["audio", "video"] = "video"


class InvitationOut(Schema):
    user: str
    call_id: str = Field(description="The invitation's bill (see /server/calls).")


class InvitationsOut(Schema):
    invitations: list[InvitationOut]


@router.post("/server/rooms/{room_id}/invite", response=InvitationsOut)
def server_room_invite(request, room_id: str, body: InviteIn):
    """Ring users into the room on the owner's behalf (seed 004's invitations): each
    gets `call.incoming` with the room, and answers as to a call. Users the app never
    named before are created (and are offline)."""
    room = _room(request, room_id)
    for user_id in body.users:
        _user(request, user_id)
    outcome, invitations = room_invite(
        room_id=room.room_id,
        by=room.owner,
        by_device="",
        usernames=body.users,
        media=body.media,
    )
    call_outcome_deliver(outcome)
    if outcome.error is not None:
        status = ERROR_STATUS.get(outcome.error.slug, 409)
        raise ApiError(status, outcome.error.slug, outcome.error.message)
    return {"invitations": invitations}


class MutedOut(Schema):
    muted: int = Field(description="Members whose microphone went off.")


@router.post("/server/rooms/{room_id}/mute_all", response=MutedOut)
def server_room_mute_all(request, room_id: str):
    """Every member but the owner's devices is muted (`room.muted`)."""
    room = _room(request, room_id)
    muted = _room_call(rooms.room_mute_all, room_id=room.room_id, by=room.owner)
    room_muted_deliver(room.room_id, muted, by=room.owner)
    return {"muted": len(muted)}
