"""Room writes without sockets: creating (ids, passwords) and closing idle rooms, by
the sweep and lazily when someone comes."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import check_password
from django.core.management import call_command
from django.utils import timezone

from rooms.models import ROOM_ID_PATTERN, Room
from rooms.services import (
    RoomError,
    room_create,
    room_join,
    room_leave,
    room_open,
    rooms_close_idle,
)
from tests.factories import RoomFactory

pytestmark = pytest.mark.django_db


def closed(room: Room) -> bool:
    room.refresh_from_db()
    return room.closed_at is not None


# --- creating -------------------------------------------------------------------------


def test_room_create_assigns_an_id_when_none_is_chosen(user):
    """Each room gets its own id, in the alphabet a chosen id may use."""
    first = room_create(owner=user, name="One")
    second = room_create(owner=user, name="Two")
    assert re.fullmatch(ROOM_ID_PATTERN, first.room_id)
    assert first.room_id != second.room_id


def test_room_create_keeps_a_chosen_id_and_tidies_the_name(user):
    """The creator's id is used as given; the name loses surrounding spaces."""
    room = room_create(owner=user, name="  Standup  ", room_id="Team_standup-1")
    assert (room.room_id, room.name, room.owner) == ("Team_standup-1", "Standup", user)
    assert (room.member_cap, room.info, room.closed_at) == (6, {}, None)


def test_room_create_refuses_a_taken_id(user, other_user):
    """A second room with the same id is `room_taken`; the first is untouched."""
    room_create(owner=user, name="First", room_id="taken")
    with pytest.raises(RoomError) as refused:
        room_create(owner=other_user, name="Second", room_id="taken")
    assert (refused.value.slug, refused.value.status) == ("room_taken", 409)
    assert Room.objects.get().name == "First"


def test_passwords_are_stored_hashed(user):
    """The stored password is a hash that checks against the original."""
    room = room_create(owner=user, name="Secret", password="hunter2")
    assert room.has_password
    assert "hunter2" not in room.password
    assert check_password("hunter2", room.password)


def test_a_room_without_a_password_has_none(user):
    """No password means anyone may enter: nothing is stored."""
    room = room_create(owner=user, name="Open")
    assert (room.password, room.has_password) == ("", False)


# --- idle rooms -----------------------------------------------------------------------


def test_rooms_close_idle_closes_rooms_unused_for_room_idle_ttl(user):
    """Only rooms untouched for longer than ROOM_IDLE_TTL (48 h) are closed."""
    idle = RoomFactory(owner=user, idle=True)
    fresh = RoomFactory(owner=user)
    assert rooms_close_idle() == [idle]
    assert closed(idle)
    assert not closed(fresh)


def test_rooms_close_idle_follows_the_setting(user, settings):
    """ROOM_IDLE_TTL is read when the sweep runs, not fixed at 48 h."""
    settings.ROOM_IDLE_TTL = 60
    room = RoomFactory(
        owner=user, last_active_at=timezone.now() - timedelta(seconds=61)
    )
    assert rooms_close_idle() == [room]


def test_rooms_close_idle_leaves_a_room_someone_is_in(user, other_user):
    """However long ago it was last used, a room with a member stays open."""
    room = RoomFactory(owner=user, room_id="busy")
    room_join(user=other_user, device_id="bob-tab", room_id="busy")
    Room.objects.filter(pk=room.pk).update(
        last_active_at=timezone.now() - timedelta(days=9)
    )
    assert rooms_close_idle() == []
    assert not closed(room)


def test_rooms_close_idle_does_not_reclose_closed_rooms(user):
    """A room closed earlier keeps its closing time."""
    when = timezone.now() - timedelta(days=3)
    room = RoomFactory(owner=user, idle=True, closed_at=when)
    assert rooms_close_idle() == []
    room.refresh_from_db()
    assert room.closed_at == when


def test_room_open_closes_an_idle_room_lazily(user):
    """Coming to a room idle past ROOM_IDLE_TTL closes it then and there."""
    room = RoomFactory(owner=user, room_id="old", idle=True)
    with pytest.raises(RoomError) as refused:
        room_open(room_id="old")
    assert (refused.value.slug, refused.value.status) == ("room_closed", 409)
    assert closed(room)


def test_room_open_keeps_a_recently_used_room_open(user):
    """Within ROOM_IDLE_TTL the room is simply there."""
    room = RoomFactory(owner=user, room_id="recent")
    assert room_open(room_id="recent") == room
    assert not closed(room)


def test_room_open_keeps_an_old_room_open_while_someone_is_in_it(user, other_user):
    """A member in the room keeps it alive, and others may still enter."""
    room = RoomFactory(owner=user, room_id="busy")
    room_join(user=other_user, device_id="bob-tab", room_id="busy")
    Room.objects.filter(pk=room.pk).update(
        last_active_at=timezone.now() - timedelta(days=9)
    )
    assert room_open(room_id="busy") == room
    room_join(user=user, device_id="alice-tab", room_id="busy")
    assert not closed(room)


def test_leaving_counts_as_using_the_room(user, other_user):
    """The idle clock starts when the last member leaves, not when they entered."""
    room = RoomFactory(owner=user, room_id="late")
    room_join(user=other_user, device_id="bob-tab", room_id="late")
    Room.objects.filter(pk=room.pk).update(
        last_active_at=timezone.now() - timedelta(days=9)
    )
    room_leave(room_id="late", device_id="bob-tab")
    assert rooms_close_idle() == []
    assert room_open(room_id="late") == room


def test_room_open_of_a_missing_room_is_room_not_found(db):
    """An id nobody created is `room_not_found` (404)."""
    with pytest.raises(RoomError) as refused:
        room_open(room_id="nope")
    assert (refused.value.slug, refused.value.status) == ("room_not_found", 404)


# --- the sweep command ----------------------------------------------------------------


def test_the_sweep_command_closes_idle_rooms_and_says_how_many(user, capsys):
    """`manage.py sweep_rooms` closes the idle rooms and prints the count."""
    first, second = (
        RoomFactory(owner=user, idle=True),
        RoomFactory(owner=user, idle=True),
    )
    fresh = RoomFactory(owner=user)
    call_command("sweep_rooms")
    assert "Closed 2 idle room(s)." in capsys.readouterr().out
    assert closed(first) and closed(second) and not closed(fresh)


def test_the_sweep_command_with_nothing_to_do(user, capsys):
    """With no idle room it closes nothing, and says so."""
    room = RoomFactory(owner=user)
    call_command("sweep_rooms")
    assert "Closed 0 idle room(s)." in capsys.readouterr().out
    assert not closed(room)
