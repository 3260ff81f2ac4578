"""Rooms over REST: listing, creating, reading, changing, closing; members and chat
history; validation, permissions and their error slugs."""

import pytest
from django.test import Client
from django.utils import timezone

from accounts.usersig import usersig_issue
from rooms.models import MAX_INFO_BYTES, Member, Room, RoomMessage
from rooms.services import room_create, room_join
from tests.factories import RoomFactory

pytestmark = pytest.mark.django_db


def post(client, path, body):
    return client.post(path, body, content_type="application/json")


def patch(client, path, body):
    return client.patch(path, body, content_type="application/json")


def send(client, method, path):
    """A request with an empty JSON body where the method takes one."""
    if method == "get":
        return client.get(path)
    return getattr(client, method)(path, "{}", content_type="application/json")


def error_of(answer) -> tuple[int, str]:
    return answer.status_code, answer.json()["error"]


# --- list and create ------------------------------------------------------------------


def test_a_room_created_with_a_chosen_id_and_info_is_listed(alice_client, user):
    """POST answers 201 with the room; GET /api/rooms lists it with its details."""
    answer = post(
        alice_client,
        "/api/rooms",
        {"room_id": "standup", "name": "Standup", "info": {"topic": "daily"}},
    )
    assert answer.status_code == 201
    body = answer.json()
    assert body["room_id"] == "standup"
    assert body["info"] == {"topic": "daily"}
    assert body["owner"] == {
        "id": user.pk,
        "username": "alice",
        "display_name": "Alice",
    }
    assert (body["member_cap"], body["member_count"]) == (6, 0)
    assert (body["has_password"], body["closed_at"]) == (False, None)
    listed = alice_client.get("/api/rooms").json()
    assert listed["count"] == 1
    assert listed["items"] == [body]


def test_the_server_assigns_an_id_when_none_is_given(alice_client):
    """Without `room_id` the room still gets one, in the allowed alphabet."""
    body = post(alice_client, "/api/rooms", {"name": "Quick chat"}).json()
    assert Room.objects.get(room_id=body["room_id"]).name == "Quick chat"


def test_a_password_is_never_shown_only_that_there_is_one(alice_client):
    """The answer says `has_password`, and holds neither the password nor its hash."""
    answer = post(alice_client, "/api/rooms", {"name": "Secret", "password": "hunter2"})
    assert answer.json()["has_password"] is True
    assert "password" not in answer.json()
    assert "hunter2" not in answer.content.decode()


def test_the_list_shows_open_rooms_only_20_a_page_with_member_counts(
    alice_client, user, other_user
):
    """Closed rooms are left out; each page holds 20; `member_count` counts devices."""
    for _ in range(21):
        RoomFactory(owner=user)
    RoomFactory(owner=user, room_id="gone", closed_at=timezone.now())
    busy = RoomFactory(owner=user, room_id="busy")
    room_join(user=other_user, device_id="bob-phone", room_id="busy")
    room_join(user=other_user, device_id="bob-laptop", room_id="busy")
    first = alice_client.get("/api/rooms").json()
    second = alice_client.get("/api/rooms?page=2").json()
    assert first["count"] == 22
    assert (len(first["items"]), len(second["items"])) == (20, 2)
    listed = {r["room_id"]: r for r in first["items"] + second["items"]}
    assert "gone" not in listed
    assert listed[busy.room_id]["member_count"] == 2
    # Most recently active first: joining made "busy" the latest.
    assert first["items"][0]["room_id"] == "busy"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"room_id": "no spaces", "name": "x"}, id="room_id-space"),
        pytest.param({"room_id": "x" * 65, "name": "x"}, id="room_id-too-long"),
        pytest.param({"room_id": "", "name": "x"}, id="room_id-empty"),
        pytest.param({"room_id": "ok", "name": "   "}, id="blank-name"),
        pytest.param(
            {"name": "x", "info": {"blob": "y" * MAX_INFO_BYTES}}, id="info-oversize"
        ),
        pytest.param({"name": "x", "info": ["not", "an", "object"]}, id="info-list"),
        pytest.param({"name": "x", "info": "text"}, id="info-string"),
        pytest.param({"name": "x", "member_cap": 1}, id="member_cap-1"),
        pytest.param({"name": "x", "member_cap": 0}, id="member_cap-0"),
        pytest.param({"name": "x", "member_cap": 99}, id="member_cap-99"),
        pytest.param({"name": "x", "inviters": "everyone"}, id="inviters-unknown"),
    ],
)
def test_a_bad_room_is_refused_as_invalid_room(alice_client, body):
    """What the room rules refuse answers 422 `invalid_room` and creates nothing."""
    answer = post(alice_client, "/api/rooms", body)
    assert error_of(answer) == (422, "invalid_room")
    assert answer.json()["message"]
    assert not Room.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"room_id": "a"}, id="name-missing"),
        pytest.param({"name": 5}, id="name-not-a-string"),
        pytest.param({"name": "x", "member_cap": "many"}, id="member_cap-not-int"),
        pytest.param({"name": "x", "password": "p" * 129}, id="password-too-long"),
    ],
)
def test_a_body_off_the_schema_is_an_invalid_request(alice_client, body):
    """Schema errors keep the general 422 `invalid_request`, with `detail`."""
    answer = post(alice_client, "/api/rooms", body)
    assert error_of(answer) == (422, "invalid_request")
    assert answer.json()["detail"]
    assert not Room.objects.exists()


