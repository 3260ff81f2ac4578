"""Rooms over REST (RTCRoom's getRoomList / createRoom): list, create, read, change,
close, members and message history. Writes are for the room's owner only."""

from django.http import HttpResponse
from ninja import Router, Status
from ninja.pagination import PageNumberPagination, paginate

from accounts.api import USER_AUTH
from config.errors import ApiError
from rooms import selectors, services
from rooms.delivery import room_announce_closed_sync
from rooms.models import Member, Room
from rooms.schemas import MemberOut, MessageOut, RoomIn, RoomOut, RoomPatch

router = Router(tags=["rooms"])

AUTH = USER_AUTH


def _failure(error: services.RoomError) -> ApiError:
    return ApiError(error.status, error.slug, error.message)


def _room(request, room_id: str) -> Room:
    room = selectors.room_by_id(
        room_id=room_id, application_id=request.user.application_id
    )
    if room is None:
        raise ApiError(404, "room_not_found", f"No room {room_id!r}.")
    return room


@router.get("/rooms", response=list[RoomOut], auth=AUTH)
@paginate(PageNumberPagination, page_size=20)
def room_list(request):
    """Open rooms, most recently active first."""
    return selectors.rooms_open(application_id=request.user.application_id)


@router.post("/rooms", response={201: RoomOut}, auth=AUTH)
def room_create(request, body: RoomIn):
    """A new room owned by you. A taken `room_id` → 409 `room_taken`."""
    try:
        room = services.room_create(owner=request.user, **body.dict())
    except services.RoomError as error:
        raise _failure(error) from None
    return Status(201, room)


@router.get("/rooms/{room_id}", response=RoomOut, auth=AUTH)
def room_get(request, room_id: str):
    """One room; a closed one too (with `closed_at`)."""
    return _room(request, room_id)


@router.patch("/rooms/{room_id}", response=RoomOut, auth=AUTH)
def room_patch(request, room_id: str, body: RoomPatch):
    """Change your room: only the fields sent change."""
    try:
        return services.room_update(
            room=_room(request, room_id),
            by=request.user,
            **body.dict(exclude_unset=True),
        )
    except services.RoomError as error:
        raise _failure(error) from None


@router.delete("/rooms/{room_id}", response={204: None}, auth=AUTH)
def room_delete(request, room_id: str):
    """Close your room: everyone in it hears `room.closed` and is out."""
    room = _room(request, room_id)
    try:
        members = services.room_close(room=room, by=request.user)
    except services.RoomError as error:
        raise _failure(error) from None
    room_announce_closed_sync(room.room_id, members)
    return HttpResponse(status=204)


@router.get("/rooms/{room_id}/members", response=list[MemberOut], auth=AUTH)
def room_member_list(request, room_id: str) -> list[Member]:
    """Who is in the room now, one entry per device, first in first."""
    return list(selectors.room_members(room=_room(request, room_id)))


@router.get(
    "/rooms/{room_id}/messages",
    response=list[MessageOut],
    auth=AUTH,
    by_alias=True,  # `from`, as in the socket's room.message
)
@paginate(PageNumberPagination, page_size=50)
def room_message_list(request, room_id: str):
    """The room's text and custom messages, oldest first."""
    return selectors.room_messages(room=_room(request, room_id))
