"""`manage.py send_webhooks [--loop]`: send due webhook deliveries from a worker of
its own (for WEBHOOK_SENDER=off, or to drain a backlog)."""

import time

from django.core.management.base import BaseCommand

from appserver.webhooks import webhooks_send_due


class Command(BaseCommand):
    help = "Send webhook deliveries that are due (once, or every second with --loop)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--loop", action="store_true", help="Keep going until interrupted."
        )

    def handle(self, *args, loop, **options):
        while True:
            sent = webhooks_send_due()
            if sent or not loop:
                self.stdout.write(f"{sent} deliveries attempted")
            if not loop:
                return
            time.sleep(1)