def test_a_taken_id_is_a_conflict(alice_client, other_user):
    """Somebody's room already has the id: 409 `room_taken`."""
    room_create(owner=other_user, name="First", room_id="taken")
    answer = post(alice_client, "/api/rooms", {"room_id": "taken", "name": "Second"})
    assert error_of(answer) == (409, "room_taken")
    assert Room.objects.get(room_id="taken").name == "First"


# --- one room -------------------------------------------------------------------------


def test_anyone_signed_in_reads_a_room(bob_client, user):
    """GET /api/rooms/{room_id} is not for the owner only."""
    RoomFactory(owner=user, room_id="standup", name="Standup")
    body = bob_client.get("/api/rooms/standup").json()
    assert (body["room_id"], body["name"]) == ("standup", "Standup")
    assert body["owner"]["username"] == "alice"


def test_the_owner_changes_only_the_fields_sent(alice_client, user):
    """PATCH changes what it names; `password: ""` removes the password."""
    room_create(
        owner=user, name="Mine", room_id="mine", info={"a": 1}, password="s3cret"
    )
    answer = patch(
        alice_client, "/api/rooms/mine", {"name": "Renamed", "member_cap": 3}
    )
    assert answer.status_code == 200
    body = answer.json()
    assert (body["name"], body["member_cap"]) == ("Renamed", 3)
    assert (body["info"], body["has_password"]) == ({"a": 1}, True)
    body = patch(alice_client, "/api/rooms/mine", {"password": "", "info": {}}).json()
    assert (body["info"], body["has_password"]) == ({}, False)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"info": [1, 2]}, id="info-list"),
        pytest.param({"info": {"blob": "y" * MAX_INFO_BYTES}}, id="info-oversize"),
        pytest.param({"member_cap": 1}, id="member_cap-1"),
        pytest.param({"name": ""}, id="name-empty"),
        pytest.param({"inviters": "anyone"}, id="inviters-unknown"),
    ],
)
def test_a_bad_change_is_refused_as_invalid_room(alice_client, user, body):
    """PATCH checks fields as POST does, and changes nothing when it refuses."""
    RoomFactory(owner=user, room_id="mine", name="Mine")
    assert error_of(patch(alice_client, "/api/rooms/mine", body)) == (
        422,
        "invalid_room",
    )
    room = Room.objects.get(room_id="mine")
    assert (room.name, room.info, room.member_cap) == ("Mine", {}, 6)
    assert room.inviters == "members"


def test_only_the_owner_changes_or_closes_a_room(bob_client, user):
    """Someone else's PATCH or DELETE is 403 `not_room_owner` and does nothing."""
    RoomFactory(owner=user, room_id="mine", name="Mine")
    answer = patch(bob_client, "/api/rooms/mine", {"name": "Ours"})
    assert error_of(answer) == (403, "not_room_owner")
    assert error_of(bob_client.delete("/api/rooms/mine")) == (403, "not_room_owner")
    room = Room.objects.get(room_id="mine")
    assert (room.name, room.closed_at) == ("Mine", None)


def test_deleting_closes_the_room_and_tells_everyone_in_it(
    alice_client, user, other_user, monkeypatch
):
    """DELETE answers 204; the room leaves the list, everyone in it is told it
    closed, and it stays readable with `closed_at`."""
    told = []
    monkeypatch.setattr(
        "rooms.api.room_announce_closed_sync",
        lambda room_id, members: told.append(
            (room_id, sorted(m.member_id for m in members))
        ),
    )
    RoomFactory(owner=user, room_id="standup")
    room_join(user=other_user, device_id="bob-tab", room_id="standup")
    room_join(user=user, device_id="alice-tab", room_id="standup")
    answer = alice_client.delete("/api/rooms/standup")
    assert answer.status_code == 204
    assert answer.content == b""
    assert told == [("standup", ["alice-tab", "bob-tab"])]
    assert alice_client.get("/api/rooms").json() == {"items": [], "count": 0}
    closed = alice_client.get("/api/rooms/standup").json()
    assert closed["closed_at"] is not None and closed["member_count"] == 0
    assert not Member.objects.exists()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/rooms/nope"),
        ("patch", "/api/rooms/nope"),
        ("delete", "/api/rooms/nope"),
        ("get", "/api/rooms/nope/members"),
        ("get", "/api/rooms/nope/messages"),
    ],
)
def test_a_missing_room_is_404(alice_client, method, path):
    """Every room endpoint answers 404 `room_not_found` for an unknown id."""
    answer = send(alice_client, method, path)
    assert error_of(answer) == (404, "room_not_found")


