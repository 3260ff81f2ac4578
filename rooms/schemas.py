"""How rooms, members and messages look in the API and in webhooks."""

from datetime import datetime
from typing import Any, Literal

from django.conf import settings
from ninja import Field, Schema

from accounts.api import UserOut
from rooms.models import MAX_INFO_BYTES, Room, RoomMessage


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
    inviters: Literal["members", "owner"] = Field(
        description="Who may ring people into the room (`room.invite`)."
    )
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
    inviters: str | None = Field(
        default=None,
        description='Who may invite people: "members" (the default) or "owner".',
    )


class RoomPatch(Schema):
    name: str | None = None
    info: Any = _info_field("Replaces the room's info.")
    member_cap: int | None = None
    password: str | None = Field(
        default=None, max_length=128, description='"" removes the password.'
    )
    inviters: str | None = Field(default=None, description='"members" or "owner".')


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
