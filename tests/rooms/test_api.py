"""Rooms over REST: listing, creating, changing, closing; validation and permissions."""

import pytest
from django.test import Client

from rooms.models import Room, RoomMessage
from rooms.services import room_create, room_join

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_api(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def bob_api(other_user):
    client = Client()
    client.force_login(other_user)
    return client


def post(client, path, body):
    return client.post(path, body, content_type="application/json")


def test_create_with_a_chosen_id_and_info_then_list_it(alice_api):
    answer = post(
        alice_api,
        "/api/rooms",
        {"room_id": "standup", "name": "Standup", "info": {"topic": "daily"}},
    )
    assert answer.status_code == 201
    body = answer.json()
    assert (body["room_id"], body["info"], body["member_cap"]) == (
        "standup",
        {"topic": "daily"},
        6,
    )
    assert body["owner"]["username"] == "alice" and body["has_password"] is False
    listed = alice_api.get("/api/rooms").json()
    assert [r["room_id"] for r in listed["items"]] == ["standup"]


def test_the_server_assigns_an_id_when_none_is_given(alice_api):
    body = post(alice_api, "/api/rooms", {"name": "Quick chat"}).json()
    assert Room.objects.get(room_id=body["room_id"]).name == "Quick chat"


@pytest.mark.parametrize(
    ("body", "slug"),
    [
        ({"room_id": "no spaces", "name": "x"}, "invalid_room"),
        ({"room_id": "x" * 65, "name": "x"}, "invalid_room"),
        ({"name": "x", "info": {"blob": "y" * 5000}}, "invalid_room"),
        ({"name": "x", "member_cap": 1}, "invalid_room"),
        ({"name": "x", "member_cap": 99}, "invalid_room"),
        ({"name": "   "}, "invalid_room"),
        ({"name": "x", "info": ["not", "an", "object"]}, "invalid_request"),
        ({"room_id": "a"}, "invalid_request"),
    ],
)
def test_bad_rooms_are_refused(alice_api, body, slug):
    answer = post(alice_api, "/api/rooms", body)
    assert answer.status_code == 422
    assert answer.json()["error"] == slug
    assert not Room.objects.exists()


def test_a_taken_id_is_a_conflict(alice_api, user):
    room_create(owner=user, name="First", room_id="taken")
    answer = post(alice_api, "/api/rooms", {"room_id": "taken", "name": "Second"})
    assert (answer.status_code, answer.json()["error"]) == (409, "room_taken")


def test_only_the_owner_changes_or_closes_a_room(alice_api, bob_api, user):
    room_create(owner=user, name="Mine", room_id="mine")
    answer = bob_api.patch(
        "/api/rooms/mine", {"name": "Ours"}, content_type="application/json"
    )
    assert (answer.status_code, answer.json()["error"]) == (403, "not_room_owner")
    answer = bob_api.delete("/api/rooms/mine")
    assert (answer.status_code, answer.json()["error"]) == (403, "not_room_owner")
    answer = alice_api.patch(
        "/api/rooms/mine",
        {"name": "Renamed", "password": "s3"},
        content_type="application/json",
    )
    assert answer.status_code == 200
    assert (answer.json()["name"], answer.json()["has_password"]) == ("Renamed", True)
    assert alice_api.delete("/api/rooms/mine").status_code == 204
    assert alice_api.get("/api/rooms").json()["items"] == []
    assert alice_api.get("/api/rooms/mine").json()["closed_at"] is not None


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_a_missing_room_is_404(alice_api, method):
    body = {} if method == "get" else {"data": "{}"}
    answer = getattr(alice_api, method)(
        "/api/rooms/nope", content_type="application/json", **body
    )
    assert (answer.status_code, answer.json()["error"]) == (404, "room_not_found")


def test_anonymous_callers_are_refused():
    assert Client().get("/api/rooms").status_code == 401
    assert (
        Client().post("/api/rooms", {}, content_type="application/json").status_code
        == 401
    )


def test_members_and_message_history(alice_api, user, other_user):
    room = room_create(owner=user, name="Chat", room_id="chat")
    room_join(user=other_user, device_id="bob-tab", room_id="chat")
    for n in range(55):
        RoomMessage.objects.create(room=room, sender=user, kind="text", text=f"m{n}")
    members = alice_api.get("/api/rooms/chat/members").json()
    assert [(m["member_id"], m["user"]["username"]) for m in members] == [
        ("bob-tab", "bob")
    ]
    first = alice_api.get("/api/rooms/chat/messages").json()
    assert first["count"] == 55
    assert [m["text"] for m in first["items"][:2]] == ["m0", "m1"]
    second = alice_api.get("/api/rooms/chat/messages?page=2").json()
    assert [m["text"] for m in second["items"]] == ["m50", "m51", "m52", "m53", "m54"]


def test_a_password_is_stored_hashed(user):
    room = room_create(owner=user, name="Secret", password="hunter2")
    assert room.password and "hunter2" not in room.password
