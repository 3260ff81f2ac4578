"""Rooms over REST (RTCRoom's getRoomList / createRoom): list, create, read, change,
close, members and message history. Writes are for the room's owner only."""

from datetime import datetime
from typing import Any

from django.http import HttpResponse
from ninja import Field, Router, Schema, Status
from ninja.pagination import PageNumberPagination, paginate
from ninja.security import django_auth

from accounts.api import UserSigBearer
from accounts.models import User
from config.api import ApiError
from rooms import selectors, services
from rooms.delivery import room_announce_closed_sync
from rooms.models import Member, Room, RoomMessage

router = Router(tags=["rooms"])
AUTH = [UserSigBearer(), django_auth]


class UserOut(Schema):
    id: int
    username: str
    display_name: str

    @staticmethod
    def resolve_display_name(obj: User) -> str:
        return obj.shown_name


class RoomOut(Schema):
    room_id: str
    name: str
    info: dict[str, Any]
    owner: UserOut
    member_cap: int
    member_count: int
    has_password: bool
    created_at: datetime
    last_active_at: datetime
    closed_at: datetime | None

    @staticmethod
    def resolve_member_count(obj: Room) -> int:
        count = getattr(obj, "member_count", None)
        return obj.members.count() if count is None else count


class RoomIn(Schema):
    room_id: str | None = Field(
        default=None, description="Yours to choose, or assigned."
    )
    name: str
    info: dict[str, Any] | None = Field(
        default=None, description="Your roomInfo object."
    )
    member_cap: int | None = None
    password: str = Field(default="", max_length=128)


class RoomPatch(Schema):
    name: str | None = None
    info: dict[str, Any] | None = None
    member_cap: int | None = None
    password: str | None = Field(
        default=None, max_length=128, description='"" removes it.'
    )


class MemberOut(Schema):
    member_id: str
    user: UserOut
    audio: bool
    video: bool
    joined_at: datetime


class MessageOut(Schema):
    id: int
    sender: UserOut
    member_id: str
    kind: str
    text: str | None
    data: Any
    sent_at: datetime

    @staticmethod
    def resolve_text(obj: RoomMessage) -> str | None:
        return obj.text if obj.kind == RoomMessage.Kind.TEXT else None


def _fail(error: services.RoomError) -> ApiError:
    return ApiError(error.status, error.slug, error.message)


def _room(room_id: str) -> Room:
    room = Room.objects.select_related("owner").filter(room_id=room_id).first()
    if room is None:
        raise ApiError(404, "room_not_found", f"No room {room_id!r}.")
    return room


@router.get("/rooms", response=list[RoomOut], auth=AUTH)
@paginate(PageNumberPagination, page_size=20)
def room_list(request):
    """Open rooms, most recently active first."""
    return selectors.rooms_open()


@router.post("/rooms", response={201: RoomOut}, auth=AUTH)
def room_create(request, body: RoomIn):
    """A new room owned by you. `room_id` taken → 409 `room_taken`."""
    try:
        room = services.room_create(owner=request.user, **body.dict())
    except services.RoomError as error:
        raise _fail(error) from None
    return Status(201, room)


@router.get("/rooms/{room_id}", response=RoomOut, auth=AUTH)
def room_get(request, room_id: str):
    return _room(room_id)


@router.patch("/rooms/{room_id}", response=RoomOut, auth=AUTH)
def room_patch(request, room_id: str, body: RoomPatch):
    """Change your room."""
    try:
        return services.room_update(
            room=_room(room_id), by=request.user, **body.dict(exclude_unset=True)
        )
    except services.RoomError as error:
        raise _fail(error) from None


@router.delete("/rooms/{room_id}", response={204: None}, auth=AUTH)
def room_delete(request, room_id: str):
    """Close your room: everyone in it hears `room.closed` and is out."""
    room = _room(room_id)
    try:
        members = services.room_close(room=room, by=request.user)
    except services.RoomError as error:
        raise _fail(error) from None
    room_announce_closed_sync(room.room_id, members)
    return HttpResponse(status=204)


@router.get("/rooms/{room_id}/members", response=list[MemberOut], auth=AUTH)
def room_member_list(request, room_id: str) -> list[Member]:
    return list(selectors.room_members(room=_room(room_id)))


@router.get("/rooms/{room_id}/messages", response=list[MessageOut], auth=AUTH)
@paginate(PageNumberPagination, page_size=50)
def room_message_list(request, room_id: str):
    """The room's text and custom messages, oldest first."""
    return selectors.room_messages(room=_room(room_id))
