"""`make bench` at toy size: the harness runs every figure end to end and reports it.

No timings are asserted (benchmarks are not tests); this checks that bench/run.py,
the Node load generator and PeerJS's server still work together, so that `make bench`
does not rot between runs.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def smoke_database_url() -> str:
    db = settings.DATABASES["default"]
    if not db["ENGINE"].endswith("postgresql"):
        if os.environ.get("CI"):
            pytest.fail(
                "CI must run the bench smoke test: set DATABASE_URL (PostgreSQL)"
            )
        pytest.skip("the benchmarks need PostgreSQL (DATABASE_URL)")
    port = db["PORT"] or db["OPTIONS"].get("port") or 5432
    # Named after this run's test database, so that runs on other databases do not
    # share it.
    name = f"{db['NAME']}_bench"
    return f"postgres:///{name}?host={db['HOST']}&port={port}"


def run_bench(*command: str, timeout: int = 120) -> subprocess.CompletedProcess:
    """Run a bench script on the smoke test's database; it must succeed."""
    env = {**os.environ, "BENCH_DATABASE_URL": smoke_database_url()}
    result = subprocess.run(
        [sys.executable, *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_the_benchmarks_run_at_toy_size_and_report_every_figure(tmp_path):
    assert shutil.which("node"), "node is needed for bench/loadgen.mjs"
    assert (ROOT / "bench/node_modules/peer").exists(), (
        "bench/node_modules is missing: run `cd bench && npm ci` (make test does it)"
    )
    out = tmp_path / "bench.json"
    result = run_bench("bench/run.py", "--quick", "--out", str(out), timeout=240)
    report = json.loads(out.read_text())
    figures = set(report["medians"])
    assert figures == {
        "P1 p50",
        "P1 p99",
        "P1 CPU/frame",
        "P2 1 proc",
        "P2 2 procs",
        "P3 sockets",
        "P3 KiB/socket",
        "P4 ms",
        "P4 ms 480p",
        "P5 setups/s",
        "P5 p95",
    }
    for name, pair in report["medians"].items():
        assert pair["parley"] is not None, name
    run = report["runs"][0]
    assert run["parley_idle"]["open_after_hold"] == report["size"]["p3_sockets"]
    assert run["peerjs_idle"]["open_after_hold"] == report["size"]["p3_sockets"]
    assert run["p5"]["bills_written"] > 0
    for line in ("P1 p50", "P4 ms", "P5 setups/s"):
        assert line in result.stdout  # the printed table


def test_the_services_loop_runs_and_prints_its_figures_and_statements():
    """bench/services.py: P5's statements without the sockets (docs/performance.md)."""
    result = run_bench("bench/services.py", "--setups", "20", "--statements")
    assert "20 setups:" in result.stdout
    assert "ms of CPU" in result.stdout
    # An invite, an accept and a hang-up: each kind of statement a setup sends.
    for statement in ("SELECT", "INSERT INTO", "UPDATE", "DELETE FROM"):
        assert f"  {statement} " in result.stdout, statement
