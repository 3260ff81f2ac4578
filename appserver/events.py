"""What the webhooks say: the event bodies for calls, rooms and members, queued by
the call and room services as they make the change (see appserver.webhooks).

The bodies use the same schemas as the API's answers, so a bill or a room looks the
same in a webhook and in a response.
"""

from ninja import Field, Schema

from appserver.webhooks import webhook_emit
from calls.models import Call
from calls.schemas import CallBill
from rooms.models import Member, Room
from rooms.schemas import MemberOut, RoomOut


class MemberEvent(MemberOut):
    room_id: str
    reason: str | None = Field(
        default=None,
        description="member.left: `left`, `kicked`, `disconnected` or `closed`.",
    )

    @staticmethod
    def resolve_room_id(obj: Member) -> str:
        return obj.room.room_id


def _data(schema: type[Schema], obj, **extra) -> dict:
    return {**schema.from_orm(obj).model_dump(mode="json"), **extra}


def call_changed(call: Call, *, was: str | None) -> None:
    """The call went from state `was` (None: it is new) to its current state."""
    app = call.caller.application_id
    if app is None or was == call.state:
        return
    if call.state == Call.State.ACTIVE:
        webhook_emit(
            application_id=app, event="call.started", data=_data(CallBill, call)
        )
    if call.state == Call.State.ENDED:
        webhook_emit(application_id=app, event="call.ended", data=_data(CallBill, call))


def room_changed(room: Room, *, event: str) -> None:
    """`room.started` (created) or `room.finished` (closed)."""
    app = room.owner.application_id
    if app is not None:
        webhook_emit(application_id=app, event=event, data=_data(RoomOut, room))


def member_joined(member: Member) -> None:
    app = member.user.application_id
    if app is not None:
        data = _data(MemberEvent, member)
        webhook_emit(application_id=app, event="member.joined", data=data)


def members_left(members: list[Member], *, reason: str) -> None:
    """Members out of their rooms: `left`, `kicked`, `disconnected` or `closed`."""
    for member in members:
        app = member.user.application_id
        if app is not None:
            data = _data(MemberEvent, member, reason=reason)
            webhook_emit(application_id=app, event="member.left", data=data)
