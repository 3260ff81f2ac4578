"""Bot harness: `manage.py callbot` run as a real process against daphne, its log read
back (the stats lines are JSON), and the browser fixtures for the mixed tests."""

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page

from calls.bot.media import decode_marker, marker_points
from tests.browser.harness import ROOT, app_env
from tests.factories import UserFactory

STATS_LINE = re.compile(r"(final stats|stats) (\S+) (\{.*\})$")


@pytest.fixture
def people(transactional_db):
    return {
        name: UserFactory(username=name, display_name=name.capitalize())
        for name in ("alice", "bob", "carol")
    }


class BotProcess:
    """One `manage.py callbot` process; its stdout and stderr go to one log file."""

    def __init__(self, args: list[str], log: Path, env: dict[str, str]):
        self.args = args
        self.log = log
        self.handle = log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "manage.py", "callbot", *args],
            cwd=ROOT,
            env=env,
            stdout=self.handle,
            stderr=subprocess.STDOUT,
        )

    @property
    def output(self) -> str:
        return self.log.read_text()

    def wait_for(self, text: str, timeout: float = 20, count: int = 1) -> None:
        """Poll the log until `text` is in it (`count` times)."""
        deadline = time.monotonic() + timeout
        while self.output.count(text) < count:
            assert self.proc.poll() is None, (
                f"the bot exited ({self.proc.returncode}) before {text!r}:\n"
                + self.output
            )
            assert time.monotonic() < deadline, (
                f"no {text!r} from the bot:\n{self.output}"
            )
            time.sleep(0.1)

    def stats(self, *, final: bool = False) -> dict[str, dict]:
        """The last stats line per connection (only the final ones if `final`)."""
        found = {}
        for line in self.output.splitlines():
            match = STATS_LINE.search(line)
            if match and (match[1] == "final stats" or not final):
                found[match[2]] = json.loads(match[3])
        return found

    def wait_for_stats(self, ok, timeout: float = 20) -> dict[str, dict]:
        """Poll the periodic stats until `ok(stats)` holds."""
        deadline = time.monotonic() + timeout
        while not ok(stats := self.stats()):
            assert time.monotonic() < deadline, f"stats never right:\n{self.output}"
            time.sleep(0.2)
        return stats

    def interrupt(self) -> None:
        """Ctrl-C."""
        self.proc.send_signal(signal.SIGINT)

    def finish(self, timeout: float = 30) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the bot did not stop:\n{self.output}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.handle.close()


@pytest.fixture
def callbot(tmp_path, request):
    """`callbot(username, *args, server=URL)` → a running BotProcess. It gathers a
    loopback ICE candidate (CALLBOT_LOOPBACK_ICE): the tests run in a namespace with
    only `lo`."""
    bots: list[BotProcess] = []

    def start(username: str, *args: str, server: str | None = None) -> BotProcess:
        server = server or request.getfixturevalue("live_server_url")
        log = tmp_path / f"bot-{len(bots)}-{username}.log"
        bot = BotProcess(
            [username, "--server", server, "--stats-interval", "1", *args],
            log,
            app_env(CALLBOT_LOOPBACK_ICE="1", LOG_LEVEL="INFO"),
        )
        bots.append(bot)
        return bot

    yield start
    for bot in bots:
        bot.stop()
        print(f"--- {bot.args}:\n{bot.output}")  # shown when a test fails


# The colours a page shows at the pattern's marker points of one <video>.
SAMPLE_VIDEO = """([selector, points]) => {
  const video = document.querySelector(selector);
  if (!video || !video.videoWidth) return null;
  const canvas = document.createElement("canvas");
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  const context = canvas.getContext("2d", { willReadFrequently: true });
  context.drawImage(video, 0, 0);
  return points.map(([fx, fy]) => Array.from(
    context.getImageData(Math.floor(fx * canvas.width), Math.floor(fy * canvas.height), 1, 1)
      .data.slice(0, 3)));
}"""


def shown_counter(page: Page, selector: str) -> int | None:
    """The pattern's frame counter in the picture a <video> shows now, or None if
    what it shows is not the pattern."""
    colours = page.evaluate(SAMPLE_VIDEO, [selector, marker_points()])
    return None if colours is None else decode_marker(colours)


def assert_shows_pattern(page: Page, selector: str, timeout: float = 20) -> None:
    """The <video> shows the bot's pattern, live: its counter moves on."""
    deadline = time.monotonic() + timeout
    first = None
    while True:
        counter = shown_counter(page, selector)
        if counter is not None and first is None:
            first = counter
        elif counter is not None and counter > first:
            return
        assert time.monotonic() < deadline, f"{selector} never showed the live pattern"
        time.sleep(0.2)
