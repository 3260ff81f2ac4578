"""Rooms, members and room messages in the admin: listed, filtered, searched; rooms
can be closed (everyone in them is told); members and messages are not edited."""

import re
from html import unescape

import pytest
from django.utils import timezone

from rooms.models import Member, Room, RoomMessage
from rooms.services import room_join
from tests.factories import RoomFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def told(monkeypatch):
    """What the admin told the sockets: [(room_id, [member_id, …]), …]."""
    calls = []
    monkeypatch.setattr(
        "rooms.admin.room_announce_closed_sync",
        lambda room_id, members: calls.append(
            (room_id, sorted(m.member_id for m in members))
        ),
    )
    return calls


@pytest.fixture
def standup(user, other_user) -> Room:
    """An open room with two devices in it and a line of chat."""
    room = RoomFactory(owner=user, room_id="standup", name="Standup")
    room_join(user=user, device_id="alice-tab", room_id="standup")
    room_join(user=other_user, device_id="bob-tab", room_id="standup")
    RoomMessage.objects.create(
        room=room, sender=user, member_id="alice-tab", kind="text", text="morning"
    )
    return room


def test_the_room_list_shows_rooms_with_their_member_count(admin_client, standup):
    """Each room's id, name, owner and how many are in it now."""
    answer = admin_client.get("/admin/rooms/room/")
    assert answer.status_code == 200
    html = answer.content.decode()
    row = re.search(r"<tr[^>]*>(?:(?!</tr>).)*standup(?:(?!</tr>).)*</tr>", html, re.S)
    assert row, "no row for the room"
    assert "Standup" in row.group(0) and "alice" in row.group(0)
    assert '<td class="field-member_count">2</td>' in row.group(0)


def test_every_filter_and_date_link_of_the_room_list_loads(admin_client, standup):
    """Open/closed and creation-date filters, and the date drill-down, all load."""
    RoomFactory(owner=standup.owner, closed_at=timezone.now())
    html = admin_client.get("/admin/rooms/room/").content.decode()
    links = set(re.findall(r'href="(\?[^"]+)"', html))
    for field in ("closed_at", "created_at"):
        assert any(f"{field}__" in link for link in links), field
    for link in links:
        answer = admin_client.get("/admin/rooms/room/" + unescape(link))
        assert answer.status_code == 200, link
        assert b"errornote" not in answer.content, link


def test_open_and_closed_rooms_can_be_told_apart(admin_client, standup):
    """The closed-at filter's "empty" choice lists open rooms only."""
    RoomFactory(owner=standup.owner, room_id="gone", closed_at=timezone.now())
    open_only = admin_client.get("/admin/rooms/room/?closed_at__isempty=1")
    html = open_only.content.decode()
    assert "standup" in html and "gone" not in html


def test_search_finds_a_room_by_id_name_or_owner(admin_client, standup, other_user):
    """The search box looks at the id, the name and the owner's username."""
    theirs = RoomFactory(owner=other_user, room_id="coffee", name="Coffee")
    for query in ("standup", "Standup", "alice"):
        html = admin_client.get(f"/admin/rooms/room/?q={query}").content.decode()
        assert "standup" in html and theirs.room_id not in html, query


def test_the_member_and_message_lists_load(admin_client, standup):
    """Both lists show the room's rows, and can be searched by room id."""
    members = admin_client.get("/admin/rooms/member/?q=standup")
    assert members.status_code == 200
    assert "alice-tab" in members.content.decode()
    assert "bob-tab" in members.content.decode()
    messages = admin_client.get("/admin/rooms/roommessage/?q=standup")
    assert messages.status_code == 200
    assert "morning" in messages.content.decode()


def test_members_and_messages_are_read_only(admin_client, standup):
    """No adding and no saving; the pages only show."""
    member = Member.objects.get(member_id="bob-tab")
    message = RoomMessage.objects.get()
    for model, obj in (("member", member), ("roommessage", message)):
        assert admin_client.get(f"/admin/rooms/{model}/add/").status_code == 403
        page = admin_client.get(f"/admin/rooms/{model}/{obj.pk}/change/")
        assert page.status_code == 200
        assert 'name="_save"' not in page.content.decode()


def test_rooms_are_not_added_in_the_admin(admin_client, standup):
    """Rooms come from their owners (page, API); the admin may only change them."""
    assert admin_client.get("/admin/rooms/room/add/").status_code == 403
    page = admin_client.get(f"/admin/rooms/room/{standup.pk}/change/")
    assert page.status_code == 200
    assert 'name="name"' in page.content.decode()


def test_the_close_action_closes_rooms_and_tells_everyone_in_them(
    admin_client, standup, told
):
    """The action closes each selected open room, empties it, and tells its members."""
    answer = admin_client.post(
        "/admin/rooms/room/",
        {"action": "close_rooms", "_selected_action": [standup.pk]},
        follow=True,
    )
    assert "1 room closed." in answer.content.decode()
    standup.refresh_from_db()
    assert standup.closed_at is not None
    assert not standup.members.exists()
    assert told == [("standup", ["alice-tab", "bob-tab"])]


def test_the_close_action_skips_rooms_already_closed(admin_client, user, told):
    """A closed room keeps its closing time and nobody is told again."""
    when = timezone.now().replace(microsecond=0)
    gone = RoomFactory(owner=user, closed_at=when)
    answer = admin_client.post(
        "/admin/rooms/room/",
        {"action": "close_rooms", "_selected_action": [gone.pk]},
        follow=True,
    )
    assert "0 rooms closed." in answer.content.decode()
    gone.refresh_from_db()
    assert gone.closed_at == when
    assert told == []
