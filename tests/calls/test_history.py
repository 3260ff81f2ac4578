"""The call history page, /calls/, and the missed-calls badge in the header."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from calls.views import call_outcome, duration_text
from tests.factories import CallFactory, UserFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def rows(html: str) -> list[str]:
    return re.findall(r"<tr class=\"call.*?</tr>", html, flags=re.S)


def text(fragment: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", fragment).split())


def badge(html: str) -> str | None:
    found = re.search(r'data-testid="missed-badge"[^>]*>(\d+)<', html)
    return found[1] if found else None


def test_anonymous_visitors_are_sent_to_log_in(client):
    answer = client.get("/calls/")
    assert answer.status_code == 302
    assert answer["Location"].startswith("/accounts/login/")


def test_the_page_lists_calls_both_ways_newest_first(alice_client, user, other_user):
    CallFactory(
        caller=user,
        callee=other_user,
        created_at=T0,
        answered_at=T0 + timedelta(seconds=3),
        ended_at=T0 + timedelta(seconds=3 + 151),
    )
    CallFactory(
        caller=other_user,
        callee=user,
        media="audio",
        created_at=T0 + timedelta(hours=1),
        missed=True,
    )
    html = alice_client.get("/calls/").content.decode()
    incoming, outgoing = rows(html)
    assert text(incoming).startswith("↘ Incoming Bob Audio Missed")
    assert text(outgoing).startswith("↗ Outgoing Bob Video Answered · 2:31 2:31")


@pytest.mark.parametrize(
    ("outgoing", "reason", "sentence"),
    [
        (True, "hangup", "Answered · 2:31"),
        (True, "cancel", "Cancelled"),
        (True, "timeout", "No answer"),
        (True, "busy", "Busy"),
        (True, "offline", "Offline"),
        (True, "reject", "Rejected"),
        (False, "reject", "Rejected"),
        (False, "denied", "Not allowed"),
        (False, "forced", "Ended by the server"),
        (False, "timeout", "Missed"),
        (False, "cancel", "Missed"),
        (False, "busy", "Missed"),
    ],
)
def test_each_outcome_reads_as_a_sentence_from_the_viewers_side(
    alice_client, user, other_user, outgoing, reason, sentence
):
    caller, callee = (user, other_user) if outgoing else (other_user, user)
    answered = reason == "hangup"
    CallFactory(
        caller=caller,
        callee=callee,
        end_reason=reason,
        created_at=T0,
        answered_at=T0 if answered else None,
        ended_at=T0 + timedelta(seconds=151),
    )
    [row] = rows(alice_client.get("/calls/").content.decode())
    assert f'<td class="outcome">{sentence}' in row


def test_a_dropped_call_after_answering_shows_its_length(user, other_user):
    call = CallFactory(caller=user, callee=other_user, end_reason="disconnect")
    assert call_outcome(call, missed=False) == "Connection lost"
    assert duration_text(call.duration_s) == "2:31"


def test_live_calls_say_ringing_or_in_progress(user, other_user):
    ringing = CallFactory.build(caller=user, callee=other_user, ringing=True)
    active = CallFactory.build(
        caller=user, callee=other_user, state="active", end_reason="", ended_at=None
    )
    assert call_outcome(ringing, missed=False) == "Ringing"
    assert call_outcome(active, missed=False) == "In progress"


def test_durations_read_as_minutes_and_seconds():
    assert duration_text(0) == "0:00"
    assert duration_text(151) == "2:31"
    assert duration_text(3725) == "62:05"


def test_missed_rows_are_highlighted_and_new_ones_stand_out(
    alice_client, user, other_user
):
    CallFactory(caller=other_user, callee=user, missed=True, created_at=T0)
    user.calls_seen_at = T0 + timedelta(minutes=1)
    user.save()
    CallFactory(caller=other_user, callee=user, created_at=T0 + timedelta(minutes=2))
    CallFactory(
        caller=other_user,
        callee=user,
        missed=True,
        created_at=T0 + timedelta(minutes=3),
    )
    CallFactory(
        caller=user,
        callee=other_user,
        missed=True,
        created_at=T0 + timedelta(minutes=4),
    )
    html = alice_client.get("/calls/").content.decode()
    classes = [re.match(r'<tr class="([^"]*)"', row)[1] for row in rows(html)]
    assert classes == [
        "call",  # Bob missed Alice's call: not hers to have missed
        "call missed new",  # since she last looked
        "call",  # answered
        "call missed",  # already seen
    ]
    assert html.count(">New</span>") == 1


def test_the_badge_counts_missed_calls_until_the_history_is_opened(
    alice_client, user, other_user
):
    for _ in range(3):
        CallFactory(caller=other_user, callee=user, missed=True)
    CallFactory(caller=other_user, callee=user)  # answered: not missed

    home = alice_client.get("/").content.decode()
    assert badge(home) == "3"
    assert 'aria-label="3 missed calls"' in home

    history = alice_client.get("/calls/").content.decode()
    assert badge(history) is None  # this very page clears it
    assert "missed call" not in history.split("</header>")[0]
    assert badge(alice_client.get("/").content.decode()) is None

    CallFactory(caller=other_user, callee=user, missed=True, created_at=timezone.now())
    home = alice_client.get("/").content.decode()
    assert badge(home) == "1"
    assert 'aria-label="1 missed call"' in home


def test_a_call_missed_while_the_history_was_open_still_counts(
    alice_client, user, other_user
):
    """Bob's call starts ringing, Alice opens her history, the call then times out."""
    call = CallFactory(caller=other_user, callee=user, ringing=True)
    alice_client.get("/calls/")
    call.state, call.end_reason, call.end_code = "ended", "timeout", 100105
    call.ended_at = timezone.now()
    call.save()
    assert badge(alice_client.get("/").content.decode()) == "1"


