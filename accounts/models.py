"""People and their connected devices (one Device row per open socket)."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    # Missed calls newer than this are counted in the header's badge.
    calls_seen_at = models.DateTimeField(_("calls seen at"), null=True, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    @property
    def shown_name(self) -> str:
        return self.display_name or self.username


class Device(models.Model):
    """One open socket of a user: a browser tab or a bot. Its presence makes them online."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="devices", verbose_name=_("user")
    )
    device_id = models.CharField(_("device id"), max_length=64, unique=True)
    channel_name = models.CharField(_("channel name"), max_length=255)
    connected_at = models.DateTimeField(_("connected at"))
    last_seen = models.DateTimeField(_("last seen"), db_index=True)

    class Meta:
        verbose_name = _("device")
        verbose_name_plural = _("devices")
        ordering = ["-connected_at"]

    def __str__(self) -> str:
        return f"{self.user.username}/{self.device_id}"
