"""The /rooms/ page: open rooms listed, and a form that creates one and enters it."""

import re

import pytest
from django.contrib.auth.hashers import check_password
from django.urls import reverse
from django.utils import timezone

from rooms.models import Room, RoomMessage
from rooms.services import room_create, room_join
from tests.factories import RoomFactory, UserFactory

pytestmark = pytest.mark.django_db


def row_of(html: str, room_id: str) -> str:
    """The list item of one room."""
    found = re.search(rf'<li [^>]*data-room-id="{room_id}".*?</li>', html, re.S)
    assert found, f"no row for {room_id}"
    return found.group(0)


def test_the_list_shows_each_open_room_with_its_id_members_and_lock(
    alice_client, user, other_user
):
    """Name, id, members now of at most, a lock for password rooms, and a link in."""
    room_create(owner=user, name="Standup", room_id="standup", password="x")
    room_create(owner=other_user, name="Coffee", room_id="coffee", member_cap=4)
    room_join(user=other_user, device_id="bob-tab", room_id="coffee", password="")
    html = alice_client.get("/rooms/").content.decode()
    standup, coffee = row_of(html, "standup"), row_of(html, "coffee")
    assert "Standup" in standup and ">standup<" in standup
    assert 'href="/rooms/standup/"' in standup
    assert "🔒" in standup and "🔒" not in coffee
    assert "0/6 members" in standup and "1/4 members" in coffee


def test_closed_rooms_are_not_listed(alice_client, user):
    """A closed room is gone from the list."""
    RoomFactory(owner=user, room_id="gone", closed_at=timezone.now())
    html = alice_client.get("/rooms/").content.decode()
    assert 'data-room-id="gone"' not in html
    assert "No open rooms yet." in html


def test_the_header_links_to_the_rooms(alice_client):
    """Every signed-in page's navigation has "Rooms", marked current on /rooms/."""
    home = alice_client.get("/").content.decode()
    assert 'href="/rooms/"' in home
    rooms = alice_client.get("/rooms/").content.decode()
    assert 'href="/rooms/" aria-current="page"' in rooms


def test_creating_a_room_enters_it(alice_client, user):
    """The form makes the room (owned by you, password hashed) and redirects in."""
    answer = alice_client.post(
        "/rooms/",
        {"name": "Retro", "room_id": "retro", "password": "s3", "member_cap": 4},
    )
    assert answer.status_code == 302
    assert answer["Location"] == reverse("room_detail", args=["retro"])
    assert answer["Location"] == "/rooms/retro/"
    room = Room.objects.get(room_id="retro")
    assert (room.name, room.owner, room.member_cap) == ("Retro", user, 4)
    assert check_password("s3", room.password)


def test_a_room_without_a_chosen_id_gets_one(alice_client):
    """Leaving the room id empty lets the server pick it."""
    answer = alice_client.post("/rooms/", {"name": "Quick", "member_cap": 6})
    room = Room.objects.get(name="Quick")
    assert answer["Location"] == f"/rooms/{room.room_id}/"
    assert not room.has_password


def test_a_taken_room_id_is_shown_on_the_form(alice_client, other_user):
    """The form comes back, saying the id is taken, and nothing is created."""
    room_create(owner=other_user, name="Taken", room_id="taken")
    answer = alice_client.post(
        "/rooms/", {"name": "Again", "room_id": "taken", "member_cap": 6}
    )
    assert answer.status_code == 200
    html = answer.content.decode()
    assert "The room id taken is taken." in html
    assert 'value="Again"' in html  # what was typed stays
    assert Room.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"name": "x", "room_id": "no spaces"}, "A room id is letters, digits"),
        ({"name": "x", "member_cap": 1}, "greater than or equal to 2"),
        ({"name": "x", "member_cap": 99}, "less than or equal to 16"),
        ({"name": "   "}, "This field is required."),
    ],
)
def test_a_bad_room_is_explained_on_the_form(alice_client, fields, says):
    """Each mistake is shown on the form and no room is made."""
    answer = alice_client.post("/rooms/", {"member_cap": 6} | fields)
    assert answer.status_code == 200
    assert says in answer.content.decode()
    assert not Room.objects.exists()


def test_the_page_and_its_errors_are_in_chinese(alice_client, other_user):
    """With zh-hans, the list, the form and the taken-id error are in Chinese."""
    room_create(owner=other_user, name="Taken", room_id="taken")
    answer = alice_client.post(
        "/rooms/",
        {"name": "Again", "room_id": "taken", "member_cap": 6},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert answer["Content-Language"] == "zh-hans"
    html = answer.content.decode()
    assert "创建房间" in html
    assert "房间 ID taken 已被占用。" in html


def test_anonymous_visitors_are_sent_to_log_in(client):
    """Signed-out visitors go to the login page (and come back after); their
    form posts create nothing."""
    for answer in (
        client.get("/rooms/"),
        client.post("/rooms/", {"name": "Sneaky", "member_cap": 6}),
    ):
        assert answer.status_code == 302
        assert answer["Location"] == "/accounts/login/?next=/rooms/"
    assert not Room.objects.exists()


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


def test_a_room_can_be_made_for_its_owner_to_invite_alone(alice_client):
    alice_client.post(
        "/rooms/",
        {"name": "Board", "room_id": "board", "member_cap": 4, "owner_invites": "on"},
    )
    assert Room.objects.get(room_id="board").inviters == "owner"


def test_the_invite_picker_is_for_those_who_may_invite(alice_client, bob_client, user):
    room_create(owner=user, name="Board", room_id="board", inviters="owner")
    room_create(owner=user, name="Open", room_id="open")
    assert 'id="room-invite"' in alice_client.get("/rooms/board/").content.decode()
    assert 'id="room-invite"' not in bob_client.get("/rooms/board/").content.decode()
    page = bob_client.get("/rooms/open/").content.decode()
    assert 'id="room-invite"' in page and 'value="alice"' in page


def test_a_group_call_from_home_makes_a_room_that_rings_the_people_picked(
    alice_client, user, other_user
):
    UserFactory(username="carol")
    answer = alice_client.post(
        "/rooms/group-call/start/", {"invite": ["bob", "carol", "ghost"]}
    )
    room = Room.objects.get(owner=user)
    assert answer["Location"] == f"/rooms/{room.room_id}/?invite=bob,carol"
    assert room.name == "Alice's group call"


@pytest.mark.parametrize("picked", [[], ["bob"], ["bob", "ghost"]])
def test_a_group_call_needs_two_people(alice_client, other_user, picked):
    answer = alice_client.post(
        "/rooms/group-call/start/", {"invite": picked}, follow=True
    )
    assert "Pick from two to" in answer.content.decode()
    assert not Room.objects.exists()
