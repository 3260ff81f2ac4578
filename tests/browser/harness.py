"""Browser harness: the app served by a real daphne process, driven by Debian's Chromium.

A plugin of tests/conftest.py, so that the browser tests and the bot's tests share one
session-wide browser (two Playwright instances cannot run in one thread). Tests that
use it must run inside a loopback-only network namespace (`make test` does that):
WebRTC gathers candidates on every interface, and test traffic may only use loopback.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlsplit
from urllib.request import urlopen

import pytest
from django.conf import settings
from playwright.sync_api import expect, sync_playwright

from rooms.services import room_create
from tests.browser.services import free_port, start_coturn, start_nginx, stop
from tests.factories import PASSWORD, UserFactory

ROOT = Path(__file__).resolve().parents[2]
ASGI_APP = "config.asgi:application"

CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--autoplay-policy=no-user-gesture-required",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(autouse=True)
def _orm_beside_playwright(request, monkeypatch):
    # Playwright's sync API keeps an event loop running in this thread once a browser
    # test has started it; the ORM calls these tests make between browser steps are
    # still plain synchronous code. Only for `browser` tests, which run last.
    if request.node.get_closest_marker("browser"):
        monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def loopback_only():
    interfaces = sorted(name for _, name in socket.if_nameindex())
    assert interfaces == ["lo"], (
        f"browser tests need a loopback-only network namespace, found {interfaces}; "
        "run them through `make test` (scripts/run_tests.py)"
    )


def _database_url() -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    credentials = quote(db["USER"] or "")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"])
    host_query = f"?host={quote(db['HOST'])}" if db["HOST"].startswith("/") else ""
    netloc = (
        ""
        if host_query
        else (db["HOST"] or "") + (f":{db['PORT']}" if db["PORT"] else "")
    )
    at = "@" if credentials else ""
    port = db["OPTIONS"].get("port") or db["PORT"]
    if host_query and port:
        host_query += f"&port={port}"
    return f"postgres://{credentials}{at}{netloc}/{db['NAME']}{host_query}"


def app_env(**overrides: str) -> dict[str, str]:
    """The environment of a process of the app (daphne, a management command) that
    works on the test database."""
    return {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DATABASE_URL": _database_url(),
        "DEBUG": "1",
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
        **overrides,
    }


def start_daphne(port: int | None = None, **env_overrides: str):
    """A daphne process serving the app on 127.0.0.1 (on a free port unless given);
    (url, process)."""
    port = port or free_port()
    env = app_env(**env_overrides)
    proc = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), ASGI_APP],
        cwd=ROOT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            with urlopen(url + "/accounts/login/", timeout=1) as answer:
                if answer.status == 200:
                    return url, proc
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("daphne did not start")
        time.sleep(0.1)


class DaphneServers:
    """`daphne_servers(n, **env)` → n URLs of daphne processes on the test database;
    `daphne_servers.kill(url)` crashes one (SIGKILL: no cleanup runs)."""

    def __init__(self):
        self.procs: dict[str, subprocess.Popen] = {}

    def __call__(self, n: int = 1, **env: str) -> list[str]:
        urls = []
        for _ in range(n):
            url, proc = start_daphne(**env)
            self.procs[url] = proc
            urls.append(url)
        return urls

    def kill(self, url: str) -> None:
        proc = self.procs[url]
        proc.kill()
        proc.wait(10)

    def stop_all(self) -> None:
        for proc in self.procs.values():
            stop(proc)


@pytest.fixture
def daphne_servers(loopback_only, transactional_db):
    """Start daphne processes on the test database (see `DaphneServers`)."""
    servers = DaphneServers()
    yield servers
    servers.stop_all()


@pytest.fixture
def nginx(loopback_only, tmp_path):
    """`nginx(primary=[url…], backup=[url…])` → the URL of Debian's nginx in front of
    those daphne URLs, with WebSocket upgrades (the config docs/deploy.md shows)."""
    procs = []

    def start(*, primary: list[str], backup: list[str] = ()) -> str:
        workdir = tmp_path / f"nginx{len(procs)}"
        workdir.mkdir()
        url, proc = start_nginx(
            workdir,
            primary=[urlsplit(u).netloc for u in primary],
            backup=[urlsplit(u).netloc for u in backup],
        )
        procs.append(proc)
        return url

    yield start
    for proc in procs:
        stop(proc)


@pytest.fixture
def people(transactional_db):
    """Alice, Bob and Carol, with the password `sign_in` uses."""
    for name in ("alice", "bob", "carol"):
        UserFactory(username=name, display_name=name.capitalize())


@pytest.fixture
def room(transactional_db):
    """The room "standup", owned by Alice, and four people to enter it."""
    names = ("alice", "bob", "carol", "dave")
    users = {n: UserFactory(username=n, display_name=n.capitalize()) for n in names}
    return room_create(owner=users["alice"], name="Standup", room_id="standup")


@pytest.fixture
def coturn(loopback_only, tmp_path):
    """A real coturn (Debian's package) on 127.0.0.1 with a shared secret of its own."""
    server, proc = start_coturn(tmp_path)
    yield server
    stop(proc)


@pytest.fixture
def live_server_url(request, daphne_servers):
    """The app served over HTTP and WebSocket by daphne on 127.0.0.1, on the test DB.

    `@pytest.mark.server_env(NAME="value")` sets the server's environment.
    """
    marker = request.node.get_closest_marker("server_env")
    (url,) = daphne_servers(1, **(marker.kwargs if marker else {}))
    return url


@pytest.fixture(scope="session")
def browser(loopback_only, django_db_setup, django_db_blocker):
    # The test database is made first: once Playwright runs, an event loop is running
    # in this thread and Django refuses to create it.
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, args=CHROMIUM_FLAGS
        )
        yield browser
        browser.close()


@pytest.fixture
def sign_in(browser, request):
    """`sign_in(username)` → a page in a fresh browser context, signed in through the
    real log-in form and showing the home page (of `server`, default the live server)."""
    contexts = []

    def sign_in_(username: str, password: str = PASSWORD, server: str | None = None):
        base = server or request.getfixturevalue("live_server_url")
        context = browser.new_context(base_url=base)
        contexts.append(context)
        page = context.new_page()
        # The browser's console, in the test's captured output (shown on failure).
        page.on(
            "console", lambda msg: print(f"[{username} console] {msg.type}: {msg.text}")
        )
        page.on("pageerror", lambda error: print(f"[{username} page error] {error}"))
        page.goto("/accounts/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_url(base + "/")
        expect(page.locator("#connection")).to_have_attribute("data-state", "online")
        return page

    yield sign_in_
    for context in contexts:
        context.close()
