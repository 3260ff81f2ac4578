"""`make bench`: Parley's benchmarks P1 to P5, side by side with PeerJS's server.

Runs inside a loopback-only network namespace (the browser figure, P4, makes WebRTC
traffic), with its own redis-server on a unix socket and its own PostgreSQL database
(`parley_bench`, over the unix socket). Servers are pinned to core 0 and the load
generator (bench/loadgen.mjs, Node) to core 1 where there are two cores. Prints a
table and writes bench/results/<time>.json and bench/results/latest.json.

    .venv/bin/python bench/run.py [--quick] [--repeat N] [--only P1,P3]

See docs/performance.md for what each figure means and the numbers so far.
"""

import argparse
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
sys.path.insert(0, str(ROOT))

from scripts.run_tests import namespace_prefix  # noqa: E402
from tests.browser.services import free_port, stop  # noqa: E402

TARGETS = {
    "P1 p50": 2.0,
    "P1 p99": 10.0,
    "P2 1 proc": 5000,
    "P3 sockets": 10000,
    "P3 KiB/socket": 64,
    "P4 ratio": 1.3,
    "P5 setups/s": 200,
    "P5 p95": 100.0,
}

FULL = {
    "pairs": 500,
    "latency_rate": 1000,
    "latency_seconds": 8,
    "ramp": [
        250,
        500,
        1000,
        2000,
        3000,
        4000,
        5000,
        6000,
        8000,
        10000,
        12000,
        15000,
        20000,
    ],
    "step_seconds": 3,
    "p3_sockets": 10000,
    "p3_users": 100,
    "p3_budget_s": 120,
    "p4_runs": 5,
    "p5_pairs": 100,
    "p5_concurrency": [10, 25, 50, 100],
    "p5_seconds": 5,
}
QUICK = {
    "pairs": 20,
    "latency_rate": 100,
    "latency_seconds": 1,
    "ramp": [200, 400],
    "step_seconds": 1,
    "p3_sockets": 100,
    "p3_users": 10,
    "p3_budget_s": 30,
    "p4_runs": 1,
    "p5_pairs": 5,
    "p5_concurrency": [5],
    "p5_seconds": 1,
}


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def cores() -> tuple[list[str], list[str]]:
    """(server prefix, load generator prefix): taskset pins where there are 2+ cores."""
    taskset = shutil.which("taskset")
    if taskset and len(os.sched_getaffinity(0)) >= 2:
        return [taskset, "-c", "0"], [taskset, "-c", "1"]
    return [], []


SERVER_CORE, LOADGEN_CORE = cores()


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_http(url: str, proc: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            with urlopen(url, timeout=1):
                return
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"{what} did not start")
        time.sleep(0.1)


# --- services ------------------------------------------------------------------------


