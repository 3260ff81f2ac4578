"""Writes for rooms: create, change, close, join, leave, kick, chat.

Each raises RoomError (a protocol/HTTP error slug) for what the caller may not do;
telling the sockets is the consumer's (and rooms.delivery's) job.
"""

import re
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import get_random_string

from accounts.models import Device, User
from accounts.selectors import users_by_handle
from appserver import events
from rooms.models import ROOM_ID_PATTERN, Member, Room, RoomMessage, validate_info
from rooms.selectors import rooms_of

MAX_TEXT = 2000
ID_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"


class RoomError(Exception):
    """Something a user may not do to a room. `slug` is stable (protocol and API)."""

    STATUS = {
        "room_not_found": 404,
        "member_not_found": 404,
        "room_taken": 409,
        "room_closed": 409,
        "room_full": 409,
        "not_room_owner": 403,
        "wrong_password": 403,
        "not_in_room": 403,
        "invalid_room": 422,
    }

    def __init__(self, slug: str, message: str):
        super().__init__(message)
        self.slug = slug
        self.message = message

    @property
    def status(self) -> int:
        return self.STATUS[self.slug]


def _check_fields(
    *, room_id=None, info=None, member_cap=None, name=None, inviters=None
) -> None:
    if inviters is not None and inviters not in Room.Inviters.values:
        raise RoomError("invalid_room", 'inviters is "members" or "owner".')
    if room_id is not None and not re.fullmatch(ROOM_ID_PATTERN, room_id):
        raise RoomError("invalid_room", "A room id is 1 to 64 of A-Z a-z 0-9 _ -.")
    if name is not None and not 1 <= len(name.strip()) <= 100:
        raise RoomError("invalid_room", "A room name is 1 to 100 characters.")
    if info is not None:
        try:
            validate_info(info)
        except ValidationError as error:
            raise RoomError("invalid_room", error.messages[0]) from None
    if member_cap is not None and not 2 <= member_cap <= settings.ROOM_MAX_MEMBER_CAP:
        raise RoomError(
            "invalid_room",
            f"member_cap is 2 to {settings.ROOM_MAX_MEMBER_CAP} (video is a full mesh).",
        )


def room_create(
    *,
    owner: User,
    name: str,
    room_id: str | None = None,
    info: dict | None = None,
    member_cap: int | None = None,
    password: str = "",
    inviters: str | None = None,
) -> Room:
    """A new room; `room_id` is the creator's choice or assigned here. `inviters`:
    who may ring people into it (every member, or the owner only)."""
    _check_fields(
        room_id=room_id, info=info, member_cap=member_cap, name=name, inviters=inviters
    )
    room = Room(
        room_id=room_id or get_random_string(10, ID_ALPHABET),
        name=name.strip(),
        info=info or {},
        owner=owner,
        member_cap=member_cap or settings.ROOM_DEFAULT_MEMBER_CAP,
        password=make_password(password) if password else "",
        inviters=inviters or Room.Inviters.MEMBERS,
    )
    try:
        with transaction.atomic():
            room.save()
            events.room_changed(room, event="room.started")
    except IntegrityError:
        raise RoomError(
            "room_taken", f"The room id {room.room_id!r} is taken."
        ) from None
    return room


def group_call_room_create(
    *, owner: User, name: str, usernames: list[str]
) -> tuple[Room, list[str]]:
    """A room for a group call started outside any room (the home page): with space
    for the owner and everyone picked. Returns the room and the people to ring, those
    of `usernames` who exist in the owner's namespace. RoomError `invalid_room`
    unless that is 2 to ROOM_MAX_MEMBER_CAP - 1 people."""
    names = list(dict.fromkeys(usernames))
    found = users_by_handle(handles=names, application_id=owner.application_id)
    invitees = [n for n in names if n in found and found[n].pk != owner.pk]
    if not 2 <= len(invitees) < settings.ROOM_MAX_MEMBER_CAP:
        raise RoomError(
            "invalid_room",
            f"A group call rings 2 to {settings.ROOM_MAX_MEMBER_CAP - 1} people.",
        )
    cap = max(settings.ROOM_DEFAULT_MEMBER_CAP, len(invitees) + 1)
    return room_create(owner=owner, name=name, member_cap=cap), invitees


