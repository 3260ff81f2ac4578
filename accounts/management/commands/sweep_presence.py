"""`manage.py sweep_presence`: drop device rows left by a process that died."""

from asgiref.sync import async_to_sync
from django.core.management.base import BaseCommand

from accounts.services import presence_announce, presence_sweep


class Command(BaseCommand):
    help = "Remove stale device rows and announce the users who went offline."

    def handle(self, *args, **options):
        users = presence_sweep()
        for user in users:
            async_to_sync(presence_announce)(user=user)
        self.stdout.write(f"Swept stale devices of {len(users)} user(s).")
