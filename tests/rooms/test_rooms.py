"""Rooms without sockets: idle rooms close, the pages, the admin."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from rooms.models import Member, Room, RoomMessage
from rooms.services import (
    RoomError,
    room_create,
    room_join,
    room_open,
    rooms_close_idle,
)

pytestmark = pytest.mark.django_db


def make_idle(room, hours=49):
    Room.objects.filter(pk=room.pk).update(
        last_active_at=timezone.now() - timedelta(hours=hours)
    )


def test_rooms_unused_for_48_hours_are_closed_by_the_sweep(user, capsys):
    old, fresh = (
        room_create(owner=user, name="Old"),
        room_create(owner=user, name="Fresh"),
    )
    make_idle(old)
    call_command("sweep_rooms")
    assert "Closed 1 idle room(s)." in capsys.readouterr().out
    old.refresh_from_db(), fresh.refresh_from_db()
    assert old.closed_at is not None and fresh.closed_at is None


def test_an_idle_room_is_closed_lazily_when_someone_comes(user):
    room = room_create(owner=user, name="Old", room_id="old")
    make_idle(room)
    with pytest.raises(RoomError) as caught:
        room_open(room_id="old")
    assert caught.value.slug == "room_closed"


def test_a_room_with_people_in_it_is_never_idle(user, other_user):
    room = room_create(owner=user, name="Busy", room_id="busy")
    room_join(user=other_user, device_id="d1", room_id="busy")
    make_idle(room)
    assert rooms_close_idle() == []
    assert room_open(room_id="busy") == room


def test_the_list_page_shows_open_rooms_and_creates_one(client, user):
    room_create(owner=user, name="Standup", room_id="standup", password="x")
    client.force_login(user)
    page = client.get("/rooms/").content.decode()
    assert 'data-room-id="standup"' in page and "🔒" in page
    answer = client.post(
        "/rooms/", {"name": "Retro", "room_id": "retro", "member_cap": 4}
    )
    assert answer.status_code == 302 and answer["Location"] == "/rooms/retro/"
    assert Room.objects.get(room_id="retro").member_cap == 4


def test_the_create_form_shows_why_it_failed(client, user):
    room_create(owner=user, name="Taken", room_id="taken")
    client.force_login(user)
    page = client.post(
        "/rooms/", {"name": "Again", "room_id": "taken", "member_cap": 6}
    )
    assert page.status_code == 200
    assert "is taken" in page.content.decode()


def test_the_room_page_shows_the_chat_history(client, user):
    room = room_create(owner=user, name="Team", room_id="team")
    RoomMessage.objects.create(
        room=room, sender=user, kind="text", text="see you at 10"
    )
    RoomMessage.objects.create(
        room=room, sender=user, kind="custom", data={"hand": "up"}
    )
    client.force_login(user)
    page = client.get("/rooms/team/").content.decode()
    assert "see you at 10" in page and "{&quot;hand&quot;: &quot;up&quot;}" in page
    assert 'data-owner="true"' in page
    assert client.get("/rooms/nope/").status_code == 404


def test_room_pages_need_a_signed_in_user(client):
    assert client.get("/rooms/").status_code == 302


def test_the_admin_lists_rooms_and_closes_them(admin_client, user):
    room = room_create(owner=user, name="Team", room_id="team")
    Member.objects.create(room=room, user=user, member_id="d1")
    for path in (
        "/admin/rooms/room/",
        "/admin/rooms/member/",
        "/admin/rooms/roommessage/",
    ):
        assert admin_client.get(path).status_code == 200
    answer = admin_client.post(
        "/admin/rooms/room/",
        {"action": "close_rooms", "_selected_action": [room.pk]},
        follow=True,
    )
    assert "1 room closed." in answer.content.decode()
    room.refresh_from_db()
    assert room.closed_at is not None and not room.members.exists()
