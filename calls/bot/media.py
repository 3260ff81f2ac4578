"""What the bot sends and what it does with what it receives: the test pattern (colour
bars with a frame counter, and a tone), echo, a media file, and the recorder.

The pattern's marker is machine-checkable from either end: `PATTERN_BARS` are the
colours of the bars across the top two thirds, and the bottom quarter spells the frame
counter in `COUNTER_BITS` black or white blocks. `read_marker` reads both back from a
decoded frame; the browser tests read the same places from a canvas.
"""

import asyncio
import fractions
import functools
import math
import time
from array import array
from collections.abc import Sequence
from pathlib import Path

import av
from aiortc import MediaStreamTrack
from aiortc.contrib.media import MediaPlayer
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame, VideoFrame

PATTERN_WIDTH, PATTERN_HEIGHT, PATTERN_FPS = 320, 240, 15
# White, yellow, cyan, green, magenta, red, blue, black: the classic bars, all far
# apart in colour so that codec noise cannot turn one into another.
PATTERN_BARS: tuple[tuple[int, int, int], ...] = (
    (235, 235, 235),
    (235, 235, 16),
    (16, 235, 235),
    (16, 235, 16),
    (235, 16, 235),
    (235, 16, 16),
    (16, 16, 235),
    (16, 16, 16),
)
COUNTER_BITS = 16
# Where the marker is, as fractions of the frame's height (any size the peer decodes to).
BARS_ROW = 1 / 3  # the row at which the bars are read
COUNTER_TOP, COUNTER_ROW = 3 / 4, 7 / 8  # the counter's blocks start, and are read at
GAP_GREY = (128, 128, 128)
COLOUR_TOLERANCE = 60  # per channel, after a lossy codec at low bitrate

TONE_HZ, AUDIO_RATE, AUDIO_PTIME = 440, 48000, 0.020
VIDEO_CLOCK = 90000


