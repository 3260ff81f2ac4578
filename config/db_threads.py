"""The threads that run the ORM for the async side (sockets, the presence hub, the
heartbeat): `db_async(service)(**kwargs)` in place of Channels' database_sync_to_async.

Channels runs every such call on one thread per process, so each query, and each
COMMIT's wait for the disk, waited for all the others: full call setups stopped near
100 a second with the process mostly idle (docs/performance.md, P5). With
`DB_THREADS` above 1, calls run on a pool of that many threads, each with its own
connection, and PostgreSQL overlaps them and flushes their commits together.

That is safe because the services already assume concurrency: several processes
share one database, so they lock the rows they change (calls.services) and count
presence after the write (accounts.services). One socket's calls still run one at a
time, in order, as its consumer awaits each. SQLite, which takes one writer at a
time, keeps the single thread (settings.DB_THREADS).
"""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache

from channels.db import DatabaseSyncToAsync
from django.conf import settings


@cache
def _pool(size: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=size, thread_name_prefix="parley-db")


def db_async(func: Callable) -> DatabaseSyncToAsync:
    """`func` as an awaitable run on the database threads. Like Channels' wrapper,
    it closes connections that are stale or broken before and after the call."""
    size = settings.DB_THREADS
    if size <= 1:
        return DatabaseSyncToAsync(func)
    return DatabaseSyncToAsync(func, thread_sensitive=False, executor=_pool(size))
