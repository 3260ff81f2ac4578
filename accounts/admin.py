from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Application, Device, User


class DeviceInline(admin.TabularInline):
    model = Device
    extra = 0
    can_delete = False
    readonly_fields = ("device_id", "channel_name", "connected_at", "last_seen")


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (_("Parley"), {"fields": ("display_name", "application", "external_id")}),
    )
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        (_("Parley"), {"fields": ("display_name",)}),
    )
    list_display = ("username", "display_name", "application", "is_staff", "is_active")
    list_filter = ("application", *BaseUserAdmin.list_filter)
    search_fields = ("username", "display_name", "email")
    inlines = [DeviceInline]


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ("user", "device_id", "connected_at", "last_seen")
    list_select_related = ("user",)
    search_fields = ("user__username", "device_id")
    readonly_fields = ("user", "device_id", "channel_name", "connected_at", "last_seen")


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin):
    """Applications and their credentials. The API key is shown once, when it is made."""

    list_display = ("name", "app_id", "owner", "key_hint", "webhook_url", "is_active")
    list_select_related = ("owner",)
    search_fields = ("name", "app_id", "owner__username")
    readonly_fields = ("key_hint", "created_at")
    fields = (
        "name",
        "app_id",
        "owner",
        "is_active",
        "key_hint",
        "public_key",
        "hmac_secret",
        "webhook_url",
        "webhook_secret",
        "created_at",
    )
    actions = ["rotate_key"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_readonly_fields(self, request, obj=None):
        # The app id is what its backend and its tokens carry: fixed once made.
        return (*self.readonly_fields, "app_id") if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        key = None if change else obj.set_new_key()
        super().save_model(request, obj, form, change)
        if key:
            self._show_key(request, obj, key)

    @staticmethod
    def _show_key(request, app: Application, key: str) -> None:
        messages.warning(
            request,
            _(
                "The API key of %(app)s is %(key)s — copy it now: it is not stored "
                "and will not be shown again."
            )
            % {"app": app.app_id, "key": key},
        )

    @admin.action(description=_("Rotate the API key (the old key stops working)"))
    def rotate_key(self, request, queryset):
        for app in queryset:
            key = app.set_new_key()
            app.save(update_fields=["key_digest", "key_hint"])
            self._show_key(request, app, key)
