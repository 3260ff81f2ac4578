"""The heartbeat of a process: every PRESENCE_HEARTBEAT seconds, one UPDATE keeps the
device rows of all its signed-in sockets fresh, and the sweeps settle what processes
that died left behind (their devices, calls and room members).

Each socket used to beat on its own, a task and an UPDATE per socket per beat: at
10 000 sockets, over 300 writes a second queued on the process's one database thread
(docs/performance.md). The presence hub, which knows the process's signed-in sockets,
runs `beat` (calls.presence_hub).
"""

import logging

from accounts import services as accounts
from calls import services as calls
from calls.delivery import deliver
from config.db_threads import db_async
from rooms import services as rooms
from rooms.delivery import rooms_announce_disconnected

log = logging.getLogger(__name__)


async def beat(sockets: set) -> None:
    """One beat for the signed-in `sockets` of this process."""
    stored = {s.device_id: s for s in sockets if s.device_stored}
    missing = await db_async(accounts.devices_refresh)(device_ids=list(stored))
    for device_id in missing:
        socket = stored[device_id]
        # One that closed meanwhile has deleted its row: it must stay deleted.
        if socket in sockets:
            try:
                await socket.revive()
            except Exception:
                log.exception("a swept socket could not be revived")
    await sweep()


async def sweep() -> None:
    """Rows no process refreshed lately (their process died): the devices' users are
    announced, their calls given the grace, their room members let go; and calls
    whose ring deadline or grace passed are ended, whichever process set the timer."""
    for user in await db_async(accounts.presence_sweep)():
        await accounts.presence_announce(user=user)
    await deliver(await db_async(calls.calls_reap_orphans)())
    await rooms_announce_disconnected(await db_async(rooms.rooms_reap_orphans)())
    await deliver(await db_async(calls.calls_tick_due)())
