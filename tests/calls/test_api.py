"""The REST API for a user's own calls: /api/calls and /api/calls/{call_id}."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from accounts.usersig import usersig_issue
from tests.factories import CallFactory, UserFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def test_the_list_shows_each_call_in_full_from_the_requesters_side(
    alice_client, user, other_user
):
    call = CallFactory(
        caller=user,
        callee=other_user,
        media="audio",
        flags=0x01,
        user_data='{"topic": "lunch"}',
        created_at=T0,
        answered_at=T0 + timedelta(seconds=4),
        ended_at=T0 + timedelta(seconds=4 + 151),
    )
    answer = alice_client.get("/api/calls")
    assert answer.status_code == 200
    alice = {"id": user.pk, "username": "alice", "display_name": "Alice"}
    bob = {"id": other_user.pk, "username": "bob", "display_name": "Bob"}
    assert answer.json() == {
        "count": 1,
        "items": [
            {
                "call_id": call.call_id,
                "direction": "outgoing",
                "caller": alice,
                "callee": bob,
                "peer": bob,
                "media": "audio",
                "flags": 1,
                "user_data": '{"topic": "lunch"}',
                "state": "ended",
                "end_reason": "hangup",
                "end_code": 0,
                "created_at": "2026-11-20T09:30:00Z",
                "answered_at": "2026-11-20T09:30:04Z",
                "ended_at": "2026-11-20T09:32:35Z",
                "duration_s": 151,
                "missed": False,
                "group": False,
                "room_id": None,
                "room_name": None,
            }
        ],
    }


def test_a_live_call_has_no_end_reason_code_or_end_time(alice_client, user):
    CallFactory(caller=user, ringing=True)
    [item] = alice_client.get("/api/calls").json()["items"]
    assert item["state"] == "ringing"
    assert item["end_reason"] is None
    assert item["end_code"] is None
    assert item["answered_at"] is None
    assert item["ended_at"] is None
    assert item["duration_s"] == 0


def test_a_user_without_a_display_name_is_shown_by_username(alice_client, user):
    CallFactory(caller=user, callee=UserFactory(username="dan", display_name=""))
    [item] = alice_client.get("/api/calls").json()["items"]
    assert item["peer"]["display_name"] == "dan"


def test_a_missed_call_looks_different_from_each_side(
    alice_client, bob_client, user, other_user
):
    """Bob rang Alice and nobody answered: missed for her, not for him."""
    call = CallFactory(caller=other_user, callee=user, missed=True)

    [for_alice] = alice_client.get("/api/calls").json()["items"]
    assert for_alice["direction"] == "incoming"
    assert for_alice["peer"]["username"] == "bob"
    assert for_alice["missed"] is True
    assert for_alice["end_reason"] == "timeout"

    [for_bob] = bob_client.get("/api/calls").json()["items"]
    assert for_bob["call_id"] == call.call_id
    assert for_bob["direction"] == "outgoing"
    assert for_bob["peer"]["username"] == "alice"
    assert for_bob["missed"] is False


@pytest.mark.parametrize(
    ("reason", "missed"),
    [
        ("cancel", True),
        ("timeout", True),
        ("offline", True),
        ("busy", True),
        ("disconnect", True),
        ("reject", False),
        ("denied", False),
        ("forced", False),
    ],
)
def test_which_unanswered_calls_count_as_missed(
    alice_client, user, other_user, reason, missed
):
    """Turning a call down yourself, or a policy refusing it, is not missing it."""
    CallFactory(caller=other_user, callee=user, end_reason=reason, answered_at=None)
    [item] = alice_client.get("/api/calls").json()["items"]
    assert item["missed"] is missed


def test_an_answered_call_is_never_missed(alice_client, user, other_user):
    CallFactory(caller=other_user, callee=user, end_reason="disconnect")
    [item] = alice_client.get("/api/calls").json()["items"]
    assert item["missed"] is False


def test_the_list_holds_only_the_requesters_calls_newest_first(
    alice_client, user, other_user
):
    older = CallFactory(caller=user, callee=other_user, created_at=T0)
    newer = CallFactory(
        caller=other_user, callee=user, created_at=T0 + timedelta(hours=1)
    )
    CallFactory(created_at=T0 + timedelta(hours=2))  # between two strangers
    body = alice_client.get("/api/calls").json()
    assert body["count"] == 2
    assert [item["call_id"] for item in body["items"]] == [
        newer.call_id,
        older.call_id,
    ]
    assert [item["direction"] for item in body["items"]] == ["incoming", "outgoing"]


def test_the_list_comes_in_pages_of_twenty(alice_client, user, other_user):
    calls = [
        CallFactory(
            caller=user, callee=other_user, created_at=T0 + timedelta(minutes=n)
        )
        for n in range(25)
    ]
    newest_first = [call.call_id for call in reversed(calls)]

    first = alice_client.get("/api/calls").json()
    assert first["count"] == 25
    assert [item["call_id"] for item in first["items"]] == newest_first[:20]

    second = alice_client.get("/api/calls?page=2").json()
    assert second["count"] == 25
    assert [item["call_id"] for item in second["items"]] == newest_first[20:]


def test_missed_true_lists_only_missed_calls(alice_client, user, other_user):
    missed = CallFactory(caller=other_user, callee=user, missed=True)
    CallFactory(caller=other_user, callee=user)  # answered
    CallFactory(caller=other_user, callee=user, rejected=True)
    CallFactory(caller=user, callee=other_user, missed=True)  # Bob missed this one
    body = alice_client.get("/api/calls?missed=true").json()
    assert body["count"] == 1
    assert [item["call_id"] for item in body["items"]] == [missed.call_id]
    assert alice_client.get("/api/calls?missed=false").json()["count"] == 4


def test_one_call_has_the_same_shape_as_in_the_list(alice_client, user, other_user):
    call = CallFactory(caller=other_user, callee=user, missed=True)
    answer = alice_client.get(f"/api/calls/{call.call_id}")
    assert answer.status_code == 200
    assert answer.json() == alice_client.get("/api/calls").json()["items"][0]
    assert answer.json()["missed"] is True


def test_someone_elses_call_is_not_found(alice_client):
    strangers_call = CallFactory()
    answer = alice_client.get(f"/api/calls/{strangers_call.call_id}")
    assert answer.status_code == 404
    assert answer.json()["error"] == "call_not_found"


def test_an_unknown_call_id_is_not_found(alice_client):
    answer = alice_client.get("/api/calls/0123456789abcdef0123456789abcdef")
    assert answer.status_code == 404
    assert answer.json() == {"error": "call_not_found", "message": "No such call."}


def test_a_strangers_call_and_an_unknown_one_answer_alike(alice_client):
    """Nothing in the answer tells whether another person's call exists."""
    strangers = alice_client.get(f"/api/calls/{CallFactory().call_id}")
    unknown = alice_client.get("/api/calls/ffffffffffffffffffffffffffffffff")
    assert strangers.json() == unknown.json()


