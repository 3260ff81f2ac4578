"""The bot's behaviour on the socket: server frames in, requests and peer connections
out. It answers or places 1:1 calls, or joins a room and meshes with every member,
speaking the protocol of `calls.protocol` (the one definition of the frames).

`run_bot` owns the connection: it reconnects with jittered exponential backoff, stops
for good on 4401 (a refused token), and ends the call or leaves the room on Ctrl-C.
"""

import asyncio
import contextlib
import json
import logging
import random
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from calls import protocol
from calls.bot.media import MediaSource
from calls.bot.peer import KINDS, PeerLink, Signal
from calls.bot.transport import Transport, TransportClosed, TransportError

log = logging.getLogger(__name__)

BACKOFF_BASE, BACKOFF_MAX = 0.5, 30.0


class BotError(Exception):
    """The bot cannot go on; the message is for the person who started it."""


class Refused(Exception):
    """The server answered a request with an `error` frame."""

    def __init__(self, frame: protocol.Error):
        super().__init__(frame.message)
        self.slug = frame.error
        self.message = frame.message


@dataclass
class BotOptions:
    username: str
    media: MediaSource
    answer: bool = False
    answer_from: frozenset[str] = frozenset()  # empty: anyone
    call: str | None = None
    call_media: str = "video"
    room: str | None = None
    room_password: str = ""
    duration: float | None = None  # hang up / leave after this many seconds
    once: bool = False  # --answer: stop after the first call ends
    record_to: Path | None = None
    stats_interval: float = 5.0


@dataclass
class Outcome:
    """How the bot ended: `error` is None for success."""

    error: str | None = None
    stats: dict[str, dict[str, Any]] = field(default_factory=dict)


def allowed_media(role: str, media: str, flags: int) -> set[str]:
    """What this side may send in a call, from its media and AnyChat's forbid flags
    (the rule static/js/call.js applies in the browser)."""
    forbid = protocol.FLAGS
    kinds = set()
    if not flags & forbid[f"forbid_{role}_audio"]:
        kinds.add("audio")
    if media == "video" and not flags & forbid[f"forbid_{role}_video"]:
        kinds.add("video")
    return kinds


def backoff_delay(attempt: int, rand: Callable[[], float] = random.random) -> float:
    """Full jitter, as static/js/signaling.js: a delay in [0, min(max, base·2^n))."""
    return rand() * min(BACKOFF_MAX, BACKOFF_BASE * 2**attempt)


