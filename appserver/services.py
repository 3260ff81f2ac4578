"""What the server API does for an application: server push, user state, call and
room control. The API view turns the results into HTTP and puts frames on the wire."""

import base64
import binascii
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings

from accounts.models import Application
from accounts.selectors import live_devices_of, users_by_handle
from calls import protocol
from calls.models import LiveParty
from rooms.models import Member


class ServerApiError(Exception):
    """A request the server API refuses: a stable slug and an HTTP status."""

    def __init__(self, status: int, slug: str, message: str):
        super().__init__(message)
        self.status, self.slug, self.message = status, slug, message


@dataclass
class PushPlan:
    """Who gets a push: the frame, each online user's devices, and who is offline."""

    frame: protocol.Push
    devices: dict[str, list[str]] = field(default_factory=dict)
    offline: list[str] = field(default_factory=list)


def push_payload_check(payload: str) -> bytes:
    """The decoded payload, or ServerApiError if it is not bounded base64."""
    try:
        raw = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ServerApiError(
            422, "payload_not_base64", "payload must be standard base64 text."
        ) from None
    if len(raw) > settings.PUSH_MAX_BYTES:
        raise ServerApiError(
            413,
            "payload_too_large",
            f"payload may be at most {settings.PUSH_MAX_BYTES} bytes once decoded.",
        )
    return raw


def push_plan(
    *, application: Application, user_ids: list[str], payload: str, flag: int
) -> PushPlan:
    """Check a push and find the devices it goes to. Unknown users count as offline."""
    push_payload_check(payload)
    frame = protocol.Push(
        payload=payload,
        flag=flag,
        from_app=application.app_id,
        sent_at=datetime.now(UTC).isoformat(),
    )
    plan = PushPlan(frame=frame)
    users = users_by_handle(handles=user_ids, application_id=application.pk)
    devices = live_devices_of(users=users.values())
    for user_id in user_ids:
        user = users.get(user_id)
        if user is not None and user.pk in devices:
            plan.devices[user_id] = devices[user.pk]
        else:
            plan.offline.append(user_id)
    return plan


def users_state(*, application: Application, user_ids: list[str]) -> list[dict]:
    """Per user: offline / online / ringing / in_call, devices, call and rooms."""
    users = users_by_handle(handles=user_ids, application_id=application.pk)
    devices = live_devices_of(users=users.values())
    calls = {
        party.user_id: party.call
        for party in LiveParty.objects.filter(user__in=users.values()).select_related(
            "call"
        )
    }
    rooms: dict[int, list[str]] = {}
    for user_id, room_id in Member.objects.filter(user__in=users.values()).values_list(
        "user_id", "room__room_id"
    ):
        rooms.setdefault(user_id, []).append(room_id)
    answer = []
    for user_id in user_ids:
        user = users.get(user_id)
        pk = user.pk if user else None
        call = calls.get(pk)
        if pk not in devices:
            state = "offline"
        elif call is None:
            state = "online"
        else:
            state = "ringing" if call.state == call.State.RINGING else "in_call"
        answer.append(
            {
                "user_id": user_id,
                "state": state,
                "devices": len(devices.get(pk, [])),
                "call_id": call.call_id if call else None,
                "rooms": sorted(set(rooms.get(pk, []))),
            }
        )
    return answer
