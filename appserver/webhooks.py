"""Signed webhooks: events queued with the change that caused them, sent later.

`webhook_emit` writes a delivery row inside the caller's transaction (so an event is
sent if and only if its change was committed) and never does I/O. Sending happens
off the socket path: a background thread in each server process (WEBHOOK_SENDER=
"thread") or `manage.py send_webhooks`. Any number of senders may run; a delivery is
claimed with a conditional update, so each attempt is made once.

Each request carries `Authorization: Bearer <JWT>`, HS256-signed with the
application's webhook secret, whose `sha256` claim is the base64 SHA-256 of the body
(as LiveKit does): the receiver checks the token, then the body against the claim.
"""

import base64
import hashlib
import json
import logging
import threading
from datetime import datetime, timedelta

import httpx
import jwt
from django.conf import settings
from django.db import close_old_connections, transaction
from django.utils import timezone

from accounts.models import Application
from appserver.models import WebhookDelivery

log = logging.getLogger(__name__)

EVENTS = (
    "call.started",
    "call.ended",
    "room.started",
    "room.finished",
    "member.joined",
    "member.left",
)
SIGNATURE_TTL = 300  # seconds a signature stays valid: a receiver's replay window
CLAIM_LEASE = timedelta(seconds=60)  # an attempt in progress, as other senders see it


class InvalidWebhook(Exception):
    """A webhook request whose signature or body does not check out."""


def webhook_emit(*, application_id: int | None, event: str, data: dict) -> None:
    """Queue `event` for the webhook of the application (if it has one).

    Call inside the transaction that makes the change the event reports.
    """
    if application_id is None:
        return
    assert event in EVENTS, event
    app = (
        Application.objects.filter(pk=application_id, is_active=True)
        .exclude(webhook_url="")
        .only("app_id", "webhook_url")
        .first()
    )
    if app is None:
        return
    now = timezone.now()
    delivery = WebhookDelivery(application=app, event=event, url=app.webhook_url)
    delivery.body = json.dumps(
        {
            "id": delivery.delivery_id,
            "event": event,
            "app_id": app.app_id,
            "created_at": now.isoformat(),
            "data": data,
        },
        separators=(",", ":"),
        default=str,
    )
    delivery.created_at = delivery.next_attempt_at = now
    delivery.save()
    transaction.on_commit(sender_wake)


def _body_digest(body: bytes) -> str:
    return base64.b64encode(hashlib.sha256(body).digest()).decode()


def webhook_sign(*, body: bytes, secret: str, now: datetime | None = None) -> str:
    """The `Authorization` token for a webhook body."""
    now = now or timezone.now()
    claims = {
        "iss": settings.USERSIG_ISSUER,
        "iat": int(now.timestamp()),
        "exp": int(now.timestamp()) + SIGNATURE_TTL,
        "sha256": _body_digest(body),
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def webhook_verify(*, body: bytes, authorization: str, secret: str) -> dict:
    """What a receiver does: check the token and that it covers this body.

    Returns the parsed body; raises InvalidWebhook.
    """
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer":
        raise InvalidWebhook("no bearer token")
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            options={"require": ["iat", "exp", "sha256"]},
        )
    except jwt.PyJWTError as error:
        raise InvalidWebhook(str(error)) from error
    if claims["sha256"] != _body_digest(body):
        raise InvalidWebhook("the body is not the one signed")
    return json.loads(body)


def _retry_delay(attempts: int) -> float | None:
    delays = settings.WEBHOOK_RETRY_DELAYS
    return delays[attempts - 1] if attempts <= len(delays) else None


def webhook_attempt(
    delivery: WebhookDelivery, *, client: httpx.Client, now: datetime | None = None
) -> None:
    """POST a claimed delivery once and record how it went (and when to retry)."""
    body = delivery.body.encode()
    secret = delivery.application.webhook_secret
    headers = {
        "Content-Type": "application/json",
        "Authorization": "Bearer " + webhook_sign(body=body, secret=secret, now=now),
        "X-Parley-Event": delivery.event,
        "X-Parley-Delivery": delivery.delivery_id,
    }
    delivery.attempts += 1
    try:
        answer = client.post(delivery.url, content=body, headers=headers)
        delivery.last_status_code = answer.status_code
        delivery.last_error = "" if answer.is_success else answer.text[:500]
        delivered = answer.is_success
    except httpx.HTTPError as error:
        delivery.last_status_code = None
        delivery.last_error = f"{type(error).__name__}: {error}"[:500]
        delivered = False
    now = timezone.now()
    if delivered:
        delivery.status = WebhookDelivery.Status.DELIVERED
        delivery.delivered_at = now
    else:
        delay = _retry_delay(delivery.attempts)
        if delay is None:
            delivery.status = WebhookDelivery.Status.FAILED
        else:
            delivery.next_attempt_at = now + timedelta(seconds=delay)
    delivery.save()


def _claim(delivery: WebhookDelivery, now: datetime) -> bool:
    """Take a due delivery for one attempt; False if another sender has it."""
    taken = WebhookDelivery.objects.filter(
        pk=delivery.pk,
        status=WebhookDelivery.Status.PENDING,
        next_attempt_at=delivery.next_attempt_at,
    ).update(next_attempt_at=now + CLAIM_LEASE)
    return taken == 1


def webhooks_send_due(*, client: httpx.Client | None = None, limit: int = 100) -> int:
    """Attempt every delivery that is due now; the number attempted."""
    now = timezone.now()
    due = list(
        WebhookDelivery.objects.select_related("application")
        .filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk")[:limit]
    )
    own_client = client is None
    client = client or httpx.Client(timeout=settings.WEBHOOK_TIMEOUT)
    attempted = 0
    try:
        for delivery in due:
            if _claim(delivery, now):
                webhook_attempt(delivery, client=client)
                attempted += 1
    finally:
        if own_client:
            client.close()
    return attempted


def _next_due_in(cap: float) -> float:
    first = (
        WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING)
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )
    if first is None:
        return cap
    return min(cap, max(0.0, (first - timezone.now()).total_seconds()))


# --- the background sender -------------------------------------------------------------

_wakeup = threading.Event()
_started = threading.Lock()
_thread: threading.Thread | None = None
IDLE_POLL = 5.0  # seconds: also picks up rows left by a process that died


def _sender_loop() -> None:
    with httpx.Client(timeout=settings.WEBHOOK_TIMEOUT) as client:
        while True:
            try:
                webhooks_send_due(client=client)
                wait = _next_due_in(IDLE_POLL)
            except Exception:
                log.exception("webhook sender failed; retrying")
                wait = IDLE_POLL
            finally:
                close_old_connections()
            _wakeup.wait(wait)
            _wakeup.clear()


def sender_start() -> None:
    """Start this process's sender thread (once), if WEBHOOK_SENDER is "thread"."""
    global _thread
    if settings.WEBHOOK_SENDER != "thread":
        return
    with _started:
        if _thread is None:
            _thread = threading.Thread(
                target=_sender_loop, name="webhook-sender", daemon=True
            )
            _thread.start()


def sender_wake() -> None:
    """A delivery was queued: send it now rather than at the next poll."""
    sender_start()
    _wakeup.set()
