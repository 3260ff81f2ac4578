"""Call bills and live parties in the admin: listed, filtered, searched, not edited."""

import re
from html import unescape

import pytest

from calls.models import Call, LiveParty
from tests.factories import CallFactory

pytestmark = pytest.mark.django_db


def test_the_bill_list_shows_calls(admin_client, user, other_user):
    call = CallFactory(caller=user, callee=other_user)
    answer = admin_client.get("/admin/calls/call/")
    assert answer.status_code == 200
    html = answer.content.decode()
    assert call.call_id in html
    assert "2:31" in html  # the duration column


def test_every_filter_and_date_link_of_the_bill_list_loads(
    admin_client, user, other_user
):
    CallFactory(caller=user, callee=other_user, missed=True, media="audio")
    html = admin_client.get("/admin/calls/call/").content.decode()
    links = set(re.findall(r'href="(\?[^"]+)"', html))
    for field in ("state", "end_reason", "media", "created_at"):
        assert any(f"{field}__" in link for link in links), field
    for link in links:
        answer = admin_client.get("/admin/calls/call/" + unescape(link))
        assert answer.status_code == 200, link
        assert b"errornote" not in answer.content, link


def test_search_finds_a_call_by_id_or_by_either_party(admin_client, user, other_user):
    call = CallFactory(caller=user, callee=other_user)
    other = CallFactory()
    for query in (call.call_id, "alice", "bob"):
        html = admin_client.get(f"/admin/calls/call/?q={query}").content.decode()
        assert call.call_id in html
        assert other.call_id not in html


def test_a_bill_is_shown_read_only(admin_client, user, other_user):
    call = CallFactory(caller=user, callee=other_user)
    page = admin_client.get(f"/admin/calls/call/{call.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert call.call_id in html
    assert 'name="state"' not in html
    assert 'name="_save"' not in html


def test_a_bill_cannot_be_changed_or_added(admin_client, user, other_user):
    call = CallFactory(caller=user, callee=other_user)
    answer = admin_client.post(
        f"/admin/calls/call/{call.pk}/change/",
        {"state": "ringing", "end_reason": "", "media": "audio"},
    )
    assert answer.status_code == 403
    call.refresh_from_db()
    assert (call.state, call.media) == ("ended", "video")
    assert admin_client.get("/admin/calls/call/add/").status_code == 403


def test_live_parties_are_listed_read_only(admin_client, user, other_user):
    call = CallFactory(caller=user, callee=other_user, ringing=True)
    party = LiveParty.objects.create(user=user, call=call)
    listing = admin_client.get("/admin/calls/liveparty/")
    assert listing.status_code == 200
    assert call.call_id in listing.content.decode()
    assert admin_client.get("/admin/calls/liveparty/add/").status_code == 403
    page = admin_client.get(f"/admin/calls/liveparty/{party.pk}/change/")
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()


def test_deleting_a_user_in_the_admin_takes_their_calls_along(admin_client, user):
    """Bills may not be edited, but they must not stop a user from being deleted."""
    CallFactory(caller=user)
    answer = admin_client.post(
        f"/admin/accounts/user/{user.pk}/delete/", {"post": "yes"}
    )
    assert answer.status_code == 302
    assert not Call.objects.filter(caller__username="alice").exists()


def test_an_admin_can_force_end_live_calls(admin_client, user, other_user):
    """The force-end action ends live calls `forced` (100108) and skips ended ones."""
    live = CallFactory(caller=user, callee=other_user, ringing=True)
    done = CallFactory(caller=other_user, callee=user)
    answer = admin_client.post(
        "/admin/calls/call/",
        {"action": "force_end", "_selected_action": [live.pk, done.pk]},
        follow=True,
    )
    assert "1 call ended." in answer.content.decode()
    live.refresh_from_db()
    assert (live.state, live.end_reason, live.end_code) == ("ended", "forced", 100108)
    done.refresh_from_db()
    assert done.end_reason == "hangup"
