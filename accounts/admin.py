from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.models import Device, User


class DeviceInline(admin.TabularInline):
    model = Device
    extra = 0
    can_delete = False
    readonly_fields = ("device_id", "channel_name", "connected_at", "last_seen")


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (_("Parley"), {"fields": ("display_name",)}),
    )
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        (_("Parley"), {"fields": ("display_name",)}),
    )
    list_display = ("username", "display_name", "email", "is_staff", "is_active")
    search_fields = ("username", "display_name", "email")
    inlines = [DeviceInline]


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ("user", "device_id", "connected_at", "last_seen")
    list_select_related = ("user",)
    search_fields = ("user__username", "device_id")
    readonly_fields = ("user", "device_id", "channel_name", "connected_at", "last_seen")
