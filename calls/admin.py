"""Call bills and live parties in the admin: records to look at, not to edit."""

from asgiref.sync import async_to_sync
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from calls.delivery import deliver
from calls.models import Call, LiveParty
from calls.services import call_force_end
from calls.views import duration_text


class RecordAdmin(admin.ModelAdmin):
    """Shown, searched and filtered, never added or edited by hand.

    Deleting stays allowed: deleting a user in the admin cascades to their calls,
    and Django refuses that cascade if the related rows may not be deleted.
    """

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Call)
class CallAdmin(RecordAdmin):
    list_display = (
        "call_id",
        "caller",
        "callee",
        "media",
        "state",
        "end_reason",
        "end_code",
        "created_at",
        "duration",
    )
    list_filter = ("state", "end_reason", "media", "created_at")
    actions = ["force_end"]
    list_select_related = ("caller", "callee")
    search_fields = ("call_id", "caller__username", "callee__username")
    date_hierarchy = "created_at"
    readonly_fields = (
        "call_id",
        "caller",
        "callee",
        "media",
        "flags",
        "user_data",
        "state",
        "end_reason",
        "end_code",
        "caller_device",
        "ringing_devices",
        "answer_device",
        "created_at",
        "ring_deadline",
        "answered_at",
        "ended_at",
        "duration",
        "gone",
        "gone_deadline",
    )

    @admin.display(description=_("duration"))
    def duration(self, call: Call) -> str:
        return duration_text(call.duration_s)

    @admin.action(
        description=_("Force end the selected live calls"), permissions=["force_end"]
    )
    def force_end(self, request, queryset):
        """AnyChat's server-side FINISH: both parties hear `forced` (100108)."""
        ended = 0
        for call in queryset.filter(state__in=Call.LIVE_STATES):
            outcome = call_force_end(call_id=call.call_id)
            async_to_sync(deliver)(outcome)
            ended += outcome.error is None
        self.message_user(
            request,
            ngettext("%(n)d call ended.", "%(n)d calls ended.", ended) % {"n": ended},
            messages.SUCCESS if ended else messages.WARNING,
        )

    def has_force_end_permission(self, request) -> bool:
        return request.user.has_perm("calls.change_call")


@admin.register(LiveParty)
class LivePartyAdmin(RecordAdmin):
    list_display = ("user", "call")
    list_select_related = ("user", "call__caller", "call__callee")
    search_fields = ("user__username", "call__call_id")
    readonly_fields = ("user", "call")