@pytest.mark.parametrize("path", ["/api/calls", "/api/calls/abc"])
def test_the_call_api_needs_credentials(db, path):
    answer = Client().get(path)
    assert answer.status_code == 401
    assert answer.json()["error"] == "unauthenticated"
    answer = Client().get(path, HTTP_AUTHORIZATION="Bearer not-a-token")
    assert answer.status_code == 401


def test_a_user_token_works_instead_of_a_session(user, other_user):
    call = CallFactory(caller=other_user, callee=user)
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {usersig_issue(user=user)}"}
    listing = Client().get("/api/calls", **bearer)
    assert listing.status_code == 200
    assert listing.json()["items"][0]["direction"] == "incoming"
    one = Client().get(f"/api/calls/{call.call_id}", **bearer)
    assert one.status_code == 200
    assert one.json()["peer"]["username"] == "bob"


def test_the_call_endpoints_are_in_the_openapi_schema(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    assert "/api/calls" in paths
    assert "/api/calls/{call_id}" in paths


@pytest.mark.parametrize(
    "query", ["page=0", "page=first", "page_size=0", "missed=perhaps"]
)
def test_bad_paging_or_filter_values_are_refused(alice_client, query):
    answer = alice_client.get(f"/api/calls?{query}")
    assert answer.status_code == 422
    assert answer.json()["error"] == "invalid_request"


def test_a_client_may_ask_for_smaller_pages_or_larger_up_to_a_hundred(
    alice_client, user, other_user
):
    for n in range(101):
        CallFactory(caller=user, callee=other_user, created_at=T0 + timedelta(hours=n))
    assert len(alice_client.get("/api/calls?page_size=2").json()["items"]) == 2
    assert len(alice_client.get("/api/calls?page_size=500").json()["items"]) == 100
    assert alice_client.get("/api/calls?page=9").json() == {"items": [], "count": 101}
