"""The server API's credentials: X-App-Id + X-App-Key, rotation, and rate limits."""

import pytest
from django.test import Client

from tests.factories import ApplicationFactory, app_headers

pytestmark = pytest.mark.django_db

STATE = "/api/server/users/state"


def post(path, body, **headers):
    return Client().post(path, body, content_type="application/json", headers=headers)


def error_of(answer) -> tuple[int, str]:
    return answer.status_code, answer.json()["error"]


def test_a_request_with_the_apps_id_and_key_is_served():
    app = ApplicationFactory()
    answer = post(STATE, {"users": ["alice"]}, **app_headers(app))
    assert answer.status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-App-Key": "pk_whatever"},
        {"X-App-Id": "{app_id}"},
        {"X-App-Id": "{app_id}", "X-App-Key": "pk_wrong"},
        {"X-App-Id": "app_nosuchapp", "X-App-Key": "{key}"},
        {"X-App-Id": "{app_id}", "X-App-Key": ""},
    ],
    ids=["none", "key-only", "id-only", "wrong-key", "unknown-app", "empty-key"],
)
def test_missing_or_wrong_credentials_are_401(headers):
    app = ApplicationFactory()
    filled = {
        k: v.format(app_id=app.app_id, key=app.api_key) for k, v in headers.items()
    }
    answer = post(STATE, {"users": ["alice"]}, **filled)
    assert error_of(answer) == (401, "unauthenticated")
    assert "X-App-Key" in answer.json()["message"]


def test_another_apps_key_does_not_open_this_app():
    mine, theirs = ApplicationFactory(), ApplicationFactory()
    headers = {"X-App-Id": mine.app_id, "X-App-Key": theirs.api_key}
    assert error_of(post(STATE, {"users": ["a"]}, **headers)) == (
        401,
        "unauthenticated",
    )


def test_a_deactivated_app_is_refused():
    app = ApplicationFactory(is_active=False)
    answer = post(STATE, {"users": ["alice"]}, **app_headers(app))
    assert error_of(answer) == (401, "unauthenticated")


def test_rotating_the_key_retires_the_old_one():
    app = ApplicationFactory()
    old = app_headers(app)
    new_key = app.set_new_key()
    app.save()
    assert error_of(post(STATE, {"users": ["a"]}, **old)) == (401, "unauthenticated")
    fresh = {"X-App-Id": app.app_id, "X-App-Key": new_key}
    assert post(STATE, {"users": ["a"]}, **fresh).status_code == 200


def test_only_a_digest_of_the_key_is_stored():
    app = ApplicationFactory()
    app.refresh_from_db()
    stored = " ".join(str(getattr(app, f.attname)) for f in app._meta.concrete_fields)
    assert app.api_key not in stored
    assert app.key_hint == app.api_key[:8]


def test_over_the_rate_limit_answers_429_and_other_apps_are_unaffected(settings):
    settings.SERVER_API_RATE = 3
    busy, calm = ApplicationFactory(), ApplicationFactory()
    # Seven requests span at most two one-second windows, so one window gets four.
    answers = [post(STATE, {"users": ["a"]}, **app_headers(busy)) for _ in range(7)]
    assert [a.status_code for a in answers[:3]] == [200, 200, 200]
    limited = [a for a in answers if a.status_code == 429]
    assert limited, "no request was refused"
    assert {error_of(a) for a in limited} == {(429, "rate_limited")}
    assert post(STATE, {"users": ["a"]}, **app_headers(calm)).status_code == 200


def test_the_server_api_is_in_the_openapi_page():
    spec = Client().get("/api/openapi.json").json()
    paths = spec["paths"]
    for path in (
        "/api/server/usersig",
        "/api/server/push",
        "/api/server/users/state",
        "/api/server/calls/{call_id}/finish",
        "/api/server/rooms",
        "/api/server/rooms/{room_id}/kick",
        "/api/server/rooms/{room_id}/mute_all",
        "/api/server/rooms/{room_id}/close",
    ):
        assert path in paths, path
    schemes = spec["components"]["securitySchemes"]
    assert any(s.get("name") == "X-App-Key" for s in schemes.values())


def test_a_body_that_is_not_json_is_a_clear_4xx():
    app = ApplicationFactory()
    answer = Client().post(
        STATE, "{not json", content_type="application/json", headers=app_headers(app)
    )
    assert error_of(answer) == (400, "bad_request")


def test_an_oversize_body_is_413(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    app = ApplicationFactory()
    answer = post(
        "/api/server/push",
        {"users": ["a"], "payload": "QUFB" * 1000},
        **app_headers(app),
    )
    assert error_of(answer) == (413, "request_too_large")


def test_an_unknown_server_path_answers_json_404():
    app = ApplicationFactory()
    answer = post("/api/server/nothing-here", {}, **app_headers(app))
    assert error_of(answer) == (404, "not_found")
