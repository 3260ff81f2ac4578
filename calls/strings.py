"""The sentences the call screens show, translated on the server for call-ui.js.

`%(name)s` is the other person's name, `%(duration)s` the call's length (m:ss).
"""

from django.utils.translation import gettext as _


def call_ui_strings() -> dict[str, str]:
    return {
        "calling": _("Calling %(name)s…"),
        "ringing": _("Ringing %(name)s…"),
        "incoming_video": _("%(name)s is calling you (video)"),
        "incoming_audio": _("%(name)s is calling you (audio)"),
        "incoming_group": _(
            "%(name)s invites you to a group call: %(room)s (%(count)s in it)"
        ),
        "joining_group": _("Joining %(room)s…"),
        "connecting": _("Connecting to %(name)s…"),
        "active": _("In a call with %(name)s"),
        "ended_hangup": _("Call ended · %(duration)s"),
        "ended_cancel_caller": _("Call cancelled"),
        "ended_cancel_callee": _("Missed call from %(name)s"),
        "ended_reject_caller": _("%(name)s declined the call"),
        "ended_reject_callee": _("Call declined"),
        "ended_busy": _("%(name)s is busy"),
        "ended_offline": _("%(name)s is offline"),
        "ended_timeout_caller": _("No answer"),
        "ended_timeout_callee": _("Missed call from %(name)s"),
        "ended_disconnect": _("The connection to %(name)s was lost"),
        "ended_denied": _("This call is not allowed"),
        "ended_forced": _("The call was ended by the server"),
        "ended_answered_elsewhere": _("Answered on another device"),
        "mic_off": _("Microphone off"),
        "camera_off": _("Camera off"),
        "peer_mic_off": _("%(name)s's microphone is off"),
        "peer_camera_off": _("%(name)s's camera is off"),
        "mute": _("Mute"),
        "unmute": _("Unmute"),
        "camera_stop": _("Turn camera off"),
        "camera_start": _("Turn camera on"),
        "media_problem": _("Your camera or microphone could not be used: %(error)s"),
        "request_problem": _("That did not work: %(error)s"),
    }
