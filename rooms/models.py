"""Rooms (RTCRoom's RoomService): a room, who is in it now, and what was said in it."""

import json

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

ROOM_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
MAX_INFO_BYTES = 4096


def validate_info(value) -> None:
    if not isinstance(value, dict):
        raise ValidationError(
            _("Room info must be a JSON object."), code="info_not_object"
        )
    if len(json.dumps(value, separators=(",", ":")).encode()) > MAX_INFO_BYTES:
        raise ValidationError(
            _("Room info is limited to %(n)d bytes.") % {"n": MAX_INFO_BYTES},
            code="info_too_large",
        )


class Room(models.Model):
    room_id = models.CharField(
        _("room id"),
        max_length=64,
        unique=True,
        validators=[RegexValidator(ROOM_ID_PATTERN)],
    )
    name = models.CharField(_("name"), max_length=100)
    info = models.JSONField(
        _("info"), default=dict, blank=True, validators=[validate_info]
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="rooms_owned",
        verbose_name=_("owner"),
    )
    member_cap = models.PositiveSmallIntegerField(_("member cap"), default=6)

    class Inviters(models.TextChoices):
        MEMBERS = "members", _("every member")
        OWNER = "owner", _("the owner only")

    # Who may ring people into the room (group call invitations).
    inviters = models.CharField(
        _("who may invite"),
        max_length=16,
        choices=Inviters.choices,
        default=Inviters.MEMBERS,
    )
    password = models.CharField(_("password"), max_length=128, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    last_active_at = models.DateTimeField(_("last active at"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("room")
        verbose_name_plural = _("rooms")
        ordering = ["-last_active_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.room_id})"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def has_password(self) -> bool:
        return bool(self.password)


class Member(models.Model):
    """A device (socket) in a room now. `member_id` is the device id."""

    room = models.ForeignKey(
        Room, on_delete=models.CASCADE, related_name="members", verbose_name=_("room")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="room_memberships",
        verbose_name=_("user"),
    )
    member_id = models.CharField(_("member id"), max_length=64)
    joined_at = models.DateTimeField(_("joined at"), default=timezone.now)
    audio = models.BooleanField(_("microphone on"), default=True)
    video = models.BooleanField(_("camera on"), default=True)

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        ordering = ["joined_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["room", "member_id"], name="one_membership_per_device"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.room.room_id}"


class RoomMessage(models.Model):
    class Kind(models.TextChoices):
        TEXT = "text", _("text")
        CUSTOM = "custom", _("custom")

    room = models.ForeignKey(
        Room, on_delete=models.CASCADE, related_name="messages", verbose_name=_("room")
    )
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="room_messages",
        verbose_name=_("sender"),
    )
    member_id = models.CharField(_("member id"), max_length=64, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    text = models.TextField(_("text"), blank=True)
    data = models.JSONField(_("data"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)

    class Meta:
        verbose_name = _("room message")
        verbose_name_plural = _("room messages")
        ordering = ["sent_at", "pk"]
        indexes = [
            models.Index(fields=["room", "sent_at"], name="room_message_time_idx")
        ]

    def __str__(self) -> str:
        return f"{self.sender} in {self.room.room_id}: {self.kind}"
