"""The sentences of the room page, translated on the server for room-ui.js."""

from django.utils.translation import gettext as _


def room_ui_strings() -> dict[str, str]:
    return {
        "you": _("%(name)s (you)"),
        "mic_off": _("Microphone off"),
        "mute": _("Mute"),
        "unmute": _("Unmute"),
        "camera_stop": _("Turn camera off"),
        "camera_start": _("Turn camera on"),
        "kicked": _("%(name)s removed you from this room."),
        "closed": _("The room was closed."),
        "left": _("You left the room."),
        "muted": _("The owner muted everyone. Unmute yourself to speak."),
        "problem": _("That did not work: %(error)s"),
        "invite_ringing": _("Ringing %(name)s…"),
        "invite_accepted": _("%(name)s accepted"),
        "invite_reject": _("%(name)s declined"),
        "invite_timeout": _("%(name)s did not answer"),
        "invite_busy": _("%(name)s is busy"),
        "invite_offline": _("%(name)s is offline"),
        "invite_cancel": _("You stopped ringing %(name)s"),
        "invite_denied": _("%(name)s may not be invited"),
        "invite_forced": _("The server stopped ringing %(name)s"),
        "invite_disconnect": _("%(name)s's connection was lost"),
    }