class BotSession:
    """One bot user's behaviour across reconnections of its socket."""

    def __init__(self, options: BotOptions):
        self.options = options
        self.transport: Transport | None = None
        self.hello: protocol.Hello | None = None
        self.next_req = 0
        # req → (its answer, what to run as the ok is read)
        self.pending: dict[str, tuple[asyncio.Future, Callable | None]] = {}
        self.done: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self.stats: dict[str, dict[str, Any]] = {}
        self.tasks: set[asyncio.Task] = set()
        # The current call, if any.
        self.call_id: str | None = None
        self.call_started = False
        self.call_link: PeerLink | None = None
        self.hangup_timer: asyncio.TimerHandle | None = None
        # The room, if in one: member id → connection.
        self.member_id: str | None = None
        self.members: dict[str, PeerLink] = {}
        self.member_names: dict[str, str] = {}
        self.handlers: dict[str, Callable[[Any], Any]] = {
            "hello": self.on_hello,
            "ok": self.on_answer,
            "error": self.on_answer,
            "call.incoming": self.on_call_incoming,
            "call.ringing": self.on_call_ringing,
            "call.started": self.on_call_started,
            "call.ended": self.on_call_ended,
            "call.answered_elsewhere": self.on_call_ended,
            "call.signal": self.on_call_signal,
            "room.joined": self.on_room_joined,
            "room.member_joined": self.on_room_member_joined,
            "room.member_left": self.on_room_member_left,
            "room.signal": self.on_room_signal,
            "room.kicked": self.on_room_gone,
            "room.closed": self.on_room_gone,
        }

    # --- the socket ------------------------------------------------------------------

    async def serve(self, transport: Transport) -> None:
        """Handle one connection's frames until it closes (TransportClosed) or the bot
        is done."""
        self.transport = transport
        try:
            # Read on while shutting down too: the answer to a last hang-up comes here.
            while True:
                text = await transport.receive()
                try:
                    frame = protocol.parse_server_frame(text)
                except protocol.ProtocolError as exc:
                    log.warning("ignoring a frame the bot cannot read: %s", exc)
                    continue
                handler = self.handlers.get(frame.TYPE) if frame else None
                if handler is None:
                    continue
                try:
                    await handler(frame)
                except TransportClosed:
                    raise
                except Exception:
                    # One frame the bot mishandles must not end a call that works.
                    log.exception("handling %s failed", frame.TYPE)
        finally:
            self.transport = None
            for future, _ in self.pending.values():
                if not future.done():
                    future.set_exception(TransportClosed(1006, "disconnected"))
            self.pending.clear()

    async def send(self, frame: protocol.ClientFrame) -> None:
        if self.transport is None:
            return  # offline: the server will tell us where things stand after hello
        with contextlib.suppress(TransportClosed):
            await self.transport.send(protocol.encode(frame))

    async def request(
        self,
        model: type[protocol.ClientFrame],
        *,
        on_ok: Callable[[dict], None] | None = None,
        **fields: Any,
    ) -> dict:
        """Send a frame with a `req` and wait for its `ok` (fields) or raise Refused.

        `on_ok(fields)` runs as the `ok` is read, before the frame after it: the
        `call.ended` of a call to someone offline follows its `ok` at once, and the
        requester, a task, would see its answer only a few turns of the loop later.
        """
        self.next_req += 1
        req = f"bot-{self.next_req}"
        future = asyncio.get_running_loop().create_future()
        self.pending[req] = (future, on_ok)
        await self.send(model.model_validate({**fields, "req": req}))
        return await asyncio.wait_for(future, 15)

    async def on_answer(self, frame: protocol.Ok | protocol.Error) -> None:
        future, on_ok = self.pending.pop(frame.req or "", (None, None))
        if future is None or future.done():
            if isinstance(frame, protocol.Error):
                log.warning("server error: %s (%s)", frame.message, frame.error)
            return
        if isinstance(frame, protocol.Error):
            future.set_exception(Refused(frame))
            return
        fields = frame.model_extra or {}
        if on_ok is not None:
            on_ok(fields)
        future.set_result(fields)

    def spawn(self, coro) -> None:
        """Run a step that waits for the server's answer without blocking the reader."""
        task = asyncio.create_task(self._guarded(coro))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _guarded(self, coro) -> None:
        try:
            await coro
        except TransportClosed:
            pass  # the reconnection takes it from here
        except Exception as exc:
            log.exception("bot step failed")
            self.finish(f"{exc}")

    # --- frames ----------------------------------------------------------------------

    async def on_hello(self, frame: protocol.Hello) -> None:
        first = self.hello is None
        self.hello = frame
        log.info("signed in as %s (device %s)", frame.user.username, frame.device_id)
        if frame.user.username != self.options.username:
            self.finish(
                f"the token is for {frame.user.username!r}, "
                f"not {self.options.username!r}"
            )
        elif self.options.room:
            self.spawn(self.join_room())  # again after a reconnection: a new member
        elif self.options.call and first:
            self.spawn(self.place_call())
        elif self.options.answer and first:
            who = ", ".join(sorted(self.options.answer_from)) or "anyone"
            log.info("waiting for calls from %s", who)

    async def place_call(self) -> None:
        callee = self.options.call

        def calling(ok: dict) -> None:
            self.call_id = ok["call_id"]
            log.info("calling %s (call %s)", callee, self.call_id)

        try:
            await self.request(
                protocol.CallInvite,
                callee=callee,
                media=self.options.call_media,
                on_ok=calling,
            )
        except Refused as exc:
            self.finish(f"cannot call {callee!r}: {exc.message}")

    async def on_call_ringing(self, frame: protocol.CallRinging) -> None:
        log.info("ringing %s", frame.callee.username)

    async def on_call_incoming(self, frame: protocol.CallIncoming) -> None:
        caller = frame.caller.username
        allowed = self.options.answer_from
        if not self.options.answer or (allowed and caller not in allowed):
            log.info("rejecting a call from %s", caller)
            await self.send(protocol.CallReject(call_id=frame.call_id))
            return
        if self.call_id is not None:
            return  # one call at a time; the server says busy to everyone else
        log.info("answering %s (call %s)", caller, frame.call_id)
        self.call_id = frame.call_id
        self.spawn(self.accept_call(frame.call_id))

    async def accept_call(self, call_id: str) -> None:
        try:
            await self.request(protocol.CallAccept, call_id=call_id)
        except Refused as exc:
            # Cancelled or answered elsewhere meanwhile: wait for the next call.
            log.info("could not answer call %s: %s", call_id, exc.message)
            if self.call_id == call_id and not self.call_started:
                self.call_id = None

    async def on_call_started(self, frame: protocol.CallStarted) -> None:
        """The call is answered, or a reconnection resumes it: a new connection."""
        if self.call_id not in (None, frame.call_id):
            return
        self.call_id = frame.call_id
        self.call_started = True
        role = "callee" if frame.polite else "caller"
        if self.call_link is not None:
            await self.retire(self.call_link)
        call_id = frame.call_id

        async def send(signal: Signal) -> None:
            await self.send(
                protocol.CallSignal.model_validate({"call_id": call_id, **signal})
            )

        self.call_link = self.link(
            label=f"call-{frame.peer.username}-{call_id[:8]}",
            polite=frame.polite,
            send=send,
            kinds=allowed_media(role, frame.media, frame.flags),
        )
        log.info("in a call with %s (%s)", frame.peer.username, frame.media)
        if self.options.duration is not None and self.hangup_timer is None:
            self.hangup_timer = asyncio.get_running_loop().call_later(
                self.options.duration, lambda: self.spawn(self.hang_up())
            )

    async def on_call_signal(self, frame: protocol.CallSignalRelay) -> None:
        if self.call_link is not None and frame.call_id == self.call_id:
            self.call_link.receive(signal_of(frame))

    async def on_call_ended(
        self, frame: protocol.CallEnded | protocol.CallAnsweredElsewhere
    ) -> None:
        if frame.call_id != self.call_id:
            return
        reason = getattr(frame, "reason", "answered_elsewhere")
        log.info("call %s ended: %s", frame.call_id, reason)
        started, link = self.call_started, self.call_link
        self.call_id, self.call_started, self.call_link = None, False, None
        if self.hangup_timer is not None:
            self.hangup_timer.cancel()
            self.hangup_timer = None
        received = 0
        if link is not None:
            await self.retire(link)
            received = sum(link.stats.frames_in.values())
        if self.options.call:
            if not started:
                self.finish(f"the call ended without an answer: {reason}")
            elif received == 0:
                self.finish("the call connected but no media arrived")
            else:
                self.finish()
        elif self.options.once and started:
            self.finish(None if received else "the call connected but no media arrived")

    async def hang_up(self) -> None:
        if self.call_id is not None:
            action = protocol.CallHangup if self.call_started else protocol.CallCancel
            with contextlib.suppress(Refused, TimeoutError):
                await self.request(action, call_id=self.call_id)
        elif self.member_id is not None:
            with contextlib.suppress(Refused, TimeoutError):
                await self.request(protocol.RoomLeave, room_id=self.options.room)
            await self.leave_links()
            self.finish()

    async def join_room(self) -> None:
        try:
            await self.request(
                protocol.RoomJoin,
                room_id=self.options.room,
                password=self.options.room_password,
            )
        except Refused as exc:
            self.finish(f"cannot join room {self.options.room!r}: {exc.message}")

    async def on_room_joined(self, frame: protocol.RoomJoined) -> None:
        if frame.room_id != self.options.room:
            return
        await self.leave_links()  # a new socket: every connection starts over
        self.member_id = frame.member_id
        log.info("in room %s with %d others", frame.room_id, len(frame.members) - 1)
        # Who joins later offers (static/js/room.js): here, that is this bot.
        for member in frame.members:
            if member.member_id != self.member_id:
                self.member_link(member.member_id, member.user.username, polite=False)
        if self.options.duration is not None and self.hangup_timer is None:
            self.hangup_timer = asyncio.get_running_loop().call_later(
                self.options.duration, lambda: self.spawn(self.hang_up())
            )

    async def on_room_member_joined(self, frame: protocol.RoomMemberJoined) -> None:
        if frame.room_id == self.options.room and self.member_id is not None:
            member = frame.member
            self.member_names[member.member_id] = member.user.username
            self.member_link(member.member_id, member.user.username, polite=True)

    async def on_room_member_left(self, frame: protocol.RoomMemberLeft) -> None:
        link = self.members.pop(frame.member_id, None)
        if link is not None:
            log.info("%s left (%s)", link.label, frame.reason)
            await self.retire(link)

    async def on_room_signal(self, frame: protocol.RoomSignalRelay) -> None:
        if frame.room_id != self.options.room or self.member_id is None:
            return
        link = self.members.get(frame.from_) or self.member_link(
            frame.from_, self.member_names.get(frame.from_, "member"), polite=True
        )
        link.receive(signal_of(frame))

    async def on_room_gone(self, frame: protocol.RoomKicked | protocol.RoomClosed):
        if frame.room_id != self.options.room:
            return
        log.info("room %s: %s", frame.room_id, frame.TYPE.removeprefix("room."))
        self.member_id = None
        await self.leave_links()
        self.finish()

    # --- connections -----------------------------------------------------------------

    def link(self, *, label: str, polite: bool, send, kinds: set[str]) -> PeerLink:
        assert self.hello is not None
        link = PeerLink(
            label=label,
            polite=polite,
            ice_servers=self.hello.ice_servers,
            send=send,
            source=self.options.media,
            send_kinds=kinds,
            record_to=self.options.record_to,
        )
        link.start()
        return link

    def member_link(self, member_id: str, username: str, *, polite: bool) -> PeerLink:
        room_id = self.options.room

        async def send(signal: Signal) -> None:
            await self.send(
                protocol.RoomSignal.model_validate(
                    {"room_id": room_id, "to": member_id, **signal}
                )
            )

        link = self.link(
            label=f"room-{room_id}-{username}-{member_id[:8]}",
            polite=polite,
            send=send,
            kinds=set(KINDS),
        )
        self.members[member_id] = link
        return link

    async def retire(self, link: PeerLink) -> None:
        """Close a connection and log what went through it, for the last time."""
        await link.sample()
        await link.close()
        self.report(link, final=True)

    async def leave_links(self) -> None:
        links = list(self.members.values())
        self.members.clear()
        for link in links:
            await self.retire(link)

    def report(self, link: PeerLink, *, final: bool = False) -> None:
        summary = link.stats.summary()
        self.stats[link.label] = summary
        what = "final stats" if final else "stats"
        log.info("%s %s %s", what, link.label, json.dumps(summary))

    async def report_periodically(self) -> None:
        while True:
            await asyncio.sleep(self.options.stats_interval)
            for link in [self.call_link, *self.members.values()]:
                if link is not None and not link.closed:
                    await link.sample()
                    self.report(link)

    # --- the end ---------------------------------------------------------------------

    def finish(self, error: str | None = None) -> None:
        if not self.done.done():
            self.done.set_result(Outcome(error=error, stats=self.stats))

    async def shut_down(self) -> None:
        """Ctrl-C or the end: end the call or leave the room, then close everything."""
        if self.transport is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.hang_up(), 5)
        if self.call_link is not None:
            await self.retire(self.call_link)
            self.call_link = None
        await self.leave_links()
        for task in list(self.tasks):
            task.cancel()


