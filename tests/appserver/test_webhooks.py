"""Webhooks: which events are queued, how they are signed, retried and logged."""

import json
from datetime import timedelta
from io import StringIO

import httpx
import pytest
from channels.db import database_sync_to_async
from django.core.management import call_command
from django.utils import timezone

from accounts.services import app_user_get_or_create
from appserver.models import WebhookDelivery
from appserver.webhooks import (
    InvalidWebhook,
    _claim,
    webhook_emit,
    webhook_sign,
    webhook_verify,
    webhooks_send_due,
)
from rooms import services as rooms
from tests.factories import ApplicationFactory, UserFactory

Status = WebhookDelivery.Status
SECRET = "a-webhook-secret-of-32-characters!"


def events_of(app) -> list[str]:
    return list(
        WebhookDelivery.objects.filter(application=app)
        .order_by("pk")
        .values_list("event", flat=True)
    )


def body_of(delivery) -> dict:
    return json.loads(delivery.body)


@pytest.fixture
def hooked_app(db, receiver):
    return ApplicationFactory(webhook_url=receiver.url)


def send_all(client=None) -> int:
    with httpx.Client(timeout=5) as http:
        return webhooks_send_due(client=client or http)


# --- what is queued --------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("channel_layer")
async def test_a_call_queues_started_and_ended_with_the_bill(hooked_app, app_socket):
    alice, _ = await app_socket("alice", of=hooked_app)
    bob, _ = await app_socket("bob", of=hooked_app)
    await alice.send_frame(
        {"type": "call.invite", "callee": "bob", "media": "audio", "req": "1"}
    )
    call_id = (await alice.frame_of("ok"))["call_id"]
    await bob.send_frame({"type": "call.accept", "call_id": call_id})
    await alice.frame_of("call.started")
    await bob.send_frame({"type": "call.hangup", "call_id": call_id})
    await alice.frame_of("call.ended")

    deliveries = await database_sync_to_async(
        lambda: list(WebhookDelivery.objects.filter(application=hooked_app))
    )()
    by_event = {d.event: body_of(d) for d in deliveries}
    assert sorted(by_event) == ["call.ended", "call.started"]
    started, ended = by_event["call.started"], by_event["call.ended"]
    assert started["app_id"] == hooked_app.app_id
    assert started["data"]["state"] == "active"
    bill = ended["data"]
    assert (bill["call_id"], bill["end_reason"], bill["end_code"]) == (
        call_id,
        "hangup",
        0,
    )
    assert (bill["caller"]["username"], bill["callee"]["username"]) == ("alice", "bob")
    assert bill["answered_at"] and bill["ended_at"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("channel_layer")
async def test_an_unanswered_call_queues_only_ended(hooked_app, app_socket):
    await database_sync_to_async(app_user_get_or_create)(
        application=hooked_app, user_id="bob"
    )
    alice, _ = await app_socket("alice", of=hooked_app)
    await alice.send_frame(
        {"type": "call.invite", "callee": "bob", "media": "audio", "req": "1"}
    )
    await alice.frame_of("call.ended")  # bob is offline
    events = await database_sync_to_async(events_of)(hooked_app)
    assert events == ["call.ended"]


def test_room_life_queues_started_joined_left_finished(hooked_app):
    owner = app_user_get_or_create(application=hooked_app, user_id="alice")
    bob = app_user_get_or_create(application=hooked_app, user_id="bob")
    room = rooms.room_create(owner=owner, name="Stand-up", room_id="standup")
    rooms.room_join(user=owner, device_id="d-alice", room_id="standup")
    rooms.room_join(user=owner, device_id="d-alice", room_id="standup")  # again
    rooms.room_join(user=bob, device_id="d-bob", room_id="standup")
    rooms.room_leave(room_id="standup", device_id="d-bob")
    rooms.room_close(room=room)

    deliveries = list(WebhookDelivery.objects.order_by("pk"))
    summary = [
        (d.event, body_of(d)["data"].get("member_id"), body_of(d)["data"].get("reason"))
        for d in deliveries
    ]
    assert summary == [
        ("room.started", None, None),
        ("member.joined", "d-alice", None),
        ("member.joined", "d-bob", None),
        ("member.left", "d-bob", "left"),
        ("member.left", "d-alice", "closed"),
        ("room.finished", None, None),
    ]
    finished = body_of(deliveries[-1])["data"]
    assert (finished["room_id"], finished["owner"]["username"]) == ("standup", "alice")
    assert finished["closed_at"]


def test_kicked_and_disconnected_members_are_reported_with_their_reason(hooked_app):
    owner = app_user_get_or_create(application=hooked_app, user_id="alice")
    bob = app_user_get_or_create(application=hooked_app, user_id="bob")
    rooms.room_create(owner=owner, name="R", room_id="r")
    rooms.room_join(user=bob, device_id="d1", room_id="r")
    rooms.room_join(user=bob, device_id="d2", room_id="r")
    rooms.room_kick(room_id="r", by=owner, member_id="d1")
    rooms.rooms_leave_device(device_id="d2")
    left = [
        body_of(d)["data"]["reason"]
        for d in WebhookDelivery.objects.filter(event="member.left").order_by("pk")
    ]
    assert left == ["kicked", "disconnected"]


def test_nothing_is_queued_without_a_webhook_url_or_for_parleys_own_users(db):
    quiet = ApplicationFactory(webhook_url="")
    owner = app_user_get_or_create(application=quiet, user_id="alice")
    rooms.room_create(owner=owner, name="R", room_id="quiet")
    rooms.room_create(owner=UserFactory(), name="R", room_id="parley")
    assert not WebhookDelivery.objects.exists()


# --- signing -----------------------------------------------------------------------


def test_a_signature_covers_exactly_its_body():
    body = b'{"event":"call.ended"}'
    token = webhook_sign(body=body, secret=SECRET)
    assert webhook_verify(
        body=body, authorization=f"Bearer {token}", secret=SECRET
    ) == {"event": "call.ended"}
    with pytest.raises(InvalidWebhook, match="not the one signed"):
        webhook_verify(body=body + b" ", authorization=f"Bearer {token}", secret=SECRET)
    with pytest.raises(InvalidWebhook):
        webhook_verify(
            body=body, authorization=f"Bearer {token}", secret=SECRET[::-1] + "x"
        )
    with pytest.raises(InvalidWebhook):
        webhook_verify(body=body, authorization=token, secret=SECRET)
    old = webhook_sign(
        body=body, secret=SECRET, now=timezone.now() - timedelta(hours=1)
    )
    with pytest.raises(InvalidWebhook, match="expired"):
        webhook_verify(body=body, authorization=f"Bearer {old}", secret=SECRET)


# --- sending, retries and the log ----------------------------------------------------


def queue_one(app) -> WebhookDelivery:
    webhook_emit(application_id=app.pk, event="room.started", data={"room_id": "r"})
    return WebhookDelivery.objects.get()


def test_a_delivery_is_posted_signed_and_logged(hooked_app, receiver):
    delivery = queue_one(hooked_app)
    assert send_all() == 1

    (got,) = receiver.wait_for(1)
    assert got.path == "/hooks/parley"
    assert got.headers["X-Parley-Event"] == "room.started"
    assert got.headers["X-Parley-Delivery"] == delivery.delivery_id
    body = webhook_verify(
        body=got.body,
        authorization=got.headers["Authorization"],
        secret=hooked_app.webhook_secret,
    )
    assert body["id"] == delivery.delivery_id
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        Status.DELIVERED,
        1,
        200,
    )
    assert send_all() == 0  # delivered once, never again


