"""The webhook delivery log: one row per event sent (or being sent) to an
application's webhook URL, with its attempts."""

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Application


def new_delivery_id() -> str:
    return uuid.uuid4().hex


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        DELIVERED = "delivered", _("delivered")
        FAILED = "failed", _("failed")

    delivery_id = models.CharField(
        _("delivery id"), max_length=32, unique=True, default=new_delivery_id
    )
    application = models.ForeignKey(
        Application,
        on_delete=models.CASCADE,
        related_name="webhook_deliveries",
        verbose_name=_("application"),
    )
    event = models.CharField(_("event"), max_length=32)
    url = models.URLField(_("URL"))
    # The exact bytes sent on every attempt (the signature covers them).
    body = models.TextField(_("body"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    last_status_code = models.PositiveSmallIntegerField(
        _("last HTTP status"), null=True, blank=True
    )
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_due_idx")
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.application.app_id} ({self.status})"
