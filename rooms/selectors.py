"""Reads for rooms."""

from django.db.models import Count, QuerySet

from rooms.models import Member, Room, RoomMessage


def rooms_of(application_id: int | None) -> QuerySet[Room]:
    """Rooms of one namespace (the owner's): Parley's own users', or an application's."""
    return Room.objects.filter(owner__application_id=application_id)


def rooms_open(*, application_id: int | None = None) -> QuerySet[Room]:
    """Open rooms, most recently active first, with `member_count`."""
    return (
        rooms_of(application_id)
        .filter(closed_at__isnull=True)
        .select_related("owner")
        .annotate(member_count=Count("members"))
        # Meta.ordering is dropped from GROUP BY queries: say it again.
        .order_by("-last_active_at", "-pk")
    )


def room_members(*, room: Room) -> QuerySet[Member]:
    return room.members.select_related("user")


def room_messages(*, room: Room) -> QuerySet[RoomMessage]:
    """A room's messages, oldest first."""
    return room.messages.select_related("sender")


def room_by_id(*, room_id: str, application_id: int | None = None) -> Room | None:
    """One room, open or closed, with `member_count`; None if there is none."""
    return (
        rooms_of(application_id)
        .filter(room_id=room_id)
        .select_related("owner")
        .annotate(member_count=Count("members"))
        .first()
    )