@contextmanager
def redis_server(workdir: Path):
    """Our own redis-server: a unix socket (what the figures use) and a TCP port."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is missing: apt-get install redis-server")
    sock = workdir / "redis.sock"
    port = free_port()
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--unixsocket"]
    args += [str(sock), "--save", "", "--appendonly", "no", "--dir", str(workdir)]
    # Not pinned (like PostgreSQL): on the server's core, every publish waited for
    # Redis to be scheduled in the middle of daphne's write.
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not sock.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("redis-server did not start")
        time.sleep(0.02)
    try:
        yield {"unix": f"unix://{sock}", "tcp": f"redis://127.0.0.1:{port}/0"}
    finally:
        stop(proc)


def bench_database() -> str:
    """A fresh PostgreSQL database for this run, reached over its unix socket (TCP
    does not leave the namespace)."""
    import psycopg

    url = os.environ.get(
        "BENCH_DATABASE_URL", "postgres:///parley_bench?host=/var/run/postgresql"
    )
    parts = urlsplit(url)
    if not parts.scheme.startswith("postgres"):
        raise SystemExit(f"BENCH_DATABASE_URL must be PostgreSQL, not {url}")
    name = parts.path.strip("/")
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    try:
        with psycopg.connect(
            dbname="postgres",
            host=query.get("host", parts.hostname),
            port=query.get("port", parts.port),
            user=parts.username,
            password=parts.password,
            autocommit=True,
        ) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as error:
        raise SystemExit(
            f"bench needs PostgreSQL over a unix socket ({url}; set "
            f"BENCH_DATABASE_URL): {error}"
        ) from None
    return url


def server_env(database_url: str, redis_url: str | None, secret_key: str) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": secret_key,
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "SECURE_HSTS_SECONDS": "0",
        "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
        # Per-socket flood control is a policy, not a capacity: the load generator
        # drives each socket harder than a person would.
        "SOCKET_RATE": "5000",
        "SOCKET_BURST": "10000",
    }
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


@contextmanager
def daphnes(n: int, env: dict):
    """n daphne processes serving Parley; yields [(http url, pid)]."""
    procs, servers, profilers = [], [], []
    try:
        for _ in range(n):
            port = free_port()
            command = [
                sys.executable,
                "-m",
                "daphne",
                "-v",
                os.environ.get("BENCH_DAPHNE_VERBOSITY", "0"),
            ]
            command += ["-b", "127.0.0.1"]
            command += ["-p", str(port), "config.asgi:application"]
            proc = subprocess.Popen([*SERVER_CORE, *command], cwd=ROOT, env=env)
            procs.append(proc)
            url = f"http://127.0.0.1:{port}"
            wait_http(url + "/accounts/login/", proc, "daphne")
            servers.append((url, proc.pid))
            if PROFILE_DIR:
                profilers.append(profile(proc.pid, port))
        yield servers
    finally:
        for profiler in profilers:
            profiler.send_signal(signal.SIGINT)
            profiler.wait(60)
        for proc in procs:
            stop(proc)
        forget_stopped_servers()


def forget_stopped_servers() -> None:
    """What stopped servers leave in the database: daphne ends its sockets without
    their disconnect handlers, as in a crash. The next scenario's servers would
    otherwise sweep those rows, announce a thousand people offline and end their
    calls in the middle of its measurement."""
    from django.utils import timezone

    from accounts.models import Device
    from calls.models import Call, LiveParty
    from rooms.models import Member

    Device.objects.all().delete()
    Member.objects.all().delete()
    LiveParty.objects.all().delete()
    Call.objects.filter(state__in=Call.LIVE_STATES).update(
        state=Call.State.ENDED,
        end_reason=Call.EndReason.DISCONNECT,
        end_code=100106,
        ended_at=timezone.now(),
    )


# `--profile DIR`: py-spy (pip install py-spy) samples every daphne of the run.
PROFILE_DIR: Path | None = None
# py-spy options: `--gil` samples only the thread holding the GIL, which tells where
# the CPU goes once the database threads (DB_THREADS) wait on each other for it.
PROFILE_ARGS: list[str] = []


def profile(pid: int, port: int) -> subprocess.Popen:
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    out = PROFILE_DIR / f"daphne-{port}-{int(time.time())}.txt"
    command = [spy, "record", "--pid", str(pid), "--rate", "200", "--format"]
    command += ["raw", "--output", str(out), "--nonblocking"]
    command += PROFILE_ARGS
    return subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


@contextmanager
def peerjs_server():
    port = free_port()
    proc = subprocess.Popen(
        [*SERVER_CORE, "node", str(BENCH / "peerjs-server.mjs"), str(port)],
        cwd=BENCH,
        stdout=subprocess.PIPE,
        text=True,
    )
    if proc.stdout.readline().strip() != "READY":
        raise SystemExit("PeerJS's server did not start")
    try:
        yield f"ws://127.0.0.1:{port}", proc.pid
    finally:
        stop(proc)


class ScenarioFailed(Exception):
    """One scenario could not be measured; the run reports it and goes on."""


def loadgen(config: dict, workdir: Path, on_ready=None, on_mark=None) -> dict:
    """Run bench/loadgen.mjs with `config`; `on_ready(n)` runs at its READY line,
    `on_mark(label)` at each MARK line."""
    path = workdir / f"loadgen-{secrets.token_hex(4)}.json"
    path.write_text(json.dumps(config))
    proc = subprocess.Popen(
        [*LOADGEN_CORE, "node", str(BENCH / "loadgen.mjs"), str(path)],
        cwd=BENCH,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    result = None
    for line in proc.stdout:
        if line.startswith("READY "):
            if on_ready:
                on_ready(int(line.split()[1]))
            proc.stdin.close()
        elif line.startswith("MARK ") and on_mark:
            on_mark(line.split()[1])
        elif line.startswith("{"):
            result = json.loads(line)
    if proc.wait() != 0 or result is None:
        raise ScenarioFailed(f"the load generator crashed ({config['mode']})")
    if "error" in result:
        raise ScenarioFailed(result["error"])
    return result


# --- Django: users and their tokens --------------------------------------------------


def setup_django(database_url: str, secret_key: str) -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": database_url,
            "SECRET_KEY": secret_key,
            "DEBUG": "0",
            "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
        }
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def make_users(prefix: str, count: int) -> list[dict]:
    """`count` users named <prefix><i>, each with a userSig."""
    from accounts.models import User
    from accounts.usersig import usersig_issue

    User.objects.bulk_create(
        [User(username=f"{prefix}{i}", password="!") for i in range(count)]
    )
    users = User.objects.filter(username__startswith=prefix).order_by("id")
    by_name = {u.username: u for u in users}
    ordered = [by_name[f"{prefix}{i}"] for i in range(count)]
    return [{"username": u.username, "token": usersig_issue(user=u)} for u in ordered]


def bills_hung_up() -> int:
    from calls.models import Call

    return Call.objects.filter(end_reason="hangup").count()


# --- the figures ---------------------------------------------------------------------


def relay_config(size: dict, target: str, urls: list[str], users=None) -> dict:
    return {
        "mode": "relay",
        "target": target,
        "urls": urls,
        "users": users or [],
        "pairs": size["pairs"],
        "latency_rate": size["latency_rate"],
        "latency_seconds": size["latency_seconds"],
        "ramp": size["ramp"],
        "step_seconds": size["step_seconds"],
        "p99_limit_ms": 50,
    }


def ws(url: str) -> str:
    return url.replace("http://", "ws://") + "/ws/"


def relay_with_cpu(config: dict, pids: list[int], workdir: Path) -> dict:
    """The relay scenario, and the servers' CPU time per frame relayed in its
    fixed-rate phase (P1): less at the mercy of a shared machine than latency."""
    marks = {}
    result = loadgen(
        config,
        workdir,
        on_mark=lambda label: marks.setdefault(label, sum(map(cpu_seconds, pids))),
    )
    frames = result["latency"]["received"]
    if frames and {"latency-start", "latency-end"} <= marks.keys():
        used = marks["latency-end"] - marks["latency-start"]
        result["server_cpu_us_per_frame"] = round(used / frames * 1e6, 1)
    return result


def parley_relay(size, env, users, workdir, processes: int) -> dict:
    with daphnes(processes, env) as servers:
        urls = [ws(url) for url, _ in servers]
        config = relay_config(size, "parley", urls, users)
        return relay_with_cpu(config, [pid for _, pid in servers], workdir)


def peerjs_relay(size, workdir) -> dict:
    with peerjs_server() as (url, pid):
        return relay_with_cpu(relay_config(size, "peerjs", [url]), [pid], workdir)


def idle_sockets(config: dict, pid: int, workdir: Path) -> dict:
    before = rss_kib(pid)
    after = {}

    def read_memory(open_count: int) -> None:
        after["rss"] = rss_kib(pid)
        after["open"] = open_count

    result = loadgen(config, workdir, on_ready=read_memory)
    grown = after["rss"] - before
    result.update(
        rss_before_kib=before,
        rss_after_kib=after["rss"],
        kib_per_socket=round(grown / after["open"], 2) if after["open"] else None,
    )
    return result


def parley_idle(size, env, users, workdir) -> dict:
    with daphnes(1, env) as [(url, pid)]:
        config = {
            "mode": "idle",
            "target": "parley",
            "urls": [ws(url)],
            # Sockets of p3_users people, round robin: presence is announced per person.
            "users": [users[i % len(users)] for i in range(size["p3_sockets"])],
            "count": size["p3_sockets"],
            "people": min(len(users), size["p3_sockets"]),
            "budget_s": size["p3_budget_s"],
            "concurrency": 50,
        }
        return idle_sockets(config, pid, workdir)


def peerjs_idle(size, workdir) -> dict:
    with peerjs_server() as (url, pid):
        config = {
            "mode": "idle",
            "target": "peerjs",
            "urls": [url],
            "count": size["p3_sockets"],
            "people": 0,
            "budget_s": size["p3_budget_s"],
            "concurrency": 50,
        }
        return idle_sockets(config, pid, workdir)


def parley_setups(size, env, users, workdir) -> dict:
    before = bills_hung_up()
    marks = {}
    with daphnes(1, env) as [(url, pid)]:
        result = loadgen(
            {
                "mode": "setups",
                "target": "parley",
                "urls": [ws(url)],
                "users": users,
                "pairs": size["p5_pairs"],
                "candidates": 10,
                "concurrency_steps": size["p5_concurrency"],
                "step_seconds": size["p5_seconds"],
            },
            workdir,
            on_mark=lambda label: marks.setdefault(label, cpu_seconds(pid)),
        )
    # The server's CPU time per setup in each step: what bounds the rate on its core.
    for step in result["steps"]:
        label = f"step-{step['concurrency']}"
        if step["completed"] and {label, f"{label}-end"} <= marks.keys():
            used = marks[f"{label}-end"] - marks[label]
            step["server_cpu_ms_per_setup"] = round(used / step["completed"] * 1e3, 2)
    completed = sum(step["completed"] for step in result["steps"])
    written = bills_hung_up() - before
    # Every setup the load generator counted left its bill; anything else is a bug.
    if written != completed:
        raise ScenarioFailed(f"P5: {completed} setups but {written} bills written")
    result["bills_written"] = written
    passing = [s for s in result["steps"] if s["p95_ms"] and s["p95_ms"] <= 100]
    best = max(passing or result["steps"], key=lambda s: s["per_s"])
    result["best"] = best
    return result


# The floor: the same media through two RTCPeerConnections in one page, no server.
# `asCall`: what a Parley call opens (static/js/media.js: 1280x720 ideal), both ways, as
# each side sends; else the browser's defaults (640x480) one way, the floor before
# 2026-12-01, which took 110 ms less than the same path at the call's resolution.
P4_FLOOR = """async (asCall) => {
  const base = document.querySelector('script[src*="home-ui"]').src;
  const { openMedia } = await import(new URL("media.js", base).href);
  const both = { audio: true, video: true };
  const t0 = performance.now();
  const [stream, stream2] = await Promise.all(
    asCall
      ? [openMedia(both), openMedia(both)]
      : [navigator.mediaDevices.getUserMedia(both), Promise.resolve(new MediaStream())],
  );
  const pc1 = new RTCPeerConnection(), pc2 = new RTCPeerConnection();
  let remote1, remote2;
  const has1 = new Promise((r) => (remote1 = r)), has2 = new Promise((r) => (remote2 = r));
  pc1.onicecandidate = (e) => e.candidate && has2.then(() => pc2.addIceCandidate(e.candidate));
  pc2.onicecandidate = (e) => e.candidate && has1.then(() => pc1.addIceCandidate(e.candidate));
  for (const track of stream.getTracks()) pc1.addTrack(track, stream);
  for (const track of stream2.getTracks()) pc2.addTrack(track, stream2);
  await pc1.setLocalDescription();
  await pc2.setRemoteDescription(pc1.localDescription); remote2();
  await pc2.setLocalDescription();
  await pc1.setRemoteDescription(pc2.localDescription); remote1();
  while (true) {
    let decoded = 0;
    (await pc2.getStats()).forEach((s) => {
      if (s.type === "inbound-rtp" && s.kind === "video") decoded += s.framesDecoded ?? 0;
    });
    if (decoded > 0) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  const took = performance.now() - t0;
  pc1.close(); pc2.close(); [stream, stream2].forEach((s) => s.getTracks().forEach((t) => t.stop()));
  return took;
}"""

P4_CALL = """async (callee) => {
  const calls = window.parley.calls;
  const t0 = performance.now();
  await calls.invite({ username: callee, display_name: callee }, "video");
  while (true) {
    const stats = await calls.stats();
    if (stats && stats.video.framesDecoded > 0) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  return performance.now() - t0;
}"""

P4_AUTO_ACCEPT = """() => window.parley.client.addEventListener("call.incoming", () =>
  setTimeout(() => window.parley.calls.accept(), 0))"""


def browser_first_frame(size, env) -> dict:
    """P4: invite → first decoded remote frame, against two RTCPeerConnections."""
    from playwright.sync_api import sync_playwright

    from accounts.models import User
    from tests.browser.harness import CHROMIUM_FLAGS

    password = secrets.token_urlsafe(12)
    for name in ("p4caller", "p4callee"):
        user = User(username=name)
        user.set_password(password)
        user.save()
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with daphnes(1, env) as [(url, _)], sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        pages = {}
        for name in ("p4caller", "p4callee"):
            page = browser.new_context(base_url=url).new_page()
            page.goto("/accounts/login/")
            page.fill("input[name=username]", name)
            page.fill("input[name=password]", password)
            page.click("button[type=submit]")
            page.wait_for_url(url + "/")
            page.wait_for_selector("#connection[data-state=online]")
            pages[name] = page
        caller, callee = pages["p4caller"], pages["p4callee"]
        callee.evaluate(P4_AUTO_ACCEPT)
        floor, default_floor, parley = [], [], []
        for _ in range(size["p4_runs"] + 1):  # the first of each is a warm-up
            floor.append(caller.evaluate(P4_FLOOR, True))
            default_floor.append(caller.evaluate(P4_FLOOR, False))
            parley.append(caller.evaluate(P4_CALL, "p4callee"))
            caller.evaluate("window.parley.calls.hangup()")
            for page in (caller, callee):
                page.wait_for_selector("#call-panel[data-phase=ended]")
                page.evaluate("window.parley.calls.dismiss()")
        browser.close()
    floor_ms, parley_ms = statistics.median(floor[1:]), statistics.median(parley[1:])
    default_ms = statistics.median(default_floor[1:])
    return {
        "floor_ms": floor[1:],
        "default_floor_ms": default_floor[1:],
        "parley_ms": parley[1:],
        "floor_median_ms": round(floor_ms, 1),
        "default_floor_median_ms": round(default_ms, 1),
        "parley_median_ms": round(parley_ms, 1),
        "ratio": round(parley_ms / floor_ms, 2),
        "default_ratio": round(parley_ms / default_ms, 2),
    }


# --- one run, the table --------------------------------------------------------------


def run_once(size: dict, only: set[str], workdir: Path) -> dict:
    secret_key = secrets.token_urlsafe(48)
    results: dict = {}
    with ExitStack() as stack:
        redis = stack.enter_context(redis_server(workdir))
        database_url = os.environ["_BENCH_DB"]
        env = server_env(database_url, redis["unix"], secret_key)
        setup_django(database_url, secret_key)

        def users(count: int) -> list[dict]:
            # Fresh people for each scenario: a stopped server leaves its calls live.
            return make_users(f"b{secrets.token_hex(3)}_", count)

        def scenario(key: str, what: str, measure) -> None:
            log(what)
            try:
                results[key] = measure()
            except ScenarioFailed as error:
                log(f"{what}: failed: {error}")
                results[key] = {"error": str(error)}

        pairs = size["pairs"]
        if "P1" in only or "P2" in only:
            scenario(
                "parley_relay_1",
                "P1/P2: Parley, one process (Redis over a unix socket)",
                lambda: parley_relay(size, env, users(2 * pairs), workdir, 1),
            )
            scenario(
                "parley_relay_2",
                "P2: Parley, two processes over Redis",
                lambda: parley_relay(size, env, users(2 * pairs), workdir, 2),
            )
            scenario(
                "peerjs_relay", "P1/P2: PeerJS", lambda: peerjs_relay(size, workdir)
            )
        if "P3" in only:
            scenario(
                "parley_idle",
                "P3: idle sockets, Parley",
                lambda: parley_idle(size, env, users(size["p3_users"]), workdir),
            )
            scenario(
                "peerjs_idle",
                "P3: idle sockets, PeerJS",
                lambda: peerjs_idle(size, workdir),
            )
        if "P4" in only:
            scenario(
                "p4",
                "P4: browser, invite to first decoded frame",
                lambda: browser_first_frame(size, env),
            )
        if "P5" in only:
            scenario(
                "p5",
                "P5: full call setups",
                lambda: parley_setups(size, env, users(2 * size["p5_pairs"]), workdir),
            )
    return results


def failures(run: dict) -> dict[str, str]:
    """The scenarios of a run that could not be measured, and why."""
    return {key: result["error"] for key, result in run.items() if "error" in result}


def figures(run: dict) -> dict[str, tuple[float | None, float | None]]:
    """Each figure: (Parley's, the comparison's: PeerJS's or the floor's); None
    where its scenario failed."""

    def get(key: str, *path):
        value = run.get(key)
        if value is None or "error" in value:
            return None
        for step in path:
            value = value[step]
        return value

    out = {}
    if "parley_relay_1" in run:
        out["P1 p50"] = (
            get("parley_relay_1", "latency", "p50_ms"),
            get("peerjs_relay", "latency", "p50_ms"),
        )
        out["P1 p99"] = (
            get("parley_relay_1", "latency", "p99_ms"),
            get("peerjs_relay", "latency", "p99_ms"),
        )
        out["P1 CPU/frame"] = (
            get("parley_relay_1", "server_cpu_us_per_frame"),
            get("peerjs_relay", "server_cpu_us_per_frame"),
        )
        out["P2 1 proc"] = (
            get("parley_relay_1", "best_rate"),
            get("peerjs_relay", "best_rate"),
        )
        out["P2 2 procs"] = (
            get("parley_relay_2", "best_rate"),
            get("peerjs_relay", "best_rate"),
        )
    if "parley_idle" in run:
        out["P3 sockets"] = (
            get("parley_idle", "open_after_hold"),
            get("peerjs_idle", "open_after_hold"),
        )
        out["P3 KiB/socket"] = (
            get("parley_idle", "kib_per_socket"),
            get("peerjs_idle", "kib_per_socket"),
        )
    if "p4" in run:
        out["P4 ms"] = (get("p4", "parley_median_ms"), get("p4", "floor_median_ms"))
        # Against the floor at the browser's default 640x480, one way (before 2026-12-01).
        out["P4 ms 480p"] = (
            get("p4", "parley_median_ms"),
            get("p4", "default_floor_median_ms"),
        )
    if "p5" in run:
        out["P5 setups/s"] = (get("p5", "best", "per_s"), None)
        out["P5 p95"] = (get("p5", "best", "p95_ms"), None)
    return out


def median_figures(runs: list[dict]) -> dict:
    merged: dict[str, list] = {}
    for run in runs:
        for name, pair in figures(run).items():
            merged.setdefault(name, []).append(pair)

    def med(values):
        values = [v for v in values if v is not None]
        return statistics.median(values) if values else None

    return {
        name: (med([p[0] for p in pairs]), med([p[1] for p in pairs]))
        for name, pairs in merged.items()
    }


UNITS = {
    "P1 p50": "ms",
    "P1 p99": "ms",
    "P1 CPU/frame": "µs server CPU",
    "P2 1 proc": "frames/s",
    "P2 2 procs": "frames/s",
    "P3 sockets": "sockets",
    "P3 KiB/socket": "KiB",
    "P4 ms": "ms",
    "P4 ms 480p": "ms",
    "P5 setups/s": "setups/s",
    "P5 p95": "ms",
}
LOWER_IS_BETTER = {
    "P1 p50",
    "P1 p99",
    "P1 CPU/frame",
    "P3 KiB/socket",
    "P4 ms",
    "P4 ms 480p",
    "P5 p95",
}


def meets(name: str, ours: float | None, ratio: float | None) -> str:
    if name == "P4 ms":
        goal, value = TARGETS["P4 ratio"], ratio
    else:
        goal, value = TARGETS.get(name), ours
    if goal is None or value is None:
        return ""
    ok = value <= goal if name in LOWER_IS_BETTER else value >= goal
    return (
        f"{'yes' if ok else 'NO'} ({'≤' if name in LOWER_IS_BETTER else '≥'} {goal:g})"
    )


def table(medians: dict) -> str:
    rows = [("figure", "Parley", "PeerJS / floor", "ratio", "unit", "target met")]
    for name, (ours, theirs) in medians.items():
        ratio = round(ours / theirs, 2) if ours is not None and theirs else None
        against = "—" if theirs is None else f"{theirs:g}"
        if name.startswith("P4"):
            against += " (floor)"
        rows.append(
            (
                name,
                "—" if ours is None else f"{ours:g}",
                against,
                "—" if ratio is None else f"{ratio:g}x",
                UNITS[name],
                meets(name, ours, ratio),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def machine() -> dict:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "node": subprocess.run(
            ["node", "--version"], capture_output=True, text=True
        ).stdout.strip(),
        "load_before": os.getloadavg(),
        "pinning": bool(SERVER_CORE),
        # The channels-redis layer the Parley servers ran on (settings' REDIS_LAYER).
        "redis_layer": os.environ.get("REDIS_LAYER", "pubsub"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="toy sizes (smoke test)")
    parser.add_argument("--repeat", type=int, default=1, help="runs; medians shown")
    parser.add_argument("--only", default="P1,P2,P3,P4,P5")
    parser.add_argument("--out", type=Path, default=None, help="JSON file to write")
    parser.add_argument("--profile", type=Path, default=None, help="py-spy dir")
    parser.add_argument(
        "--profile-gil", action="store_true", help="py-spy: the GIL's holder only"
    )
    parser.add_argument("--pairs", type=int, default=None, help="P1/P2 pairs")
    args = parser.parse_args()
    only = set(args.only.split(","))
    if sorted(name for _, name in socket.if_nameindex()) != ["lo"]:
        prefix = namespace_prefix()
        if prefix is None:
            raise SystemExit(
                "bench: needs a loopback-only network namespace (root, or unprivileged "
                "user namespaces, and iproute2): P4 makes WebRTC traffic."
            )
        return subprocess.call([*prefix, sys.executable, *sys.argv])
    os.environ["_BENCH_DB"] = bench_database()

    size = dict(QUICK if args.quick else FULL)
    if args.pairs:
        size["pairs"] = args.pairs
    global PROFILE_DIR
    PROFILE_DIR = args.profile
    PROFILE_ARGS[:] = ["--gil"] if args.profile_gil else []
    if PROFILE_DIR:
        PROFILE_DIR.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    runs = []
    with tempfile.TemporaryDirectory(prefix="parley-bench-") as tmp:
        for i in range(args.repeat):
            log(f"run {i + 1} of {args.repeat}")
            runs.append(run_once(size, only, Path(tmp)))
    medians = median_figures(runs)
    print(f"Parley on the {os.environ.get('REDIS_LAYER', 'pubsub')} Redis layer")
    print(table(medians))
    failed = [
        f"  run {i}, {key}: {why}"
        for i, run in enumerate(runs, start=1)
        for key, why in failures(run).items()
    ]
    if failed:
        print("\nnot measured:\n" + "\n".join(failed))
    report = {
        "started": started.isoformat(),
        "finished": datetime.now(UTC).isoformat(),
        "command": " ".join(["bench/run.py", *sys.argv[1:]]),
        "machine": machine(),
        "size": size,
        "medians": {k: {"parley": v[0], "against": v[1]} for k, v in medians.items()},
        "runs": runs,
        "failed": [failures(run) for run in runs],
    }
    out = args.out or RESULTS / f"{started:%Y%m%dT%H%M%SZ}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    if args.out is None:
        (RESULTS / "latest.json").write_text(json.dumps(report, indent=2))
    print(f"\nwritten: {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
