"""Rooms, who is in them, and what was said: to look at; rooms can be closed."""

from django.contrib import admin, messages
from django.db.models import Count
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from calls.admin import RecordAdmin
from rooms.delivery import room_announce_closed_sync
from rooms.models import Member, Room, RoomMessage
from rooms.services import room_close


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = (
        "room_id",
        "name",
        "owner",
        "member_cap",
        "member_count",
        "created_at",
        "last_active_at",
        "closed_at",
    )
    list_filter = (("closed_at", admin.EmptyFieldListFilter), "created_at")
    list_select_related = ("owner",)
    search_fields = ("room_id", "name", "owner__username")
    date_hierarchy = "created_at"
    readonly_fields = (
        "room_id",
        "owner",
        "password",
        "created_at",
        "last_active_at",
        "closed_at",
    )
    actions = ["close_rooms"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_count=Count("members"))

    def has_add_permission(self, request) -> bool:
        # A room is made by its owner (page, API), which picks or is given its id.
        return False

    @admin.display(description=_("members"), ordering="member_count")
    def member_count(self, room: Room) -> int:
        return room.member_count

    @admin.action(description=_("Close the selected rooms"), permissions=["change"])
    def close_rooms(self, request, queryset):
        """Everyone in each room hears it closed (as when its owner closes it)."""
        closed = 0
        for room in queryset.filter(closed_at__isnull=True):
            room_announce_closed_sync(room.room_id, room_close(room=room))
            closed += 1
        self.message_user(
            request,
            ngettext("%(n)d room closed.", "%(n)d rooms closed.", closed)
            % {"n": closed},
            messages.SUCCESS if closed else messages.WARNING,
        )


@admin.register(Member)
class MemberAdmin(RecordAdmin):
    list_display = ("room", "user", "member_id", "joined_at", "audio", "video")
    list_filter = ("audio", "video")
    list_select_related = ("room", "user")
    search_fields = ("room__room_id", "user__username", "member_id")
    readonly_fields = ("room", "user", "member_id", "joined_at", "audio", "video")


@admin.register(RoomMessage)
class RoomMessageAdmin(RecordAdmin):
    list_display = ("room", "sender", "kind", "text", "sent_at")
    list_filter = ("kind", "sent_at")
    list_select_related = ("room", "sender")
    search_fields = ("room__room_id", "sender__username", "text")
    date_hierarchy = "sent_at"
    readonly_fields = ("room", "sender", "member_id", "kind", "text", "data", "sent_at")
