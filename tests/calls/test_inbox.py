"""A socket's event loop (calls.inbox): both sources' events, one at a time, in the
order they arrive; the way out cancels the sources."""

import asyncio

import pytest
from channels.exceptions import StopConsumer

from calls.inbox import dispatch_in_order


async def test_events_of_both_sources_are_handled_one_at_a_time_in_arrival_order():
    client, layer = asyncio.Queue(), asyncio.Queue()
    handled, busy = [], []

    async def dispatch(event):
        busy.append(event)
        assert len(busy) == 1, "two events handled at once"
        await asyncio.sleep(0.001)  # a handler that awaits lets the others arrive
        handled.append(event)
        busy.remove(event)
        if event == "stop":
            raise StopConsumer

    loop = asyncio.create_task(dispatch_in_order([client.get, layer.get], dispatch))
    for event in ("c1", "l1", "c2", "l2", "l3", "stop"):
        (client if event[0] == "c" else layer).put_nowait(event)
        await asyncio.sleep(0)  # it arrives; its source's pump takes it
    with pytest.raises(StopConsumer):
        await asyncio.wait_for(loop, 2)
    assert handled == ["c1", "l1", "c2", "l2", "l3", "stop"]


async def test_a_failing_source_ends_the_loop_with_its_error_and_cancels_the_other():
    other_cancelled = asyncio.Event()

    async def broken():
        raise ConnectionError("layer gone")

    async def other():
        try:
            await asyncio.sleep(60)
        finally:
            other_cancelled.set()

    async def dispatch(event):
        raise AssertionError(f"nothing to dispatch, got {event}")

    with pytest.raises(ConnectionError, match="layer gone"):
        await asyncio.wait_for(dispatch_in_order([broken, other], dispatch), 2)
    assert other_cancelled.is_set()


async def test_cancelling_the_loop_cancels_its_sources():
    waiting = asyncio.Event()
    cancelled = asyncio.Event()

    async def source():
        waiting.set()
        try:
            await asyncio.sleep(60)
        finally:
            cancelled.set()

    async def dispatch(event):
        pass

    loop = asyncio.create_task(dispatch_in_order([source], dispatch))
    await asyncio.wait_for(waiting.wait(), 2)
    loop.cancel()
    with pytest.raises(asyncio.CancelledError):
        await loop
    assert cancelled.is_set()
