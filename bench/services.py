"""The call services alone, in a loop on one thread: what P5's statements cost the
server without its sockets. Each setup is an invite, an accept and a hang-up between
two connected people, as in P5; prints setups per second and CPU per setup, and with
`--statements` the CPU and wall time of each statement as the driver sends it.

    .venv/bin/python bench/services.py [--setups N] [--statements]

Uses the benchmarks' own PostgreSQL database (bench/run.py, BENCH_DATABASE_URL).
See docs/performance.md (P5).
"""

import argparse
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import bench_database  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--setups", type=int, default=1000)
    parser.add_argument("--statements", action="store_true")
    args = parser.parse_args()

    os.environ["DATABASE_URL"] = bench_database()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from accounts.models import User
    from accounts.services import device_connect
    from calls.services import call_act, call_invite

    call_command("migrate", verbosity=0)
    alice = User.objects.create(username="alice")
    bob = User.objects.create(username="bob")
    device_connect(user=alice, device_id="alice-1", channel_name="a")
    device_connect(user=bob, device_id="bob-1", channel_name="b")

    def setup() -> None:
        call_id = call_invite(
            caller=alice, caller_device="alice-1", callee_username="bob", media="video"
        ).call_id
        call_act(action="accept", call_id=call_id, user=bob, device_id="bob-1")
        call_act(action="hangup", call_id=call_id, user=alice, device_id="alice-1")

    statements = defaultdict(lambda: [0, 0.0, 0.0])

    def timed(execute, sql, params, many, context):
        cpu, wall = time.thread_time(), time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            figures = statements[sql[:72]]
            figures[0] += 1
            figures[1] += time.thread_time() - cpu
            figures[2] += time.perf_counter() - wall

    for _ in range(min(50, args.setups)):  # connections, compiled statements, caches
        setup()
    cpu, wall = time.process_time(), time.perf_counter()
    if args.statements:
        with connection.execute_wrapper(timed):
            for _ in range(args.setups):
                setup()
    else:
        for _ in range(args.setups):
            setup()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    n = args.setups
    print(
        f"{n} setups: {n / wall:.0f} setups/s, {cpu / n * 1e3:.2f} ms of CPU and "
        f"{wall / n * 1e3:.2f} ms each"
    )
    if args.statements:
        total = 0.0
        print("per setup  CPU µs  wall µs  statement")
        for sql, (count, cpu, wall) in sorted(
            statements.items(), key=lambda item: -item[1][1]
        ):
            total += cpu
            print(
                f"{count / n:9.1f} {cpu / count * 1e6:7.0f} "
                f"{wall / count * 1e6:8.0f}  {sql}"
            )
        print(f"statements sent: {total / n * 1e3:.2f} ms of CPU per setup")


if __name__ == "__main__":
    main()
