"""`manage.py usersig <username> [--ttl SECONDS]`: the local signing tool of seed 002."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.usersig import usersig_issue


class Command(BaseCommand):
    help = "Print a user token (userSig) for a user."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--ttl",
            type=int,
            default=settings.USERSIG_DEFAULT_TTL,
            help="Lifetime in seconds (default %(default)s).",
        )

    def handle(self, *args, username, ttl, **options):
        if ttl <= 0:
            raise CommandError("--ttl must be a positive number of seconds.")
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user named {username!r}.")
        self.stdout.write(usersig_issue(user=user, ttl=ttl))
