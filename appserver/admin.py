"""The webhook delivery log in the admin: what was sent where, and how it went."""

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from appserver.models import WebhookDelivery
from appserver.webhooks import sender_wake


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = (
        "event",
        "application",
        "status",
        "attempts",
        "last_status_code",
        "created_at",
        "next_attempt_at",
        "delivered_at",
    )
    list_filter = ("status", "event", "application")
    list_select_related = ("application",)
    search_fields = ("delivery_id", "application__app_id", "event", "body")
    actions = ["send_again"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description=_("Send again now"))
    def send_again(self, request, queryset):
        """A failed delivery (or a pending one) goes out again at once, with a fresh
        round of retries."""
        count = queryset.exclude(status=WebhookDelivery.Status.DELIVERED).update(
            status=WebhookDelivery.Status.PENDING,
            attempts=0,
            next_attempt_at=timezone.now(),
        )
        sender_wake()
        self.message_user(
            request,
            ngettext(
                "%(n)d delivery will be sent again.",
                "%(n)d deliveries will be sent again.",
                count,
            )
            % {"n": count},
            messages.SUCCESS,
        )
