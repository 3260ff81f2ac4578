"""Reads for accounts: who exists and who is online."""

from datetime import datetime, timedelta
from typing import Literal

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from accounts.models import Device, User
from config.compiled import CompiledQuery, Param, any_of

OnlineState = Literal["online", "offline"]


def _live_cutoff(now: datetime | None = None) -> datetime:
    # Rows past the stale limit count as gone even before a sweep removes them.
    return (now or timezone.now()) - timedelta(seconds=settings.PRESENCE_STALE_AFTER)


def _live_devices(now: datetime | None = None) -> QuerySet[Device]:
    return Device.objects.filter(last_seen__gte=_live_cutoff(now))


def user_online_state(*, user: User) -> OnlineState:
    return "online" if _live_devices().filter(user=user).exists() else "offline"


def users_in_namespace(application_id: int | None) -> QuerySet[User]:
    """Active users of one namespace: Parley's own (None) or one application's."""
    return User.objects.filter(is_active=True, application_id=application_id)


def _handle_field(application_id: int | None) -> str:
    return "external_id" if application_id else "username"


# Calls look people up by name on every invite: compiled (config/compiled.py), by
# whether the namespace is Parley's own or an application's.
_USER_BY_HANDLE = CompiledQuery(
    lambda of_app: (
        users_in_namespace(Param("app") if of_app else None)
        .filter(**{_handle_field(of_app): Param("handle")})
        .order_by()[:1]
    )
)


def user_by_handle(*, handle: str, application_id: int | None) -> User | None:
    """The user called `handle` in a namespace (see User.handle)."""
    shape = (application_id is not None,)
    return _USER_BY_HANDLE.first(shape=shape, app=application_id, handle=handle)


def users_by_handle(
    *, handles: list[str], application_id: int | None
) -> dict[str, User]:
    field = _handle_field(application_id)
    users = users_in_namespace(application_id).filter(**{f"{field}__in": handles})
    return {user.handle: user for user in users}


def users_online_state(
    *, handles: list[str], application_id: int | None = None
) -> dict[str, OnlineState | None]:
    """Each asked name → its state; None for a name that is not a user."""
    known = users_by_handle(handles=handles, application_id=application_id)
    online = set(
        _live_devices()
        .filter(user__in=known.values())
        .values_list("user_id", flat=True)
    )
    return {
        name: (
            ("online" if known[name].pk in online else "offline")
            if name in known
            else None
        )
        for name in handles
    }


def user_list_with_state(*, viewer: User | None = None) -> QuerySet[User]:
    """The people a viewer may call (their namespace, not themselves), each annotated
    with `is_online`, online first then by name."""
    users = users_in_namespace(viewer.application_id if viewer else None).annotate(
        is_online=Exists(_live_devices().filter(user=OuterRef("pk")))
    )
    if viewer is not None:
        users = users.exclude(pk=viewer.pk)
    return users.order_by("-is_online", "username")


# Each call setup reads its people's devices: compiled, by how many people.
_LIVE_DEVICES_OF = CompiledQuery(
    lambda count: (
        Device.objects.filter(
            any_of("user_id", "users", count),
            last_seen__gte=Param("since", Device._meta.get_field("last_seen")),
        )
        .order_by("connected_at")
        .values_list("user_id", "device_id")
    )
)


def live_devices_of(*, users) -> dict[int, list[str]]:
    """Each user's (pk) connected devices, oldest first; users with none are absent.
    `users`: User objects or pks (at most a few hundred: one SQL shape per count)."""
    ids = list(dict.fromkeys(getattr(user, "pk", user) for user in users))
    devices: dict[int, list[str]] = {}
    if not ids:
        return devices
    rows = _LIVE_DEVICES_OF.all(shape=(len(ids),), users=ids, since=_live_cutoff())
    for user_id, device_id in rows:
        devices.setdefault(user_id, []).append(device_id)
    return devices


def live_device_ids(*, user: User) -> list[str]:
    """The user's connected devices, oldest first."""
    return live_devices_of(users=[user]).get(user.pk, [])
