"""The REST API for signed-in users: /api/usersig and /api/users/state."""

import pytest
from django.test import Client

from accounts.services import device_connect
from accounts.usersig import usersig_issue, usersig_verify
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_client(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get("/")  # sets the CSRF cookie
    return client


def csrf(client) -> dict:
    return {"HTTP_X_CSRFTOKEN": client.cookies["csrftoken"].value}


def test_a_signed_in_user_gets_a_token_for_themselves(alice_client, user):
    answer = alice_client.post(
        "/api/usersig",
        {"ttl": 300},
        content_type="application/json",
        **csrf(alice_client),
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["username"] == "alice"
    assert usersig_verify(body["user_sig"]) == user


def test_usersig_without_a_body_uses_the_default_ttl(alice_client):
    answer = alice_client.post(
        "/api/usersig", content_type="application/json", **csrf(alice_client)
    )
    assert answer.status_code == 200


def test_a_form_encoded_body_is_refused_clearly(alice_client):
    answer = alice_client.post("/api/usersig", {"ttl": "5"}, **csrf(alice_client))
    assert answer.status_code == 415
    assert answer.json()["error"] == "unsupported_media_type"


def test_usersig_needs_a_session(db):
    answer = Client().post("/api/usersig")
    assert answer.status_code == 401
    assert answer.json()["error"] == "unauthenticated"


def test_usersig_needs_the_csrf_token(alice_client):
    assert alice_client.post("/api/usersig").status_code == 403


@pytest.mark.parametrize(
    ("ttl", "slug"),
    [(0, "invalid_request"), ("soon", "invalid_request"), (10**9, "ttl_too_long")],
)
def test_usersig_refuses_bad_ttls(alice_client, ttl, slug):
    answer = alice_client.post(
        "/api/usersig",
        {"ttl": ttl},
        content_type="application/json",
        **csrf(alice_client),
    )
    assert answer.status_code == 422
    assert answer.json()["error"] == slug


def test_users_state_answers_online_and_offline(user, other_user):
    UserFactory(username="carol")
    device_connect(user=other_user, device_id="d1", channel_name="c1")
    answer = Client().get(
        "/api/users/state?usernames=bob,carol,zed",
        HTTP_AUTHORIZATION=f"Bearer {usersig_issue(user=user)}",
    )
    assert answer.status_code == 200
    assert answer.json() == {
        "users": [
            {"username": "bob", "state": "online"},
            {"username": "carol", "state": "offline"},
        ],
        "unknown": ["zed"],
    }


def test_users_state_works_with_a_session(alice_client, other_user):
    answer = alice_client.get("/api/users/state?usernames=bob")
    assert answer.json()["users"] == [{"username": "bob", "state": "offline"}]


def test_users_state_needs_credentials(db):
    answer = Client().get("/api/users/state?usernames=bob")
    assert answer.status_code == 401
    answer = Client().get(
        "/api/users/state?usernames=bob", HTTP_AUTHORIZATION="Bearer not-a-token"
    )
    assert answer.status_code == 401


@pytest.mark.parametrize(
    ("query", "slug"),
    [
        ("", "invalid_request"),
        ("?usernames=", "no_usernames"),
        ("?usernames=" + ",".join(f"u{n}" for n in range(101)), "too_many_usernames"),
    ],
)
def test_users_state_refuses_bad_queries(alice_client, query, slug):
    answer = alice_client.get("/api/users/state" + query)
    assert answer.status_code == 422
    assert answer.json()["error"] == slug


def test_unknown_api_paths_are_a_json_404(alice_client):
    answer = alice_client.get("/api/nothing-here")
    assert answer.status_code == 404
    assert answer.json()["error"] == "not_found"


def test_the_openapi_page_is_served_without_outside_network(client):
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
    assert client.get("/static/ninja/swagger-ui-bundle.js").status_code == 200
    assert "/api/usersig" in client.get("/api/openapi.json").json()["paths"]