def signal_of(frame: protocol.SignalRelay) -> Signal:
    if frame.description is not None:
        return {"description": frame.description.model_dump()}
    return {"candidate": frame.candidate.model_dump() if frame.candidate else {}}


async def run_bot(
    options: BotOptions,
    connect: Callable[[], Transport],
    *,
    stop_on_signals: bool = True,
) -> Outcome:
    """Run the bot until its call or room ends, Ctrl-C, or a fatal error (BotError).

    `connect` makes a new, unconnected transport for each (re)connection.
    """
    session = BotSession(options)
    loop = asyncio.get_running_loop()
    if stop_on_signals:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, session.finish)
    reporter = asyncio.create_task(session.report_periodically())
    attempt, ever_connected = 0, False
    try:
        while not session.done.done():
            transport = connect()
            try:
                await transport.connect()
            except TransportError as exc:
                if not ever_connected:
                    raise BotError(str(exc)) from None
                log.warning("reconnecting: %s", exc)
            else:
                serving = asyncio.create_task(session.serve(transport))
                await asyncio.wait(
                    {serving, session.done}, return_when=asyncio.FIRST_COMPLETED
                )
                if session.done.done():
                    await session.shut_down()
                    serving.cancel()
                    with contextlib.suppress(asyncio.CancelledError, TransportClosed):
                        await serving
                    await transport.close()
                    break
                try:
                    serving.result()
                except TransportClosed as closed:
                    if closed.code == protocol.CLOSE_CODES["unauthorized"]:
                        raise BotError(
                            "the server refused the bot's token (4401): it is "
                            "malformed, expired, signed with another SECRET_KEY, or "
                            "its user is inactive"
                        ) from None
                    log.warning("connection lost (%s)", closed)
                if session.hello is not None:
                    ever_connected, attempt = True, 0
            delay = backoff_delay(attempt)
            attempt += 1
            log.info("reconnecting in %.1f s", delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(session.done), delay)
    finally:
        reporter.cancel()
        await session.shut_down()
        if stop_on_signals:
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(signum)
    return session.done.result()
