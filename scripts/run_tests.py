"""Run the test suite inside a loopback-only network namespace (see docs/architecture.md, "Testing").

Browser and media tests must send traffic only to loopback. Inside the namespace the
host's TCP services are unreachable, so a REDIS_URL or DATABASE_URL pointing at the
host's loopback is bridged through a unix socket first. Arguments go to pytest.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def bridge(
    workdir: Path, name: str, host: str, port: int
) -> tuple[Path, subprocess.Popen]:
    path = workdir / name
    proc = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "scripts/unix_bridge.py"),
            str(path),
            host,
            str(port),
        ]
    )
    deadline = time.monotonic() + 10
    while not path.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            sys.exit(f"could not bridge {host}:{port} to {path}")
        time.sleep(0.02)
    return path, proc


def bridged_env(workdir: Path, procs: list) -> dict[str, str]:
    env = dict(os.environ)
    redis = urlsplit(env.get("REDIS_URL", ""))
    if redis.scheme in ("redis", "rediss") and redis.hostname in LOOPBACK:
        sock, proc = bridge(workdir, "redis.sock", redis.hostname, redis.port or 6379)
        procs.append(proc)
        db = redis.path.strip("/") or "0"
        password = f"?password={redis.password}" if redis.password else ""
        env["REDIS_URL"] = f"unix://{sock}{password}{'&' if password else '?'}db={db}"
    database = urlsplit(env.get("DATABASE_URL", ""))
    if database.scheme.startswith("postgres") and database.hostname in LOOPBACK:
        port = database.port or 5432
        _, proc = bridge(workdir, f".s.PGSQL.{port}", database.hostname, port)
        procs.append(proc)
        user = f"{database.username}@" if database.username else ""
        if database.password:
            user = f"{database.username}:{database.password}@"
        query = f"host={workdir}&port={port}" + (
            f"&{database.query}" if database.query else ""
        )
        env["DATABASE_URL"] = urlunsplit(
            (database.scheme, user, database.path, query, "")
        )
    return env


def namespace_prefix() -> list[str] | None:
    """The command prefix that runs a program with only `lo`, or None if impossible."""
    unshare, ip = shutil.which("unshare"), shutil.which("ip")
    if not (unshare and ip):
        return None
    inner = ["sh", "-c", f'{ip} link set lo up && exec "$@"', "sh"]
    for flags in (["-n"], ["-rn"]):
        probe = subprocess.run(
            [unshare, *flags, *inner, "true"], capture_output=True, check=False
        )
        if probe.returncode == 0:
            return [unshare, *flags, *inner]
    return None


def main() -> int:
    pytest = [sys.executable, "-m", "pytest", *sys.argv[1:]]
    prefix = namespace_prefix()
    if prefix is None:
        print(
            "run_tests: cannot create a loopback-only network namespace here "
            "(needs root, or unprivileged user namespaces, and iproute2).\n"
            "Browser tests need one and are left out of this run.",
            file=sys.stderr,
        )
        return subprocess.call([*pytest, "-m", "not browser"], cwd=ROOT)
    procs: list[subprocess.Popen] = []
    with tempfile.TemporaryDirectory(prefix="parley-bridge-") as tmp:
        try:
            env = bridged_env(Path(tmp), procs)
            return subprocess.call([*prefix, *pytest], cwd=ROOT, env=env)
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(10)


if __name__ == "__main__":
    sys.exit(main())
