"""`manage.py callbot <username> …`: run the aiortc call bot (calls/bot) as one user.

Thin: reads the options, gets a token, and hands over to `calls.bot.session.run_bot`.
"""

import asyncio
import logging
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.usersig import usersig_issue
from calls.bot.media import MediaSource
from calls.bot.peer import allow_loopback_ice
from calls.bot.session import BotError, BotOptions, run_bot
from calls.bot.transport import WebSocketTransport, socket_url


def positive(value: str) -> float:
    number = float(value)
    if number <= 0:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = (
        "A WebRTC peer in Python: answers calls, places one, or joins a room, and "
        "sends a test pattern, an echo or a media file."
    )

    def add_arguments(self, parser):
        parser.add_argument("username", help="the user the bot acts as")
        parser.add_argument(
            "--server",
            default="http://127.0.0.1:8000",
            help="the Parley server, http(s)://host[:port] (default %(default)s)",
        )
        parser.add_argument(
            "--token",
            help="a userSig for the user; by default one is signed here, which "
            "needs this server's database and SECRET_KEY",
        )
        what = parser.add_mutually_exclusive_group(required=True)
        what.add_argument(
            "--answer", action="store_true", help="wait for calls and answer them"
        )
        what.add_argument("--call", metavar="USERNAME", help="call this user")
        what.add_argument("--room", metavar="ROOM_ID", help="join this room")
        parser.add_argument(
            "--from",
            dest="answer_from",
            metavar="USERNAME",
            action="append",
            default=[],
            help="with --answer: answer only this user (repeatable); others are "
            "rejected",
        )
        parser.add_argument(
            "--once",
            action="store_true",
            help="with --answer: stop after the first call ends",
        )
        parser.add_argument(
            "--audio-only", action="store_true", help="with --call: an audio call"
        )
        parser.add_argument("--password", default="", help="with --room: its password")
        parser.add_argument(
            "--duration",
            type=positive,
            metavar="SECONDS",
            help="hang up (or leave the room) after this long; --call's default is 30",
        )
        parser.add_argument(
            "--media",
            default="pattern",
            help="what to send: pattern (colour bars with a frame counter, and a "
            "tone), echo (what the peer sends) or file:PATH (default %(default)s)",
        )
        parser.add_argument(
            "--record",
            metavar="DIR",
            type=Path,
            help="write what each peer sends to an MP4 file in DIR",
        )
        parser.add_argument(
            "--stats-interval",
            type=positive,
            default=5.0,
            metavar="SECONDS",
            help="log each connection's stats this often (default %(default)s)",
        )
        parser.add_argument(
            "--loopback-ice",
            action="store_true",
            default=settings.CALLBOT_LOOPBACK_ICE,
            help="test/dev only: also gather a 127.0.0.1 ICE candidate (for a "
            "loopback-only network); default from CALLBOT_LOOPBACK_ICE",
        )

    def handle(self, *args, **opts):
        self.setup_logging(opts["verbosity"])
        try:
            url = socket_url(opts["server"])
            media = MediaSource(opts["media"])
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if opts["answer_from"] and not opts["answer"]:
            raise CommandError("--from goes with --answer.")
        if opts["record"] is not None:
            try:
                opts["record"].mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise CommandError(
                    f"cannot record to {opts['record']}: {exc}"
                ) from None
        token = opts["token"] or self.local_token(opts["username"])
        duration = opts["duration"]
        if duration is None and opts["call"]:
            duration = 30.0
        options = BotOptions(
            username=opts["username"],
            media=media,
            answer=opts["answer"],
            answer_from=frozenset(opts["answer_from"]),
            call=opts["call"],
            call_media="audio" if opts["audio_only"] else "video",
            room=opts["room"],
            room_password=opts["password"],
            duration=duration,
            once=opts["once"],
            record_to=opts["record"],
            stats_interval=opts["stats_interval"],
        )
        if opts["loopback_ice"]:
            allow_loopback_ice()
        try:
            outcome = asyncio.run(
                run_bot(options, lambda: WebSocketTransport(url, token))
            )
        except BotError as exc:
            raise CommandError(str(exc)) from None
        if outcome.error:
            raise CommandError(outcome.error)

    def local_token(self, username: str) -> str:
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user named {username!r}.")
        return usersig_issue(user=user)

    def setup_logging(self, verbosity: int) -> None:
        """The bot's log on stdout with times; aiortc's own only at -v 3."""
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        bot = logging.getLogger("calls.bot")
        bot.handlers = [handler]
        bot.propagate = False
        bot.setLevel(
            {0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
        )
        for name in ("aiortc", "aioice"):
            level = logging.DEBUG if verbosity >= 3 else logging.WARNING
            logging.getLogger(name).setLevel(level)
