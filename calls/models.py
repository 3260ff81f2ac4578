"""The call bill: one row per call attempt, whatever its outcome (NetEase's 话单)."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

_LIVE = ("ringing", "active")  # Call.LIVE_STATES, for the constraints below


def new_call_id() -> str:
    return uuid.uuid4().hex


class Call(models.Model):
    class Media(models.TextChoices):
        AUDIO = "audio", _("audio")
        VIDEO = "video", _("video")

    class State(models.TextChoices):
        RINGING = "ringing", _("ringing")
        ACTIVE = "active", _("active")
        ENDED = "ended", _("ended")

    class EndReason(models.TextChoices):
        HANGUP = "hangup", _("hung up")
        CANCEL = "cancel", _("cancelled")
        OFFLINE = "offline", _("offline")
        BUSY = "busy", _("busy")
        REJECT = "reject", _("rejected")
        TIMEOUT = "timeout", _("no answer")
        DISCONNECT = "disconnect", _("connection lost")
        DENIED = "denied", _("not allowed")
        FORCED = "forced", _("ended by the server")

    LIVE_STATES = (State.RINGING, State.ACTIVE)
    # An incoming call the callee never answered, and did not turn down themselves.
    MISSED_REASONS = (
        EndReason.CANCEL,
        EndReason.TIMEOUT,
        EndReason.OFFLINE,
        EndReason.BUSY,
        EndReason.DISCONNECT,
    )

    call_id = models.CharField(
        _("call id"), max_length=32, unique=True, default=new_call_id, editable=False
    )
    caller = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="calls_made",
        verbose_name=_("caller"),
    )
    callee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="calls_received",
        verbose_name=_("callee"),
    )
    media = models.CharField(_("media"), max_length=16, choices=Media.choices)
    flags = models.PositiveIntegerField(_("flags"), default=0)
    user_data = models.TextField(_("user data"), blank=True, default="")
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.RINGING
    )
    end_reason = models.CharField(
        _("end reason"),
        max_length=10,
        choices=EndReason.choices,
        blank=True,
        default="",
    )
    end_code = models.PositiveIntegerField(_("end code"), null=True, blank=True)
    # Devices: the caller's, the callee's that are ringing, and the one that answered.
    caller_device = models.CharField(_("caller device"), max_length=64, blank=True)
    ringing_devices = models.JSONField(_("ringing devices"), default=list, blank=True)
    answer_device = models.CharField(_("answering device"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    ring_deadline = models.DateTimeField(_("ring deadline"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    # Sockets of the call that went away, as [device, deadline] pairs: the call ends
    # `disconnect` at the earliest deadline unless its party comes back first.
    gone = models.JSONField(_("lost devices"), default=list, blank=True)
    gone_deadline = models.DateTimeField(_("gone deadline"), null=True, blank=True)
    # A group call invitation (seed 004): the caller invited the callee into a room.
    # It rings like a call and ends once answered: the room carries the call.
    room = models.ForeignKey(
        "rooms.Room",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invitations",
        verbose_name=_("room"),
    )
    room_name = models.CharField(_("room name"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # An inviter may ring several people into a room at once.
            models.UniqueConstraint(
                fields=["caller"],
                condition=Q(state__in=_LIVE, room_name=""),
                name="one_live_call_per_caller",
            ),
            models.UniqueConstraint(
                fields=["callee"],
                condition=Q(state__in=_LIVE),
                name="one_live_call_per_callee",
            ),
            models.CheckConstraint(
                condition=~Q(caller=models.F("callee")), name="no_calling_yourself"
            ),
        ]
        indexes = [
            models.Index(
                fields=["state", "ring_deadline"], name="call_ring_deadline_idx"
            ),
            # A user's history (either side, newest first) and their missed calls.
            models.Index(
                fields=["caller", "-created_at"], name="call_caller_history_idx"
            ),
            models.Index(
                fields=["callee", "-created_at"], name="call_callee_history_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.caller} → {self.callee} ({self.state})"

    @property
    def is_invitation(self) -> bool:
        """A group call invitation rather than a 1:1 call (the room may be gone)."""
        return bool(self.room_name)

    @property
    def duration_s(self) -> int:
        """Seconds from answer to end (0 for a call never answered)."""
        if self.answered_at is None:
            return 0
        end = self.ended_at or timezone.now()
        return max(0, int((end - self.answered_at).total_seconds()))


class LiveParty(models.Model):
    """A user in a live call, as caller or callee: at most one row per user.

    The unique user column is what makes "busy" hold across any number of server
    processes, whichever side of their current call the user is on.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="live_party"
    )
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="parties")

    class Meta:
        verbose_name = _("live call party")
        verbose_name_plural = _("live call parties")

    def __str__(self) -> str:
        return f"{self.user} in {self.call.call_id}"
