"""One aiortc RTCPeerConnection to one remote device, negotiated the way
`static/js/peer.js` does, plus what the bot does with the media it receives.

Roles (as in peer.js): the impolite side makes the first offer; the polite side adds
its tracks when that offer arrives. aiortc does not trickle: the SDP it sends carries
all of its candidates. It accepts the browser's trickled ones, queued until a remote
description exists. Signals are handled strictly in order by one task per connection.
The bot never makes an offer as the polite side, so it never needs a rollback (which
aiortc lacks); as the impolite side it ignores a colliding offer, as peer.js does.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aioice.ice
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError
from aiortc.sdp import candidate_from_sdp
from av import VideoFrame

from calls import protocol
from calls.bot.media import CountedTrack, EchoTrack, MediaSource, Recorder, read_marker

log = logging.getLogger(__name__)

Signal = dict[str, Any]  # {"description": {...}} or {"candidate": {...}}
SendSignal = Callable[[Signal], Awaitable[None]]
KINDS = ("audio", "video")


@dataclass
class LinkStats:
    """What went through one connection. Frames are counted by the bot itself."""

    frames_in: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    frames_out: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    pattern_frames_in: int = 0  # received video frames that carry the pattern marker
    last_counter: int | None = None  # the marker's frame counter, last read
    bytes_in: int = 0
    bytes_out: int = 0
    rtt_ms: float | None = None
    kbps_in: float = 0.0
    kbps_out: float = 0.0
    state: str = "new"

    def summary(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "video_frames_in": self.frames_in["video"],
            "video_frames_out": self.frames_out["video"],
            "audio_frames_in": self.frames_in["audio"],
            "audio_frames_out": self.frames_out["audio"],
            "pattern_frames_in": self.pattern_frames_in,
            "last_counter": self.last_counter,
            "kbps_in": round(self.kbps_in, 1),
            "kbps_out": round(self.kbps_out, 1),
            "rtt_ms": None if self.rtt_ms is None else round(self.rtt_ms, 1),
        }


def rtc_configuration(ice_servers: list[protocol.IceServer]) -> RTCConfiguration:
    """The server's ICE servers from `hello`, and never aiortc's default public STUN
    server (an empty list means host candidates only)."""
    return RTCConfiguration(
        iceServers=[
            RTCIceServer(urls=s.urls, username=s.username, credential=s.credential)
            for s in ice_servers
        ]
    )


def allow_loopback_ice() -> None:
    """Test/dev only (`--loopback-ice`, `CALLBOT_LOOPBACK_ICE`): make aioice gather a
    127.0.0.1 host candidate too, for a network namespace that has only `lo`.

    aioice skips loopback addresses when it lists the host's addresses, and offers no
    option to keep them, so its module-level lister is wrapped (once, in this process
    only); the candidate still goes through ICE like any other.
    """
    original = aioice.ice.get_host_addresses
    if getattr(original, "keeps_loopback", False):
        return

    def with_loopback(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        addresses = original(use_ipv4, use_ipv6)
        if use_ipv4 and "127.0.0.1" not in addresses:
            addresses.append("127.0.0.1")
        return addresses

    with_loopback.keeps_loopback = True  # type: ignore[attr-defined]
    aioice.ice.get_host_addresses = with_loopback


class PeerLink:
    """The media connection to one remote device: a call's peer or a room member."""

    def __init__(
        self,
        *,
        label: str,
        polite: bool,
        ice_servers: list[protocol.IceServer],
        send: SendSignal,
        source: MediaSource,
        send_kinds: set[str],
        record_to: Path | None = None,
    ):
        self.label = label
        self.polite = polite
        self.send = send
        self.source = source
        self.send_kinds = send_kinds
        self.record_to = record_to
        self.recorder: Recorder | None = None
        self.stats = LinkStats()
        self.pc = RTCPeerConnection(rtc_configuration(ice_servers))
        self.signals: asyncio.Queue[Signal | None] = asyncio.Queue()
        self.pending_candidates: list[dict] = []
        self.ignore_offer = False
        self.attached = False
        self.local: dict[str, CountedTrack] = {}
        self.remote: list[MediaStreamTrack] = []
        self.echoes: dict[str, EchoTrack] = {}
        self.tasks: list[asyncio.Task] = []
        self.closed = False
        self.sampled = (time.monotonic(), 0, 0)  # for bitrates: (when, in, out)
        self.pc.on("track", self._on_track)
        self.pc.on("connectionstatechange", self._on_state)

    # --- driven by the session -------------------------------------------------------

    def start(self) -> None:
        """Begin: the impolite side offers; the polite side waits for that offer."""
        self.tasks.append(asyncio.create_task(self._run(), name=f"link {self.label}"))
        if not self.polite:
            self.signals.put_nowait({"offer": True})

    def receive(self, signal: Signal) -> None:
        """A `call.signal` / `room.signal` from the peer (handled in order)."""
        self.signals.put_nowait(signal)

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.signals.put_nowait(None)
        for track in self.local.values():
            track.stop()
        await self.pc.close()
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.recorder is not None:
            self.recorder.close()
            log.info("%s: recorded %s", self.label, self.recorder.path)

    async def sample(self) -> LinkStats:
        """Refresh the counters from aiortc's getStats() (bytes, RTT) and our tracks."""
        stats = self.stats
        for kind, track in self.local.items():
            stats.frames_out[kind] = track.count
        if self.closed:
            return stats
        report = await self.pc.getStats()
        bytes_in = bytes_out = 0
        rtts = []
        for entry in report.values():
            # aiortc's RTP stream stats count packets only; the transport counts bytes.
            if entry.type == "transport":
                bytes_in += entry.bytesReceived
                bytes_out += entry.bytesSent
            elif entry.type == "remote-inbound-rtp" and entry.roundTripTime:
                rtts.append(entry.roundTripTime)
        now = time.monotonic()
        then, before_in, before_out = self.sampled
        if now > then:
            stats.kbps_in = (bytes_in - before_in) * 8 / 1000 / (now - then)
            stats.kbps_out = (bytes_out - before_out) * 8 / 1000 / (now - then)
        self.sampled = (now, bytes_in, bytes_out)
        stats.bytes_in, stats.bytes_out = bytes_in, bytes_out
        if rtts:
            stats.rtt_ms = max(rtts) * 1000
        return stats

    # --- negotiation -----------------------------------------------------------------

    async def _run(self) -> None:
        while (signal := await self.signals.get()) is not None:
            try:
                await self._handle(signal)
            except Exception as exc:
                # A bad signal from the peer must not end the bot; say what it was.
                log.warning("%s: negotiation failed: %r", self.label, exc)

    async def _handle(self, signal: Signal) -> None:
        pc = self.pc
        if signal.get("offer"):
            self._attach_local()
            await pc.setLocalDescription(await pc.createOffer())
            await self._send_description()
        elif (description := signal.get("description")) is not None:
            kind = description["type"]
            collision = kind == "offer" and pc.signalingState != "stable"
            self.ignore_offer = not self.polite and collision
            if self.ignore_offer:
                return
            await pc.setRemoteDescription(
                RTCSessionDescription(sdp=description["sdp"], type=kind)
            )
            if kind == "offer":
                self._attach_local()
            for candidate in self.pending_candidates:
                await self._add_candidate(candidate)
            self.pending_candidates.clear()
            if kind == "offer":
                await pc.setLocalDescription(await pc.createAnswer())
                await self._send_description()
            self._start_recording()
        elif (candidate := signal.get("candidate")) is not None:
            if pc.remoteDescription is None:
                self.pending_candidates.append(candidate)
            else:
                await self._add_candidate(candidate)

    def _attach_local(self) -> None:
        """Add this side's tracks once; the offering side also asks to receive both
        kinds, so that it receives a kind it does not send (as peer.js does)."""
        if self.attached:
            return
        self.attached = True
        self.local = self.source.tracks(self.send_kinds)
        for kind, track in self.local.items():
            if isinstance(track.inner, EchoTrack):
                self.echoes[kind] = track.inner
            self.pc.addTrack(track)
        if not self.polite:
            for kind in KINDS:
                if kind not in self.local:
                    self.pc.addTransceiver(kind, direction="recvonly")

    async def _send_description(self) -> None:
        local = self.pc.localDescription
        await self.send({"description": {"type": local.type, "sdp": local.sdp}})

    async def _add_candidate(self, candidate: dict) -> None:
        text = candidate.get("candidate") or ""
        if not text:
            return  # end of candidates: aiortc needs no word of it
        ice = candidate_from_sdp(text.removeprefix("candidate:"))
        ice.sdpMid = candidate.get("sdpMid")
        ice.sdpMLineIndex = candidate.get("sdpMLineIndex")
        try:
            await self.pc.addIceCandidate(ice)
        except Exception:
            if not self.ignore_offer:  # candidates of an ignored offer may fail
                raise

    # --- media in --------------------------------------------------------------------

    def _on_track(self, track: MediaStreamTrack) -> None:
        log.info("%s: receiving %s", self.label, track.kind)
        self.remote.append(track)
        self.tasks.append(asyncio.create_task(self._drain(track)))

    def _start_recording(self) -> None:
        """Open the file once the remote tracks are known (all arrive while the first
        remote description is set): a container's streams are fixed when it starts."""
        if self.record_to is None or self.recorder is not None or not self.remote:
            return
        kinds = {track.kind for track in self.remote}
        stamp = time.strftime("%Y%m%d-%H%M%S")
        self.recorder = Recorder(self.record_to / f"{self.label}-{stamp}.mp4", kinds)

    async def _drain(self, track: MediaStreamTrack) -> None:
        """Consume one remote track: count, check the marker, record, echo."""
        stats = self.stats
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            stats.frames_in[track.kind] += 1
            if isinstance(frame, VideoFrame):
                counter = read_marker(frame)
                if counter is not None:
                    stats.pattern_frames_in += 1
                    stats.last_counter = counter
            if self.recorder is not None:
                self.recorder.write(frame)
            if (echo := self.echoes.get(track.kind)) is not None:
                echo.put(frame)

    def _on_state(self) -> None:
        self.stats.state = self.pc.connectionState
        log.info("%s: connection %s", self.label, self.pc.connectionState)