# --- who may call ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/rooms"),
        ("post", "/api/rooms"),
        ("get", "/api/rooms/standup"),
        ("patch", "/api/rooms/standup"),
        ("delete", "/api/rooms/standup"),
        ("get", "/api/rooms/standup/members"),
        ("get", "/api/rooms/standup/messages"),
    ],
)
def test_anonymous_callers_are_refused(user, method, path):
    """No session and no token: 401 `unauthenticated`, on every endpoint."""
    RoomFactory(owner=user, room_id="standup")
    answer = send(Client(), method, path)
    assert error_of(answer) == (401, "unauthenticated")


def test_a_user_token_is_enough(user):
    """`Authorization: Bearer <userSig>` works like a session (no CSRF needed)."""
    client = Client(
        enforce_csrf_checks=True,
        headers={"authorization": f"Bearer {usersig_issue(user=user)}"},
    )
    answer = post(client, "/api/rooms", {"room_id": "bot", "name": "Bot room"})
    assert answer.status_code == 201
    assert answer.json()["owner"]["username"] == "alice"
    assert client.delete("/api/rooms/bot").status_code == 204


# --- members and messages -------------------------------------------------------------


def test_members_are_listed_one_per_device_first_in_first(
    alice_client, user, other_user
):
    """Each device in the room, with its user and microphone and camera state."""
    RoomFactory(owner=user, room_id="chat")
    room_join(user=other_user, device_id="bob-tab", room_id="chat")
    room_join(user=user, device_id="alice-tab", room_id="chat")
    Member.objects.filter(member_id="bob-tab").update(audio=False)
    members = alice_client.get("/api/rooms/chat/members").json()
    assert [
        (m["member_id"], m["user"]["username"], m["audio"], m["video"]) for m in members
    ] == [("bob-tab", "bob", False, True), ("alice-tab", "alice", True, True)]
    assert members[0]["joined_at"]


def test_the_message_history_is_oldest_first_50_a_page(alice_client, user):
    """GET …/messages pages through the chat from its start."""
    room = RoomFactory(owner=user, room_id="chat")
    for n in range(55):
        RoomMessage.objects.create(room=room, sender=user, kind="text", text=f"m{n}")
    first = alice_client.get("/api/rooms/chat/messages").json()
    assert first["count"] == 55
    assert [m["text"] for m in first["items"]] == [f"m{n}" for n in range(50)]
    second = alice_client.get("/api/rooms/chat/messages?page=2").json()
    assert [m["text"] for m in second["items"]] == ["m50", "m51", "m52", "m53", "m54"]


def test_a_message_reads_as_on_the_socket(alice_client, user, other_user):
    """Each message has `from` (the sender), its device, kind, and text or data."""
    room = RoomFactory(owner=user, room_id="chat")
    text = RoomMessage.objects.create(
        room=room, sender=other_user, member_id="bob-tab", kind="text", text="hi"
    )
    RoomMessage.objects.create(
        room=room, sender=user, member_id="alice-tab", kind="custom", data={"hand": 1}
    )
    said, raised = alice_client.get("/api/rooms/chat/messages").json()["items"]
    assert said["id"] == text.pk
    assert said["from"] == {
        "id": other_user.pk,
        "username": "bob",
        "display_name": "Bob",
    }
    assert (said["member_id"], said["kind"], said["text"], said["data"]) == (
        "bob-tab",
        "text",
        "hi",
        None,
    )
    assert (raised["from"]["username"], raised["kind"]) == ("alice", "custom")
    assert (raised["text"], raised["data"]) == (None, {"hand": 1})
    assert said["sent_at"] and "sender" not in said


def test_a_closed_rooms_history_stays_readable(alice_client, user):
    """Closing a room does not take its chat away."""
    room = RoomFactory(owner=user, room_id="chat")
    RoomMessage.objects.create(room=room, sender=user, kind="text", text="bye")
    assert alice_client.delete("/api/rooms/chat").status_code == 204
    items = alice_client.get("/api/rooms/chat/messages").json()["items"]
    assert [m["text"] for m in items] == ["bye"]


def test_a_closed_room_cannot_be_changed(db, user):
    """PATCH on a closed room answers 409 `room_closed` and changes nothing."""
    from django.test import Client

    from rooms.services import room_close, room_create

    room = room_create(owner=user, name="Old", room_id="old")
    room_close(room=room)
    client = Client()
    client.force_login(user)
    answer = client.patch(
        "/api/rooms/old", {"name": "New"}, content_type="application/json"
    )
    assert (answer.status_code, answer.json()["error"]) == (409, "room_closed")
    room.refresh_from_db()
    assert room.name == "Old"


def test_the_owner_chooses_who_may_invite(alice_client, user):
    body = post(
        alice_client, "/api/rooms", {"name": "Board", "inviters": "owner"}
    ).json()
    assert body["inviters"] == "owner"
    changed = patch(
        alice_client, f"/api/rooms/{body['room_id']}", {"inviters": "members"}
    )
    assert changed.json()["inviters"] == "members"
