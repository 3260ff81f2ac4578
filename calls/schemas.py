"""How a call's bill looks in the API (both parties', or the application's) and in
webhooks."""

from datetime import datetime
from typing import Literal

from ninja import Field, Schema

from accounts.api import UserOut
from calls.models import Call


class CallBill(Schema):
    """A call's bill, from neither party's side."""

    call_id: str
    caller: UserOut
    callee: UserOut
    media: Literal["audio", "video"]
    flags: int
    user_data: str
    state: Literal["ringing", "active", "ended"]
    end_reason: str | None = Field(
        description="`hangup`, `cancel`, `reject`, …; null while the call is live."
    )
    end_code: int | None
    created_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    duration_s: int = Field(description="Seconds from answer to end; 0 if unanswered.")
    group: bool = Field(
        description="A group call invitation (into `room_id`) rather than a call."
    )
    room_id: str | None = Field(
        description="The invitation's room, if it still exists."
    )
    room_name: str | None = Field(description="The invitation's room, when invited.")

    @staticmethod
    def resolve_end_reason(obj: Call) -> str | None:
        return obj.end_reason or None

    @staticmethod
    def resolve_group(obj: Call) -> bool:
        return obj.is_invitation

    @staticmethod
    def resolve_room_id(obj: Call) -> str | None:
        return obj.room.room_id if obj.room_id else None

    @staticmethod
    def resolve_room_name(obj: Call) -> str | None:
        return obj.room_name or None
