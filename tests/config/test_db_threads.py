"""The database threads of the async side (config.db_threads): one thread on SQLite,
a pool of DB_THREADS threads, each with its own connection, on PostgreSQL."""

import asyncio
import threading

import pytest
from channels.db import database_sync_to_async
from django.db import connections

from accounts.models import User
from config.db_threads import db_async
from tests.factories import UserFactory


def _where() -> tuple[str, int]:
    """The thread a call ran on, and the connection it used (by identity)."""
    return threading.current_thread().name, id(connections["default"])


async def test_with_one_thread_every_call_runs_on_the_same_thread(settings):
    settings.DB_THREADS = 1
    places = await asyncio.gather(*(db_async(_where)() for _ in range(4)))
    assert len(set(places)) == 1
    (name, _), *_ = places
    assert not name.startswith("parley-db")  # Channels' own thread, not the pool


async def test_with_a_pool_calls_run_at_the_same_time_each_on_its_own_connection(
    settings,
):
    settings.DB_THREADS = 3
    # Each call waits for the two others: on one thread this could never finish.
    meeting = threading.Barrier(3, timeout=10)

    def meet() -> tuple[str, int]:
        meeting.wait()
        return _where()

    places = await asyncio.gather(*(db_async(meet)() for _ in range(3)))
    assert len({name for name, _ in places}) == 3
    assert len({conn for _, conn in places}) == 3
    assert all(name.startswith("parley-db") for name, _ in places)


@pytest.mark.django_db(transaction=True)
async def test_what_a_pool_thread_writes_is_committed_for_everyone(settings):
    settings.DB_THREADS = 3
    made = await db_async(UserFactory)(username="pooled")
    # Read on Channels' own thread, a connection of its own.
    seen = await database_sync_to_async(User.objects.filter(pk=made.pk).exists)()
    assert seen