def room_delete(*, room: Room) -> list[Member]:
    """Close the room if it is open, then delete it with its messages. Returns the
    members that were in it, to be told it closed."""
    members = room_close(room=room)
    room.delete()
    return members


def room_update(
    *,
    room: Room,
    by: User,
    name: str | None = None,
    info: dict | None = None,
    member_cap: int | None = None,
    password: str | None = None,
    inviters: str | None = None,
) -> Room:
    """Change an open room (its owner only). `password=""` removes the password."""
    _require_owner(room, by)
    if not room.is_open:
        raise RoomError("room_closed", "This room is closed.")
    _check_fields(info=info, member_cap=member_cap, name=name, inviters=inviters)
    if inviters is not None:
        room.inviters = inviters
    if name is not None:
        room.name = name.strip()
    if info is not None:
        room.info = info
    if member_cap is not None:
        room.member_cap = member_cap
    if password is not None:
        room.password = make_password(password) if password else ""
    room.save()
    return room


def _require_owner(room: Room, user: User) -> None:
    if room.owner_id != user.pk:
        raise RoomError("not_room_owner", "Only the room's owner may do that.")


def room_close(*, room: Room, by: User | None = None) -> list[Member]:
    """Close a room (by its owner, an admin or the idle sweep); everyone in it leaves.

    Returns the members that were in it, to be told.
    """
    if by is not None:
        _require_owner(room, by)
    with transaction.atomic():
        members = list(room.members.select_related("user", "room"))
        room.members.all().delete()
        events.members_left(members, reason="closed")
        if room.closed_at is None:
            room.closed_at = timezone.now()
            room.save(update_fields=["closed_at"])
            events.room_changed(room, event="room.finished")
    return members


def _idle(room: Room, now=None) -> bool:
    limit = (now or timezone.now()) - timedelta(seconds=settings.ROOM_IDLE_TTL)
    return room.is_open and room.last_active_at < limit and not room.members.exists()


def rooms_close_idle(*, now=None) -> list[Room]:
    """Close rooms nobody used for ROOM_IDLE_TTL (also done lazily on access)."""
    limit = (now or timezone.now()) - timedelta(seconds=settings.ROOM_IDLE_TTL)
    idle = Room.objects.filter(
        closed_at__isnull=True, last_active_at__lt=limit
    ).exclude(members__isnull=False)
    closed = list(idle)
    with transaction.atomic():
        # The same conditions again in the write: someone who entered meanwhile keeps it.
        idle.filter(pk__in=[r.pk for r in closed]).update(
            closed_at=now or timezone.now()
        )
        rooms = list(
            Room.objects.select_related("owner").filter(
                pk__in=[r.pk for r in closed], closed_at__isnull=False
            )
        )
        for room in rooms:
            events.room_changed(room, event="room.finished")
    return rooms


def room_open(*, room_id: str, application_id: int | None = None) -> Room:
    """The room, if it exists in the namespace and is open (closing it first if it sat
    idle too long)."""
    room = (
        rooms_of(application_id).select_related("owner").filter(room_id=room_id).first()
    )
    if room is None:
        raise RoomError("room_not_found", f"No room {room_id!r}.")
    if _idle(room):
        room_close(room=room)
    if not room.is_open:
        raise RoomError("room_closed", "This room is closed.")
    return room


