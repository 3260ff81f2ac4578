"""Sign up, log in, log out, and the home page's list of people."""

import pytest

from accounts.models import User
from accounts.services import device_connect
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_home_sends_anonymous_visitors_to_log_in(client):
    answer = client.get("/")
    assert answer.status_code == 302
    assert answer["Location"].startswith("/accounts/login/")


def test_sign_up_creates_the_user_and_signs_them_in(client):
    answer = client.post(
        "/accounts/signup/",
        {
            "username": "dora",
            "display_name": "Dora D.",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert answer.status_code == 302
    assert User.objects.get(username="dora").display_name == "Dora D."
    assert client.get("/").status_code == 200


def test_sign_up_shows_errors_and_creates_nobody(client):
    answer = client.post(
        "/accounts/signup/",
        {"username": "dora", "password1": PASSWORD, "password2": "different"},
    )
    assert answer.status_code == 200
    assert b"errorlist" in answer.content
    assert not User.objects.filter(username="dora").exists()


def test_log_in_and_log_out(client, user):
    answer = client.post(
        "/accounts/login/", {"username": "alice", "password": PASSWORD}
    )
    assert answer.status_code == 302
    assert client.get("/").status_code == 200
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_a_wrong_password_shows_an_error(client, user):
    answer = client.post("/accounts/login/", {"username": "alice", "password": "nope"})
    assert answer.status_code == 200
    assert b'role="alert"' in answer.content


def test_home_lists_other_people_with_their_state(client, user, other_user):
    UserFactory(username="carol", display_name="Carol")
    device_connect(user=other_user, device_id="d1", channel_name="c1")
    client.force_login(user)
    html = client.get("/").content.decode()
    assert 'data-username="bob" data-state="online"' in html
    assert 'data-username="carol" data-state="offline"' in html
    assert 'data-username="alice"' not in html


def test_pages_speak_simplified_chinese_when_asked(client):
    answer = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert answer["Content-Language"] == "zh-hans"
    assert "还没有账户？" in answer.content.decode()  # noqa: RUF001 (Parley's own catalog)


def test_every_message_has_a_chinese_translation():
    """Marking a new string without translating it fails here (run `make messages`)."""
    from pathlib import Path

    catalog = (
        Path(__file__).resolve().parents[2] / "locale/zh_Hans/LC_MESSAGES/django.po"
    )
    text = catalog.read_text()
    assert "#, fuzzy" not in text
    entries = text.split("\n\n")[1:]  # the first is the catalog header
    assert entries
    untranslated = [entry for entry in entries if entry.rstrip().endswith('msgstr ""')]
    assert untranslated == []


def test_the_language_switch_remembers_the_choice(client):
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/accounts/login/"})
    assert "登录" in client.get("/accounts/login/").content.decode()


def test_admin_lists_users(admin_client, user):
    answer = admin_client.get("/admin/accounts/user/")
    assert answer.status_code == 200
    assert b"alice" in answer.content
    assert admin_client.get("/admin/accounts/device/").status_code == 200
