"""`manage.py sweep_rooms`: close rooms nobody used for ROOM_IDLE_TTL (48 h)."""

from django.core.management.base import BaseCommand

from rooms.services import rooms_close_idle


class Command(BaseCommand):
    help = "Close rooms that have been empty and unused for ROOM_IDLE_TTL seconds."

    def handle(self, *args, **options):
        closed = rooms_close_idle()
        self.stdout.write(f"Closed {len(closed)} idle room(s).")