def test_failures_are_retried_after_2_4_8_16_32_seconds_then_given_up(
    hooked_app, receiver
):
    receiver.statuses = [500] * 6
    delivery = queue_one(hooked_app)
    waits = []
    for _ in range(6):
        before = timezone.now()
        assert send_all() == 1
        delivery.refresh_from_db()
        if delivery.status == Status.PENDING:
            waits.append(round((delivery.next_attempt_at - before).total_seconds()))
            assert send_all() == 0  # not due yet
            delivery.next_attempt_at = timezone.now()  # let the time pass
            delivery.save()
    assert waits == [2, 4, 8, 16, 32]
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        Status.FAILED,
        6,
        500,
    )
    assert len(receiver.received) == 6
    # The same signed body every time: the receiver can de-duplicate by its id.
    assert len({r.body for r in receiver.received}) == 1


def test_a_500_then_a_200_is_delivered_on_the_retry(hooked_app, receiver):
    receiver.statuses = [500]
    delivery = queue_one(hooked_app)
    send_all()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_status_code) == (Status.PENDING, 500)
    WebhookDelivery.objects.update(next_attempt_at=timezone.now())
    send_all()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.DELIVERED, 2)


def test_an_unreachable_endpoint_is_logged_and_retried(db):
    app = ApplicationFactory(webhook_url="http://127.0.0.1:9/nothing-listens")
    delivery = queue_one(app)
    send_all()
    delivery.refresh_from_db()
    assert delivery.status == Status.PENDING
    assert delivery.last_status_code is None
    assert "ConnectError" in delivery.last_error


def test_a_claimed_delivery_is_not_sent_by_a_second_sender(hooked_app, receiver):
    queue_one(hooked_app)
    seen = list(WebhookDelivery.objects.all())
    assert send_all() == 1
    # A second sender that read the row before the first claimed it gets nothing.
    assert _claim(seen[0], timezone.now()) is False
    assert len(receiver.wait_for(1)) == 1


def test_the_admin_lists_deliveries_and_sends_a_failed_one_again(
    hooked_app, receiver, admin_client
):
    delivery = queue_one(hooked_app)
    WebhookDelivery.objects.update(status=Status.FAILED, attempts=6)
    page = admin_client.get("/admin/appserver/webhookdelivery/")
    assert page.status_code == 200 and b"room.started" in page.content

    admin_client.post(
        "/admin/appserver/webhookdelivery/",
        {"action": "send_again", "_selected_action": [delivery.pk]},
    )
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.PENDING, 0)
    send_all()
    delivery.refresh_from_db()
    assert delivery.status == Status.DELIVERED


def test_the_send_webhooks_command_sends_what_is_due(hooked_app, receiver):
    """The worker for WEBHOOK_SENDER=off."""
    delivery = queue_one(hooked_app)
    out = StringIO()
    call_command("send_webhooks", stdout=out)
    assert "1 deliveries attempted" in out.getvalue()
    receiver.wait_for(1)
    delivery.refresh_from_db()
    assert delivery.status == Status.DELIVERED