def room_join(
    *, user: User, device_id: str, room_id: str, password: str = ""
) -> tuple[Room, Member, list[Member], bool]:
    """`device_id` of `user` enters the room. Returns the room, the member, everyone
    in it (the member included), and whether the member is new (not a repeat join)."""
    with transaction.atomic():
        room = room_open(room_id=room_id, application_id=user.application_id)
        room = Room.objects.select_for_update().select_related("owner").get(pk=room.pk)
        if room.password and not check_password(password, room.password):
            raise RoomError("wrong_password", "Wrong room password.")
        member = room.members.filter(member_id=device_id).first()
        created = member is None
        if created:
            if room.members.count() >= room.member_cap:
                raise RoomError("room_full", "This room is full.")
            member = Member.objects.create(room=room, user=user, member_id=device_id)
            events.member_joined(member)
        room.last_active_at = timezone.now()
        room.save(update_fields=["last_active_at"])
        members = list(room.members.select_related("user"))
    return room, member, members, created


def _member(room_id: str, member_id: str) -> Member | None:
    return (
        Member.objects.select_related("user", "room")
        .filter(room__room_id=room_id, member_id=member_id)
        .first()
    )


def _gone(members: list[Member], *, reason: str) -> None:
    """These members are out of their rooms, which were in use until now (for the
    idle clock)."""
    with transaction.atomic():
        Member.objects.filter(pk__in=[m.pk for m in members]).delete()
        Room.objects.filter(pk__in={m.room_id for m in members}).update(
            last_active_at=timezone.now()
        )
        events.members_left(members, reason=reason)


def room_leave(*, room_id: str, device_id: str) -> Member:
    member = _member(room_id, device_id)
    if member is None:
        raise RoomError("not_in_room", "This device is not in that room.")
    _gone([member], reason="left")
    return member


def room_kick(*, room_id: str, by: User, member_id: str) -> Member:
    room = room_open(room_id=room_id, application_id=by.application_id)
    _require_owner(room, by)
    member = _member(room_id, member_id)
    if member is None:
        raise RoomError("member_not_found", "No such member in this room.")
    _gone([member], reason="kicked")
    return member


def room_mute_all(*, room_id: str, by: User) -> list[Member]:
    """Every other member's microphone goes off (each may turn their own on again;
    nobody can turn someone else's on)."""
    room = room_open(room_id=room_id, application_id=by.application_id)
    _require_owner(room, by)
    others = room.members.exclude(user=by)
    others.update(audio=False)
    return list(others.select_related("user"))


def room_member_media(
    *, room_id: str, device_id: str, audio: bool, video: bool
) -> Member:
    member = _member(room_id, device_id)
    if member is None:
        raise RoomError("not_in_room", "This device is not in that room.")
    member.audio, member.video = audio, video
    member.save(update_fields=["audio", "video"])
    return member


def room_message_post(
    *,
    room_id: str,
    user: User,
    device_id: str,
    kind: str,
    text: str = "",
    data: object = None,
) -> RoomMessage:
    """Store a chat text or a custom JSON message from a member of the room."""
    member = _member(room_id, device_id)
    if member is None:
        raise RoomError("not_in_room", "This device is not in that room.")
    message = RoomMessage.objects.create(
        room=member.room,
        sender=user,
        member_id=device_id,
        kind=kind,
        text=text if kind == RoomMessage.Kind.TEXT else "",
        data=data if kind == RoomMessage.Kind.CUSTOM else None,
    )
    Room.objects.filter(pk=member.room_id).update(last_active_at=message.sent_at)
    return message


def rooms_leave_device(*, device_id: str) -> list[Member]:
    """A socket closed: it leaves every room it was in."""
    members = list(
        Member.objects.select_related("user", "room").filter(member_id=device_id)
    )
    _gone(members, reason="disconnected")
    return members


def rooms_reap_orphans() -> list[Member]:
    """Members whose socket has no device row any more (its process died) leave."""
    live = Device.objects.values_list("device_id", flat=True)
    stale = list(
        Member.objects.select_related("user", "room").exclude(member_id__in=live)
    )
    _gone(stale, reason="disconnected")
    return stale
