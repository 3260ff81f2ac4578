"""The socket at `/ws/`: one per browser tab or bot (a *device*).

Thin by design: it authenticates, parses frames through calls.protocol, calls services
and sends what they return. Channel-layer events are dispatched by `type`
("presence.changed" → `presence_changed`).
"""

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from functools import partial

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings

from accounts import services as accounts
from accounts.models import User
from accounts.usersig import InvalidUserSig, socket_user, usersig_verify
from calls import protocol, services
from calls.delivery import deliver, device_group, send_to_device
from calls.ice import ice_servers_for, ice_servers_ttl
from calls.inbox import dispatch_in_order
from calls.presence_hub import presence_hub
from calls.throttle import FrameThrottle, Verdict
from config.db_threads import db_async
from rooms import services as rooms
from rooms.delivery import rooms_announce_disconnected
from rooms.handlers import RoomHandlers

log = logging.getLogger(__name__)


ANSWERED = object()  # a handler that already sent its ok / error


class Refused(Exception):
    """The socket has no acceptable credential: it is closed with 4401."""


Handler = Callable[
    [protocol.ClientFrame], Awaitable[protocol.ServerFrame | dict | None]
]


class SocketConsumer(RoomHandlers, AsyncWebsocketConsumer):
    user: User | None = None
    device_id: str | None = None
    device_stored = False
    ANSWERED = ANSWERED

    async def __call__(self, scope, receive, send):
        """Called by the server for each socket: channels' AsyncConsumer.__call__ with
        calls.inbox's event loop in place of channels' await_many_dispatch."""
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self.channel_name = await self.channel_layer.new_channel()
        self.channel_receive = partial(self.channel_layer.receive, self.channel_name)
        self.base_send = send
        with contextlib.suppress(StopConsumer):
            await dispatch_in_order([receive, self.channel_receive], self.dispatch)

    async def dispatch(self, message):
        """Called for every event of this socket. Channels' own first closes stale
        database connections, a hop to a worker thread for every frame and every
        presence or relay event; this consumer touches the database only through
        db_async, which does that in its own thread already."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self):
        """Called when the handshake arrives (cross-origin ones never get here)."""
        self.tasks: list[asyncio.Task] = []
        self.throttle = FrameThrottle(
            rate=settings.SOCKET_RATE,
            burst=settings.SOCKET_BURST,
            strikes=settings.SOCKET_RATE_STRIKES,
        )
        # The calls this socket is in: call id → the peer's device (from the
        # server's own `call.started` / `call.ended`), for relaying without a query.
        self.calls: dict[str, str] = {}
        self.handlers: dict[str, Handler] = {
            "auth": self.on_auth,
            "ping": self.on_ping,
            "call.invite": self.on_call_invite,
            "call.accept": self.on_call_act("accept"),
            "call.reject": self.on_call_act("reject"),
            "call.cancel": self.on_call_act("cancel"),
            "call.hangup": self.on_call_act("hangup"),
            "call.signal": self.on_call_signal,
            "call.media": self.on_call_media,
            **self.room_handlers(),
        }
        await self.accept()
        try:
            user = await db_async(socket_user)(self.scope)
        except InvalidUserSig:
            await self.refuse()
            return
        if user is not None:
            await self.start_session(user)
        else:
            self.tasks.append(asyncio.create_task(self.auth_deadline()))

    async def disconnect(self, code):
        """Called when the socket closes, for whatever reason."""
        for task in self.tasks:
            task.cancel()
        if self.device_id is not None:
            await presence_hub().leave(self)
            await self.channel_layer.group_discard(
                device_group(self.device_id), self.channel_name
            )
            await self.forget_rooms()
            # Rooms and calls first, the device row last: a heartbeat elsewhere that
            # sees the row gone would otherwise announce the departure a second time.
            await rooms_announce_disconnected(
                await db_async(rooms.rooms_leave_device)(device_id=self.device_id)
            )
            await deliver(
                await db_async(services.calls_device_gone)(
                    user=self.user, device_id=self.device_id
                )
            )
            if await db_async(accounts.device_offline)(
                user=self.user, device_id=self.device_id
            ):
                await accounts.presence_announce(user=self.user)

    async def receive(self, text_data=None, bytes_data=None):
        """Called for each frame the client sends."""
        raw = text_data if text_data is not None else bytes_data
        verdict = self.throttle.check(time.monotonic())
        if verdict is not Verdict.ALLOW:
            await self.send_error(
                protocol.ProtocolError(
                    "rate_limited",
                    "Too many frames; slow down.",
                    req=protocol.peek_req(raw),
                )
            )
            if verdict is Verdict.CLOSE:
                await self.close(code=protocol.CLOSE_CODES["rate_limited"])
            return
        req = None
        try:
            frame = protocol.parse_client_frame(raw)
            req = frame.req
            if self.user is None and frame.TYPE != "auth":
                raise Refused
            reply = await self.handlers[frame.TYPE](frame)
        except Refused:
            await self.refuse()
            return
        except protocol.ProtocolError as error:
            await self.send_error(error)
            if self.user is None:
                await self.refuse()
            return
        except Exception:
            log.exception("frame handler failed")
            await self.send_error(
                protocol.ProtocolError("internal", "Server error.", req=req)
            )
            return
        if reply is ANSWERED:
            return
        if isinstance(reply, protocol.ServerFrame):
            await self.send_frame(reply)
        elif req is not None:
            await self.send_frame(protocol.ok_frame(req, **(reply or {})))

    # --- frames -------------------------------------------------------------------

    async def on_auth(self, frame: protocol.Auth) -> None:
        if self.user is not None:
            raise protocol.ProtocolError(
                "already_authenticated",
                "This socket is already signed in.",
                req=frame.req,
            )
        try:
            user = await db_async(usersig_verify)(frame.user_sig)
        except InvalidUserSig:
            raise Refused from None
        await self.start_session(user)

    async def on_ping(self, frame: protocol.Ping) -> protocol.Pong:
        return protocol.Pong(req=frame.req)

    async def on_call_invite(self, frame: protocol.CallInvite):
        outcome = await db_async(services.call_invite)(
            caller=self.user,
            caller_device=self.device_id,
            callee_username=frame.callee,
            media=frame.media,
            flags=frame.flags,
            user_data=frame.user_data,
        )
        return await self.conclude(frame, outcome, call_id=outcome.call_id)

    def on_call_act(self, action: str) -> Handler:
        async def on_act(frame):
            outcome = await db_async(services.call_act)(
                action=action,
                call_id=frame.call_id,
                user=self.user,
                device_id=self.device_id,
            )
            return await self.conclude(frame, outcome)

        return on_act

    async def on_call_signal(self, frame: protocol.CallSignal) -> None:
        await self.relay(
            frame,
            protocol.CallSignalRelay,
            description=frame.description,
            candidate=frame.candidate,
        )

    async def on_call_media(self, frame: protocol.CallMedia) -> None:
        await self.relay(
            frame, protocol.CallMediaRelay, audio=frame.audio, video=frame.video
        )

    async def relay(self, frame, relayed: type[protocol.ServerFrame], **fields) -> None:
        """Pass a frame on to the peer device of the call, marked with its sender."""
        peer = self.peer_device(frame)
        await send_to_device(
            peer, relayed(call_id=frame.call_id, from_=self.user.handle, **fields)
        )

    def peer_device(self, frame) -> str:
        """The other device of a call this socket is in; relaying goes nowhere else."""
        peer = self.calls.get(frame.call_id)
        if peer is None:
            raise protocol.ProtocolError(
                "not_in_call", "This device is not in that call.", req=frame.req
            )
        return peer

    async def conclude(self, frame, outcome: services.Outcome, **result):
        """Answer a call frame (ok or its error) first, then deliver what it caused."""
        if outcome.error is not None:
            await self.send_error(
                protocol.ProtocolError(
                    outcome.error.slug, outcome.error.message, req=frame.req
                )
            )
        else:
            await self.answer(frame, **result)
        await deliver(outcome)
        return ANSWERED

    async def answer(self, frame, **result) -> None:
        """The `ok` for a frame that carried `req`."""
        if frame.req is not None:
            await self.send_frame(protocol.ok_frame(frame.req, **result))

    # --- channel-layer events -----------------------------------------------------

    async def frame_deliver(self, event):
        """Called when a frame for this device arrives, from whichever process."""
        if event["joins"]:
            call_id, peer_device = event["joins"]
            self.calls[call_id] = peer_device
        if event["leaves"]:
            self.calls.pop(event["leaves"], None)
        await self.send(text_data=event["text"])

    async def presence_changed(self, event):
        """Called by the process's presence hub when a user goes online or offline
        (other people of the same namespace only)."""
        if event["namespace"] != self.user.application_id:
            return
        if event["user"]["id"] == self.user.pk:
            return
        await self.send(text_data=event["text"])

    # --- session ----------------------------------------------------------------

    async def start_session(self, user: User) -> None:
        for task in self.tasks:
            task.cancel()
        self.tasks = []
        self.user = user
        self.device_id = uuid.uuid4().hex
        await presence_hub().join(self)
        await self.channel_layer.group_add(
            device_group(self.device_id), self.channel_name
        )
        came_online = await db_async(accounts.device_online)(
            user=user, device_id=self.device_id, channel_name=self.channel_name
        )
        self.device_stored = True  # the process's heartbeat keeps the row fresh
        await self.send_frame(
            protocol.Hello(
                user=protocol.UserInfo.of(user),
                device_id=self.device_id,
                protocol=protocol.PROTOCOL_VERSION,
                ice_servers=ice_servers_for(username=user.username),
                ice_servers_ttl=ice_servers_ttl(),
            )
        )
        if came_online:  # another tab of theirs was already announced
            await accounts.presence_announce(user=user)
        await deliver(
            await db_async(services.calls_device_back)(
                user=user, device_id=self.device_id
            )
        )

    async def revive(self) -> None:
        """Called by the process's heartbeat (calls.heartbeat) when this socket's
        device row is gone although the socket lives: a sweep took it while this
        process was too busy to beat. Others saw us go offline, and our call was
        given its grace: the row is written again, and the call taken back."""
        if await db_async(accounts.device_keepalive)(
            user=self.user, device_id=self.device_id, channel_name=self.channel_name
        ):
            await accounts.presence_announce(user=self.user)
            await deliver(
                await db_async(services.calls_device_back)(
                    user=self.user, device_id=self.device_id
                )
            )

    async def auth_deadline(self) -> None:
        await asyncio.sleep(settings.SOCKET_AUTH_TIMEOUT)
        if self.user is None:
            await self.refuse()

    async def refuse(self) -> None:
        await self.close(code=protocol.CLOSE_CODES["unauthorized"])

    async def send_frame(self, frame: protocol.ServerFrame) -> None:
        await self.send(text_data=protocol.encode(frame))

    async def send_error(self, error: protocol.ProtocolError) -> None:
        await self.send_frame(protocol.error_frame(error))
