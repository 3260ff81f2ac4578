"""Server API results on the wire, for the (synchronous) API views: pushes to
devices, and call and room control through the socket's own delivery paths."""

from asgiref.sync import async_to_sync

from appserver.services import PushPlan
from calls.delivery import deliver, send_to_device
from rooms.delivery import room_announce_kicked, room_announce_muted


async def _push(plan: PushPlan) -> None:
    for devices in plan.devices.values():
        for device in devices:
            await send_to_device(device, plan.frame)


push_deliver = async_to_sync(_push)
call_outcome_deliver = async_to_sync(deliver)
room_kicked_deliver = async_to_sync(room_announce_kicked)
room_muted_deliver = async_to_sync(room_announce_muted)
