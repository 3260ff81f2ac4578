"""Call services without sockets: bills, lazily enforced deadlines, dead processes."""

import time

import pytest
from django.db import IntegrityError, transaction

from accounts.models import Device
from accounts.services import device_connect
from calls import services
from calls.models import Call, LiveParty
from calls.services import (
    call_act,
    call_force_end,
    call_invite,
    calls_reap_orphans,
    calls_tick_due,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def ringing(user, other_user):
    device_connect(user=user, device_id="alice-1", channel_name="c1")
    device_connect(user=other_user, device_id="bob-1", channel_name="c2")
    outcome = call_invite(
        caller=user, caller_device="alice-1", callee_username="bob", media="video"
    )
    return Call.objects.get(call_id=outcome.call_id)


def test_a_stored_ring_deadline_ends_the_call_without_any_timer(ringing, settings):
    """A process that died with the call's timer cannot leave it ringing."""
    outcome = calls_tick_due(now=time.time() + settings.CALL_RING_TIMEOUT + 1)
    ringing.refresh_from_db()
    assert (ringing.state, ringing.end_reason, ringing.end_code) == (
        "ended",
        "timeout",
        100105,
    )
    assert {d.device for d in outcome.deliveries} == {"alice-1", "bob-1"}
    assert not LiveParty.objects.exists()


def test_a_new_invite_settles_an_overdue_call_first(
    ringing, user, other_user, settings
):
    Call.objects.filter(pk=ringing.pk).update(ring_deadline=ringing.created_at)
    outcome = call_invite(
        caller=other_user, caller_device="bob-1", callee_username="alice", media="audio"
    )
    assert outcome.error is None
    ringing.refresh_from_db()
    assert ringing.end_reason == "timeout"
    assert Call.objects.get(call_id=outcome.call_id).state == "ringing"


def test_calls_of_a_device_whose_process_died_end_after_the_grace(ringing, other_user):
    call_act(
        action="accept", call_id=ringing.call_id, user=other_user, device_id="bob-1"
    )
    Device.objects.filter(device_id="alice-1").delete()  # swept: its process died
    calls_reap_orphans()
    ringing.refresh_from_db()
    assert [device for device, _ in ringing.gone] == ["alice-1"]
    assert ringing.gone_deadline is not None
    calls_tick_due(now=ringing.gone_deadline.timestamp() + 0.1)
    ringing.refresh_from_db()
    assert (ringing.end_reason, ringing.end_code) == ("disconnect", 100106)


def test_the_database_refuses_a_second_live_call_for_a_caller(ringing, user):
    carol = type(user).objects.create(username="carol")
    with pytest.raises(IntegrityError), transaction.atomic():
        Call.objects.create(
            caller=user, callee=carol, media="audio", created_at=ringing.created_at
        )


def test_the_database_refuses_a_second_live_party_row_for_a_user(ringing, user):
    with pytest.raises(IntegrityError), transaction.atomic():
        LiveParty.objects.create(user=user, call=ringing)


def test_force_end_on_an_ended_call_is_an_error(ringing):
    assert call_force_end(call_id=ringing.call_id).error is None
    assert call_force_end(call_id=ringing.call_id).error.slug == "call_ended"
    assert call_force_end(call_id="nope").error.slug == "call_not_found"


def test_every_outcome_writes_a_bill(user, other_user):
    """Offline and busy calls are billed too (NetEase's 话单 for every attempt)."""
    device_connect(user=user, device_id="alice-1", channel_name="c1")
    offline = call_invite(
        caller=user, caller_device="alice-1", callee_username="bob", media="video"
    )
    assert Call.objects.get(call_id=offline.call_id).end_reason == "offline"
    missing = call_invite(
        caller=user, caller_device="alice-1", callee_username="zed", media="video"
    )
    assert missing.error.slug == "user_not_found" and missing.call_id is None
    assert Call.objects.count() == 1


def test_a_call_from_invite_to_hang_up_takes_seventeen_statements(
    user, other_user, django_assert_num_queries
):
    """P5 (docs/performance.md) is bound by the ORM's time per statement: an invite
    reads both people's live calls in one query and an UPDATE names only the columns
    a step changed. (In a test, BEGIN and COMMIT are a savepoint and its release.)"""
    device_connect(user=user, device_id="alice-1", channel_name="c1")
    device_connect(user=other_user, device_id="bob-1", channel_name="c2")
    with django_assert_num_queries(7):
        call_id = call_invite(
            caller=user, caller_device="alice-1", callee_username="bob", media="video"
        ).call_id
    with django_assert_num_queries(4):
        call_act(action="accept", call_id=call_id, user=other_user, device_id="bob-1")
    with django_assert_num_queries(6):
        call_act(action="hangup", call_id=call_id, user=user, device_id="alice-1")
    bill = Call.objects.get(call_id=call_id)
    assert (bill.state, bill.end_reason, bill.answer_device) == (
        "ended",
        "hangup",
        "bob-1",
    )
    assert bill.answered_at is not None and bill.ended_at >= bill.answered_at


def test_an_invite_that_read_its_callee_as_free_just_before_another_process_rang_them_is_busy(
    user, other_user, monkeypatch
):
    """The people's live calls are read once before the write; when another process
    puts the callee in a call in between, the database's unique constraint refuses
    the new call and the invite reads again."""
    carol = type(user).objects.create(username="carol")
    for person, device in ((user, "alice-1"), (other_user, "bob-1"), (carol, "c-1")):
        device_connect(user=person, device_id=device, channel_name=device)
    reads = []
    real = services._live_calls

    def stale_first(*people):
        live = real(*people)
        reads.append(live)
        if len(reads) == 1:  # meanwhile, another process: carol rings bob
            call_invite(
                caller=carol, caller_device="c-1", callee_username="bob", media="audio"
            )
        return live

    monkeypatch.setattr(services, "_live_calls", stale_first)
    outcome = call_invite(
        caller=user, caller_device="alice-1", callee_username="bob", media="video"
    )
    assert reads[0] == {}  # what alice's first try went on
    # Then carol's invite read once, and alice's retry found bob in carol's call.
    assert len(reads) == 3 and other_user.pk in reads[2]
    assert outcome.error is None
    assert Call.objects.get(call_id=outcome.call_id).end_reason == "busy"
