"""Puts call outcomes on the wire: frames to device groups, wake-ups on timers.

Each socket joins the group `device.<device_id>`; whichever process holds it gets
the frame (channels-redis carries it between processes).
"""

import asyncio
import logging
import time

from channels.layers import get_channel_layer

from calls import protocol
from calls.services import Outcome, calls_tick_due
from config.db_threads import db_async
from config.layers import DEVICE_GROUP_PREFIX

log = logging.getLogger(__name__)

DELIVER_EVENT = "frame.deliver"
_background: set[asyncio.Task] = set()


def device_group(device_id: str) -> str:
    return f"{DEVICE_GROUP_PREFIX}{device_id}"


async def send_to_device(
    device_id: str,
    frame: protocol.ServerFrame,
    *,
    joins: tuple[str, str] | None = None,
    leaves: str | None = None,
) -> None:
    """Send one frame to the socket of `device_id`, on whichever process holds it."""
    await get_channel_layer().group_send(
        device_group(device_id),
        {
            "type": DELIVER_EVENT,
            "text": protocol.encode(frame),
            "joins": list(joins) if joins else None,
            "leaves": leaves,
        },
    )


async def deliver(outcome: Outcome) -> None:
    for item in outcome.deliveries:
        await send_to_device(
            item.device, item.frame, joins=item.joins, leaves=item.leaves
        )
    for at in set(outcome.wake_at):
        schedule_wake(at)


def schedule_wake(at: float) -> None:
    """Look at due calls at time `at` (ring timeout, reconnect grace) in this process.

    Timers are a fast path only: the deadlines are stored, and every process's
    presence heartbeat also ends overdue calls, so a process that dies with a timer
    pending cannot leave a call ringing.
    """
    loop = asyncio.get_running_loop()
    delay = max(0.0, at - time.time()) + 0.02
    loop.call_later(delay, _spawn_wake)


def _spawn_wake() -> None:
    task = asyncio.get_running_loop().create_task(wake())
    _background.add(task)
    task.add_done_callback(_background.discard)


async def wake() -> None:
    try:
        await deliver(await db_async(calls_tick_due)())
    except Exception:
        log.exception("call timer failed")
