"""Rooms over REST (RTCRoom's getRoomList / createRoom): list, create, read, change,
close, members and message history. Writes are for the room's owner only."""

from datetime import datetime
from typing import Any, Literal

from django.conf import settings
from django.http import HttpResponse
from ninja import Field, Router, Schema, Status
from ninja.pagination import PageNumberPagination, paginate

from accounts.api import USER_AUTH, UserOut
from config.api import ApiError
from rooms import selectors, services
from rooms.delivery import room_announce_closed_sync
from rooms.models import MAX_INFO_BYTES, Member, Room, RoomMessage

router = Router(tags=["rooms"])

AUTH = USER_AUTH


def _info_field(description: str):
    # `info` is checked by the service, not the schema, so that a non-object answers
    # `invalid_room` like an oversize one; OpenAPI still documents it as an object.
    return Field(
        default=None,
        description=f"{description} A JSON object, at most {MAX_INFO_BYTES} bytes.",
        json_schema_extra={"type": "object"},
    )


class RoomOut(Schema):
    room_id: str
    name: str
    info: dict[str, Any]
    owner: UserOut
    member_cap: int
    member_count: int = Field(description="Devices in the room now.")
    has_password: bool
    created_at: datetime
    last_active_at: datetime
    closed_at: datetime | None = Field(description="null while the room is open.")

    @staticmethod
    def resolve_member_count(obj: Room) -> int:
        count = getattr(obj, "member_count", None)
        return obj.members.count() if count is None else count


class RoomIn(Schema):
    room_id: str | None = Field(
        default=None,
        description="1 to 64 of A-Z a-z 0-9 _ -; assigned when absent.",
    )
    name: str = Field(description="1 to 100 characters.")
    info: Any = _info_field("Your roomInfo.")
    member_cap: int | None = Field(
        default=None,
        description=f"2 to {settings.ROOM_MAX_MEMBER_CAP}; "
        f"{settings.ROOM_DEFAULT_MEMBER_CAP} when absent.",
    )
    password: str = Field(default="", max_length=128, description='"" for none.')


class RoomPatch(Schema):
    name: str | None = None
    info: Any = _info_field("Replaces the room's info.")
    member_cap: int | None = None
    password: str | None = Field(
        default=None, max_length=128, description='"" removes the password.'
    )


class MemberOut(Schema):
    member_id: str = Field(description="The member's device id.")
    user: UserOut
    audio: bool
    video: bool
    joined_at: datetime


class MessageOut(Schema):
    id: int
    from_: UserOut = Field(validation_alias="sender", serialization_alias="from")
    member_id: str = Field(description="The sender's device id.")
    kind: Literal["text", "custom"]
    text: str | None = Field(description="For `text` messages; null otherwise.")
    data: Any = Field(description="For `custom` messages; null otherwise.")
    sent_at: datetime

    @staticmethod
    def resolve_text(obj: RoomMessage) -> str | None:
        return obj.text if obj.kind == RoomMessage.Kind.TEXT else None


def _failure(error: services.RoomError) -> ApiError:
    return ApiError(error.status, error.slug, error.message)


def _room(room_id: str) -> Room:
    room = selectors.room_by_id(room_id=room_id)
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
    """A new room owned by you. A taken `room_id` → 409 `room_taken`."""
    try:
        room = services.room_create(owner=request.user, **body.dict())
    except services.RoomError as error:
        raise _failure(error) from None
    return Status(201, room)


@router.get("/rooms/{room_id}", response=RoomOut, auth=AUTH)
def room_get(request, room_id: str):
    """One room; a closed one too (with `closed_at`)."""
    return _room(room_id)


@router.patch("/rooms/{room_id}", response=RoomOut, auth=AUTH)
def room_patch(request, room_id: str, body: RoomPatch):
    """Change your room: only the fields sent change."""
    try:
        return services.room_update(
            room=_room(room_id), by=request.user, **body.dict(exclude_unset=True)
        )
    except services.RoomError as error:
        raise _failure(error) from None


@router.delete("/rooms/{room_id}", response={204: None}, auth=AUTH)
def room_delete(request, room_id: str):
    """Close your room: everyone in it hears `room.closed` and is out."""
    room = _room(room_id)
    try:
        members = services.room_close(room=room, by=request.user)
    except services.RoomError as error:
        raise _failure(error) from None
    room_announce_closed_sync(room.room_id, members)
    return HttpResponse(status=204)


@router.get("/rooms/{room_id}/members", response=list[MemberOut], auth=AUTH)
def room_member_list(request, room_id: str) -> list[Member]:
    """Who is in the room now, one entry per device, first in first."""
    return list(selectors.room_members(room=_room(room_id)))


@router.get(
    "/rooms/{room_id}/messages",
    response=list[MessageOut],
    auth=AUTH,
    by_alias=True,  # `from`, as in the socket's room.message
)
@paginate(PageNumberPagination, page_size=50)
def room_message_list(request, room_id: str):
    """The room's text and custom messages, oldest first."""
    return selectors.room_messages(room=_room(room_id))
