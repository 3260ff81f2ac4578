"""Writes for accounts: device (presence) rows as sockets come and go, and the
users applications bring."""

import re
from datetime import datetime, timedelta

from channels.layers import get_channel_layer
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import EXTERNAL_ID_PATTERN, Application, Device, User
from accounts.selectors import user_online_state
from calls.protocol import Presence, UserInfo, encode
from config.db_threads import db_async


def device_connect(*, user: User, device_id: str, channel_name: str) -> Device:
    """Record a newly opened socket of `user`."""
    now = timezone.now()
    return Device.objects.create(
        user=user,
        device_id=device_id,
        channel_name=channel_name,
        connected_at=now,
        last_seen=now,
    )


def device_online(*, user: User, device_id: str, channel_name: str) -> bool:
    """Record a newly opened socket; True if it brought `user` online, which is the
    only time everyone needs telling. Checked before the row exists, so of two sockets
    opening at once at least one answers True."""
    was_online = user_online_state(user=user) == "online"
    device_connect(user=user, device_id=device_id, channel_name=channel_name)
    return not was_online


def device_offline(*, user: User, device_id: str) -> bool:
    """Forget a socket that closed; True if that took `user` offline. Checked after
    the row is gone, so of two sockets closing at once at least one answers True."""
    device_disconnect(device_id=device_id)
    return user_online_state(user=user) == "offline"


def device_keepalive(*, user: User, device_id: str, channel_name: str) -> bool:
    """Mark a device as still connected. True if its row had been swept and was
    recreated (the device had been announced offline)."""
    now = timezone.now()
    # One UPDATE in the common case (update_or_create locks and reads first).
    if Device.objects.filter(device_id=device_id).update(last_seen=now):
        return False
    _, created = Device.objects.get_or_create(
        device_id=device_id,
        defaults={
            "user": user,
            "channel_name": channel_name,
            "connected_at": now,
            "last_seen": now,
        },
    )
    return created


# Device ids in one UPDATE of devices_refresh (SQLite allows 32 766 parameters).
REFRESH_CHUNK = 1000


def devices_refresh(*, device_ids: list[str]) -> set[str]:
    """Mark many devices as still connected: the heartbeat of a whole process, one
    UPDATE per thousand devices. Returns the ids that have no row any more (a sweep
    took it while the socket lived; device_keepalive writes it again)."""
    now = timezone.now()
    missing: set[str] = set()
    for start in range(0, len(device_ids), REFRESH_CHUNK):
        chunk = device_ids[start : start + REFRESH_CHUNK]
        rows = Device.objects.filter(device_id__in=chunk)
        if rows.update(last_seen=now) < len(chunk):
            missing.update(set(chunk) - set(rows.values_list("device_id", flat=True)))
    return missing


def device_disconnect(*, device_id: str) -> None:
    """Forget a socket that closed."""
    Device.objects.filter(device_id=device_id).delete()


def presence_sweep(*, now: datetime | None = None) -> list[User]:
    """Delete device rows no process has refreshed lately (their process died).

    Returns the users that had such rows, so their new state can be announced.
    """
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.PRESENCE_STALE_AFTER)
    with transaction.atomic():
        stale = Device.objects.filter(last_seen__lt=cutoff)
        user_ids = set(stale.values_list("user_id", flat=True))
        stale.delete()
    return list(User.objects.filter(pk__in=user_ids))


class InvalidExternalId(ValueError):
    """Not a user id an application may use (EXTERNAL_ID_PATTERN)."""


def app_user_get_or_create(*, application: Application, user_id: str) -> User:
    """The application's user `user_id`, created the first time the app names them."""
    if not re.fullmatch(EXTERNAL_ID_PATTERN, user_id):
        raise InvalidExternalId("A user id is 1 to 100 of A-Z a-z 0-9 and _ . @ + -.")
    lookup = {"application": application, "external_id": user_id}
    user = User.objects.filter(**lookup).first()
    if user is not None:
        return user
    try:
        with transaction.atomic():
            user = User(username=f"{application.app_id}:{user_id}", **lookup)
            user.set_unusable_password()  # app users never use the log-in page
            user.save()
            return user
    except IntegrityError:  # created meanwhile by another request
        return User.objects.get(**lookup)


PRESENCE_GROUP = "presence"


def _presence_event(user: User) -> dict:
    info, state = UserInfo.of(user), user_online_state(user=user)
    return {
        "type": "presence.changed",
        "user": info.model_dump(),
        "state": state,
        # Presence stays inside a namespace: Parley's own users, or one application's.
        "namespace": user.application_id,
        # Encoded once here, not once per receiving socket.
        "text": encode(Presence(user=info, state=state)),
    }


async def presence_announce(*, user: User) -> None:
    """Tell every signed-in socket of the user's namespace whether `user` is now
    online or offline."""
    event = await db_async(_presence_event)(user)
    await get_channel_layer().group_send(PRESENCE_GROUP, event)