def test_opening_the_history_records_only_the_time_it_was_seen(alice_client, user):
    before = timezone.now()
    User.objects.filter(pk=user.pk).update(display_name="Changed elsewhere")
    alice_client.get("/calls/")
    user.refresh_from_db()
    assert user.calls_seen_at >= before
    assert user.display_name == "Changed elsewhere"


def test_the_header_links_to_the_history_for_signed_in_users(alice_client):
    html = alice_client.get("/").content.decode()
    assert 'href="/calls/"' in html
    assert 'data-testid="missed-badge"' not in html


def test_anonymous_pages_have_no_calls_link(client):
    html = client.get("/accounts/login/").content.decode()
    assert 'href="/calls/"' not in html


def test_an_empty_history_says_so(alice_client):
    html = alice_client.get("/calls/").content.decode()
    assert "No calls yet." in html
    assert "<table" not in html


def test_the_history_comes_in_pages_of_twenty_five(alice_client, user, other_user):
    for n in range(30):
        CallFactory(
            caller=user, callee=other_user, created_at=T0 + timedelta(minutes=n)
        )
    first = alice_client.get("/calls/").content.decode()
    assert len(rows(first)) == 25
    assert "Page 1 of 2" in first
    assert 'href="?page=2"' in first
    second = alice_client.get("/calls/?page=2").content.decode()
    assert len(rows(second)) == 5
    assert 'href="?page=1"' in second


def test_the_history_lists_only_the_users_own_calls(alice_client):
    CallFactory(
        caller=UserFactory(username="carol"), callee=UserFactory(username="dave")
    )
    assert rows(alice_client.get("/calls/").content.decode()) == []


def test_the_history_speaks_simplified_chinese(alice_client, user, other_user):
    for _ in range(2):
        CallFactory(caller=other_user, callee=user, missed=True)
    CallFactory(caller=user, callee=other_user)
    home = alice_client.get("/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'aria-label="2 个未接来电"' in home
    answer = alice_client.get("/calls/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert answer["Content-Language"] == "zh-hans"
    html = answer.content.decode()
    assert "<h1>通话</h1>" in html
    assert '<td class="outcome">未接' in html
    assert "已接通 · 2:31" in html
    assert "呼入" in html
    assert "呼出" in html


def test_group_call_invitations_read_as_such_in_the_history_and_the_api(
    alice_client, user, other_user
):
    CallFactory(
        caller=user,
        callee=other_user,
        room_name="Stand-up",
        answered_at=None,
        end_reason="reject",
        end_code=100104,
    )
    CallFactory(caller=other_user, callee=user, room_name="Retro")
    page = alice_client.get("/calls/").content.decode()
    found = [text(row) for row in rows(page)]
    assert any("Group call · Stand-up" in r and "Rejected" in r for r in found), found
    assert any("Group call · Retro" in r and "Joined" in r for r in found), found
    items = alice_client.get("/api/calls").json()["items"]
    assert {(c["group"], c["room_name"]) for c in items} == {
        (True, "Stand-up"),
        (True, "Retro"),
    }
    assert {c["room_id"] for c in items} == {None}  # no such rooms are left
