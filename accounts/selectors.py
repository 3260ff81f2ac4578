"""Reads for accounts: who exists and who is online."""

from datetime import datetime, timedelta
from typing import Literal

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from accounts.models import Device, User

OnlineState = Literal["online", "offline"]


def _live_devices(now: datetime | None = None) -> QuerySet[Device]:
    # Rows past the stale limit count as gone even before a sweep removes them.
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.PRESENCE_STALE_AFTER)
    return Device.objects.filter(last_seen__gte=cutoff)


def user_online_state(*, user: User) -> OnlineState:
    return "online" if _live_devices().filter(user=user).exists() else "offline"


def users_online_state(*, usernames: list[str]) -> dict[str, OnlineState | None]:
    """Each asked username → its state; None for a name that is not a user."""
    online = set(
        _live_devices()
        .filter(user__username__in=usernames)
        .values_list("user__username", flat=True)
    )
    known = set(
        User.objects.filter(username__in=usernames, is_active=True).values_list(
            "username", flat=True
        )
    )
    return {
        name: ("online" if name in online else "offline") if name in known else None
        for name in usernames
    }


def user_list_with_state(*, exclude: User | None = None) -> QuerySet[User]:
    """Active users, each annotated with `is_online`, online first then by name."""
    users = User.objects.filter(is_active=True).annotate(
        is_online=Exists(_live_devices().filter(user=OuterRef("pk")))
    )
    if exclude is not None:
        users = users.exclude(pk=exclude.pk)
    return users.order_by("-is_online", "username")


def live_device_ids(*, user: User) -> list[str]:
    """The user's connected devices, oldest first."""
    return list(
        _live_devices()
        .filter(user=user)
        .order_by("connected_at")
        .values_list("device_id", flat=True)
    )
