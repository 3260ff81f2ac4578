"""The bot's media without a network: the pattern's marker survives a real codec and
scaling, other pictures are not taken for it, and the recorder writes playable files."""

import fractions

import av
import pytest
from aiortc.codecs import get_decoder, get_encoder
from aiortc.codecs.vpx import vp8_depayload
from aiortc.jitterbuffer import JitterFrame
from aiortc.mediastreams import MediaStreamError
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

from calls.bot.media import (
    VIDEO_CLOCK,
    MediaSource,
    PatternPainter,
    PatternVideoTrack,
    Recorder,
    ToneAudioTrack,
    read_marker,
)


def test_the_marker_survives_vp8_at_any_size():
    """Encoded and decoded by aiortc's VP8, then scaled as a browser might."""
    codec = RTCRtpCodecParameters(mimeType="video/VP8", clockRate=VIDEO_CLOCK)
    encoder, decoder = get_encoder(codec), get_decoder(codec)
    painter = PatternPainter()
    for number in (0, 1, 4660, 65535):
        frame = painter.frame(number)
        frame.pts, frame.time_base = number * 6000, fractions.Fraction(1, VIDEO_CLOCK)
        payloads, timestamp = encoder.encode(frame)
        data = b"".join(vp8_depayload(payload) for payload in payloads)
        (decoded,) = decoder.decode(JitterFrame(data=data, timestamp=timestamp))
        assert read_marker(decoded) == number
        for size in ((640, 480), (160, 120)):
            scaled = decoded.reformat(width=size[0], height=size[1], format="rgb24")
            assert read_marker(scaled) == number


def test_other_pictures_are_not_the_pattern():
    grey = av.VideoFrame(320, 240, "yuv420p")
    for plane in grey.planes:
        plane.update(bytes([128]) * plane.buffer_size)
    assert read_marker(grey) is None
    # The pattern mirrored: the bars are not in their order.
    flipped = PatternPainter().frame(7).reformat(format="rgb24")
    plane = flipped.planes[0]
    data, line = bytes(plane), plane.line_size
    mirrored = bytearray()
    for y in range(flipped.height):
        row = data[y * line : y * line + flipped.width * 3]
        pixels = [row[x : x + 3] for x in range(0, len(row), 3)]
        mirrored += b"".join(reversed(pixels)) + bytes(line - len(row))
    plane.update(bytes(mirrored))
    assert read_marker(flipped) is None


async def test_the_generated_tracks_are_paced_and_counted():
    video, audio = PatternVideoTrack(fps=50), ToneAudioTrack()
    frames = [await video.recv() for _ in range(3)]
    assert [read_marker(f) for f in frames] == [0, 1, 2]
    assert frames[2].pts == 2 * VIDEO_CLOCK // 50
    sound = [await audio.recv() for _ in range(2)]
    assert [f.samples for f in sound] == [960, 960]
    assert sound[1].pts == 960
    assert max(bytes(sound[0].planes[0])) > 0  # not silence
    video.stop()
    with pytest.raises(MediaStreamError):
        await video.recv()


def test_a_media_source_makes_fresh_counted_tracks_per_connection():
    source = MediaSource("pattern")
    first, second = source.tracks({"audio", "video"}), source.tracks({"audio"})
    assert set(first) == {"audio", "video"} and set(second) == {"audio"}
    assert first["audio"] is not second["audio"]
    assert MediaSource("echo").echo


def test_the_recorder_writes_a_playable_file(tmp_path):
    path = tmp_path / "call.mp4"
    recorder = Recorder(path, {"video"})
    painter = PatternPainter()
    for number in range(45):
        recorder.write(painter.frame(number))
    recorder.close()
    with av.open(str(path)) as container:
        frames = list(container.decode(video=0))
    assert len(frames) == 45
    assert read_marker(frames[-1]) == 44


def test_a_recorder_that_got_nothing_leaves_no_file(tmp_path):
    path = tmp_path / "empty.mp4"
    Recorder(path, {"audio", "video"}).close()
    assert not path.exists()