def rgb_to_yuv(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    """BT.601 limited range, what WebRTC decoders assume for VP8 and H.264."""
    r, g, b = (c / 255 for c in rgb)
    y = 16 + 65.481 * r + 128.553 * g + 24.966 * b
    u = 128 - 37.797 * r - 74.203 * g + 112.0 * b
    v = 128 + 112.0 * r - 93.786 * g - 18.214 * b
    return round(y), round(u), round(v)


def yuv_to_rgb(y: int, u: int, v: int) -> tuple[int, int, int]:
    c, d, e = y - 16, u - 128, v - 128
    r = 1.164 * c + 1.596 * e
    g = 1.164 * c - 0.392 * d - 0.813 * e
    b = 1.164 * c + 2.017 * d
    return tuple(max(0, min(255, round(x))) for x in (r, g, b))  # type: ignore[return-value]


class PatternPainter:
    """Paints the test pattern at one size. Each band's rows are all alike, so the bars
    and the grey gap are painted once; only the counter's rows change per frame."""

    def __init__(self, width: int = PATTERN_WIDTH, height: int = PATTERN_HEIGHT):
        if width % 2 or height % 2:
            raise ValueError("the pattern needs an even width and height")
        self.width, self.height = width, height
        # Band edges on even rows, so that chroma rows (two luma rows each) never
        # straddle two bands.
        bars_end = height * 2 // 3 // 2 * 2
        self.counter_top = int(height * COUNTER_TOP) // 2 * 2
        blank = VideoFrame(width, height, "yuv420p")
        self.layout = [(p.width, p.height, p.line_size) for p in blank.planes]
        self.above: list[bytes] = []
        for index, (plane_width, _, line_size) in enumerate(self.layout):
            scale = 1 if index == 0 else 2  # chroma planes are half size both ways
            bars = self._row(index, plane_width, line_size, self._bar_colour)
            gap = self._row(index, plane_width, line_size, lambda x: GAP_GREY)
            self.above.append(
                bars * (bars_end // scale)
                + gap * ((self.counter_top - bars_end) // scale)
            )

    def frame(self, counter: int) -> VideoFrame:
        """Frame number `counter` of the pattern, as yuv420p."""
        frame = VideoFrame(self.width, self.height, "yuv420p")

        def block(x: int) -> tuple[int, int, int]:
            bit = COUNTER_BITS - 1 - x * COUNTER_BITS // self.width  # MSB first
            return PATTERN_BARS[0] if counter >> bit & 1 else PATTERN_BARS[-1]

        for index, (plane, (plane_width, plane_height, line_size)) in enumerate(
            zip(frame.planes, self.layout, strict=True)
        ):
            scale = 1 if index == 0 else 2
            row = self._row(index, plane_width, line_size, block)
            rows_below = plane_height - self.counter_top // scale
            plane.update(self.above[index] + row * rows_below)
        return frame

    def _bar_colour(self, x: int) -> tuple[int, int, int]:
        return PATTERN_BARS[x * len(PATTERN_BARS) // self.width]

    def _row(self, index: int, plane_width: int, line_size: int, colour_at) -> bytes:
        """One row of plane `index`: each sample from the colour at its luma x."""
        scale = 1 if index == 0 else 2
        samples = bytes(
            _yuv(colour_at(col * scale))[index] for col in range(plane_width)
        )
        return samples + bytes(line_size - plane_width)


@functools.cache
def _yuv(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    return rgb_to_yuv(rgb)


def marker_points() -> list[tuple[float, float]]:
    """Where the marker is read, as fractions of the width and height (so at any size
    the picture is decoded to): the bars' centres, then the counter's blocks."""
    bars = [((i + 0.5) / len(PATTERN_BARS), BARS_ROW) for i in range(len(PATTERN_BARS))]
    bits = [((i + 0.5) / COUNTER_BITS, COUNTER_ROW) for i in range(COUNTER_BITS)]
    return bars + bits


def decode_marker(colours: Sequence[Sequence[int]]) -> int | None:
    """The frame counter from the RGB colours seen at `marker_points()`, or None if
    this is not the pattern (a bar's colour is off by more than COLOUR_TOLERANCE)."""
    bars, bits = colours[: len(PATTERN_BARS)], colours[len(PATTERN_BARS) :]
    if not all(map(matches, bars, PATTERN_BARS)):
        return None
    counter = 0
    for colour in bits:
        counter = counter << 1 | (sum(colour) > 3 * 128)
    return counter


def read_marker(frame: VideoFrame) -> int | None:
    """The frame counter of a decoded pattern frame, or None if it is not the pattern."""
    if frame.format.name != "yuv420p":
        frame = frame.reformat(format="yuv420p")
    planes = [bytes(p) for p in frame.planes]
    lines = [p.line_size for p in frame.planes]

    def rgb(fx: float, fy: float) -> tuple[int, int, int]:
        x, y = int(fx * frame.width), int(fy * frame.height)
        luma = planes[0][y * lines[0] + x]
        u = planes[1][(y // 2) * lines[1] + x // 2]
        v = planes[2][(y // 2) * lines[2] + x // 2]
        return yuv_to_rgb(luma, u, v)

    return decode_marker([rgb(fx, fy) for fx, fy in marker_points()])


def matches(seen: Sequence[int], expected: Sequence[int]) -> bool:
    return all(
        abs(a - b) <= COLOUR_TOLERANCE for a, b in zip(seen, expected, strict=True)
    )


# --- tracks -----------------------------------------------------------------------


class PacedTrack(MediaStreamTrack):
    """A generated track that hands out one frame every `period` seconds."""

    period: float

    def __init__(self) -> None:
        super().__init__()
        self.count = 0
        self.started: float | None = None

    async def pace(self) -> int:
        """Wait for the next frame's time; its number."""
        if self.readyState != "live":
            raise MediaStreamError
        now = time.monotonic()
        if self.started is None:
            self.started = now
        number = self.count
        self.count += 1
        delay = self.started + number * self.period - now
        if delay > 0:
            await asyncio.sleep(delay)
        return number


class PatternVideoTrack(PacedTrack):
    """Colour bars with a moving frame counter (see `read_marker`)."""

    kind = "video"

    def __init__(self, fps: int = PATTERN_FPS):
        super().__init__()
        self.period = 1 / fps
        self.painter = PatternPainter()

    async def recv(self) -> VideoFrame:
        number = await self.pace()
        frame = self.painter.frame(number % (1 << COUNTER_BITS))
        frame.pts = round(number * self.period * VIDEO_CLOCK)
        frame.time_base = fractions.Fraction(1, VIDEO_CLOCK)
        return frame


def _tone_second() -> bytes:
    """One second of a TONE_HZ sine (a whole number of periods, so it loops cleanly)."""
    amplitude = 0.3 * 32767
    samples = array(
        "h",
        (
            round(amplitude * math.sin(2 * math.pi * TONE_HZ * i / AUDIO_RATE))
            for i in range(AUDIO_RATE)
        ),
    )
    return samples.tobytes()


class ToneAudioTrack(PacedTrack):
    """A steady 440 Hz tone, mono, in 20 ms frames."""

    kind = "audio"
    period = AUDIO_PTIME
    _second: bytes | None = None

    async def recv(self) -> AudioFrame:
        number = await self.pace()
        if ToneAudioTrack._second is None:
            ToneAudioTrack._second = _tone_second()
        samples = int(AUDIO_RATE * AUDIO_PTIME)
        start = number * samples % AUDIO_RATE * 2  # bytes: two per s16 sample
        frame = AudioFrame(format="s16", layout="mono", samples=samples)
        frame.planes[0].update(ToneAudioTrack._second[start : start + samples * 2])
        frame.sample_rate = AUDIO_RATE
        frame.pts = number * samples
        frame.time_base = fractions.Fraction(1, AUDIO_RATE)
        return frame


class EchoTrack(MediaStreamTrack):
    """Sends back frames received from the peer (fed with `put`), re-timed on this
    side's clock so that a gap in what arrives is not a jump backwards in time."""

    def __init__(self, kind: str, backlog: int = 10):
        super().__init__()
        self.kind = kind
        self.queue: asyncio.Queue[VideoFrame | AudioFrame | None] = asyncio.Queue(
            backlog
        )
        self.started: float | None = None
        self.samples = 0

    def put(self, frame: VideoFrame | AudioFrame) -> None:
        if self.queue.full():
            self.queue.get_nowait()  # late frames are worth less than new ones
        self.queue.put_nowait(frame)

    async def recv(self) -> VideoFrame | AudioFrame:
        frame = await self.queue.get()
        if frame is None or self.readyState != "live":
            raise MediaStreamError
        if isinstance(frame, AudioFrame):
            frame.pts = self.samples
            frame.time_base = fractions.Fraction(1, frame.sample_rate)
            self.samples += frame.samples
        else:
            now = time.monotonic()
            self.started = self.started if self.started is not None else now
            frame.pts = round((now - self.started) * VIDEO_CLOCK)
            frame.time_base = fractions.Fraction(1, VIDEO_CLOCK)
        return frame

    def stop(self) -> None:
        super().stop()
        if self.queue.full():
            self.queue.get_nowait()
        self.queue.put_nowait(None)


class CountedTrack(MediaStreamTrack):
    """Passes another track's frames on and counts them (aiortc's outbound stats have
    packets and bytes, not frames)."""

    def __init__(self, inner: MediaStreamTrack):
        super().__init__()
        self.kind = inner.kind
        self.inner = inner
        self.count = 0

    async def recv(self):
        frame = await self.inner.recv()
        self.count += 1
        return frame

    def stop(self) -> None:
        super().stop()
        self.inner.stop()


# --- sources ----------------------------------------------------------------------


class MediaSource:
    """What one peer connection sends: `--media pattern`, `echo` or `file:PATH`."""

    def __init__(self, spec: str):
        self.spec = spec
        self.path: Path | None = None
        if spec.startswith("file:"):
            self.path = Path(spec.removeprefix("file:")).expanduser()
            check_media_file(self.path)
        elif spec not in ("pattern", "echo"):
            raise ValueError(f"unknown media {spec!r}; use pattern, echo or file:PATH")

    @property
    def echo(self) -> bool:
        return self.spec == "echo"

    def tracks(self, kinds: set[str]) -> dict[str, MediaStreamTrack]:
        """Fresh tracks of the wanted kinds for one peer connection."""
        made: dict[str, MediaStreamTrack] = {}
        if self.echo:
            made = {kind: EchoTrack(kind) for kind in kinds}
        elif self.path is not None:
            # One player per connection: a player's tracks cannot be shared.
            player = MediaPlayer(str(self.path), loop=True)
            made = {
                kind: track
                for kind, track in (("audio", player.audio), ("video", player.video))
                if track is not None and kind in kinds
            }
        else:
            generators = {"audio": ToneAudioTrack, "video": PatternVideoTrack}
            made = {kind: generators[kind]() for kind in kinds}
        return {kind: CountedTrack(track) for kind, track in made.items()}


def check_media_file(path: Path) -> None:
    """Raise ValueError (with a message for the user) unless `path` is a media file
    with audio or video that PyAV can open."""
    if not path.is_file():
        raise ValueError(f"no media file at {path}")
    try:
        with av.open(str(path)) as container:
            if not (container.streams.audio or container.streams.video):
                raise ValueError(f"{path} has neither audio nor video")
    except av.FFmpegError as exc:
        raise ValueError(f"{path} is not a media file PyAV can read: {exc}") from None


# --- recording --------------------------------------------------------------------


class Recorder:
    """Writes what one peer sends to one MP4 file (H.264 and AAC).

    Writing starts with the first video frame (when the peer sends video), so the
    stream's size is the picture's; timestamps come from this side's clock.
    """

    def __init__(self, path: Path, kinds: set[str]):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.container = av.open(str(path), mode="w")
        self.kinds = kinds
        self.video: av.VideoStream | None = None
        self.audio: av.AudioStream | None = None
        self.started: float | None = None
        self.audio_pts: int | None = None
        self.last_video_pts = -1
        self.frames = 0

    def write(self, frame: VideoFrame | AudioFrame) -> None:
        now = time.monotonic()
        if self.started is None:
            if isinstance(frame, AudioFrame) and "video" in self.kinds:
                return
            self.started = now
            self._open_streams(frame)
        # The frame may be sent on (echo) afterwards: its own timing is restored.
        pts, time_base = frame.pts, frame.time_base
        try:
            if isinstance(frame, VideoFrame) and self.video is not None:
                frame.time_base = fractions.Fraction(1, VIDEO_CLOCK)
                frame.pts = max(
                    self.last_video_pts + 1, round((now - self.started) * VIDEO_CLOCK)
                )
                self.last_video_pts = frame.pts
                self._mux(self.video.encode(frame))
                self.frames += 1
            elif isinstance(frame, AudioFrame) and self.audio is not None:
                if self.audio_pts is None:
                    self.audio_pts = round((now - self.started) * frame.sample_rate)
                frame.time_base = fractions.Fraction(1, frame.sample_rate)
                frame.pts = self.audio_pts
                self.audio_pts += frame.samples
                self._mux(self.audio.encode(frame))
        finally:
            frame.pts = pts
            if time_base is not None:  # PyAV cannot set it back to None
                frame.time_base = time_base

    def close(self) -> None:
        """Flush the encoders and finish the file (an MP4 is unplayable without)."""
        if self.started is not None:
            for stream in (self.video, self.audio):
                if stream is not None:
                    self._mux(stream.encode(None))
        self.container.close()
        if self.started is None:
            self.path.unlink(missing_ok=True)  # nothing arrived: no empty file

    def _open_streams(self, first: VideoFrame | AudioFrame) -> None:
        if "video" in self.kinds:
            video = self.container.add_stream("libx264", rate=30)
            video.pix_fmt = "yuv420p"
            video.width, video.height = first.width, first.height
            video.codec_context.time_base = fractions.Fraction(1, VIDEO_CLOCK)
            # The bot encodes in its event loop: keep it cheap.
            video.options = {"preset": "ultrafast", "tune": "zerolatency"}
            self.video = video
        if "audio" in self.kinds:
            self.audio = self.container.add_stream("aac", rate=AUDIO_RATE)

    def _mux(self, packets) -> None:
        for packet in packets:
            self.container.mux(packet)
