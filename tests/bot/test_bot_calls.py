"""The call bot in real calls and rooms: with browsers, with another bot, recording.

Every test runs the real `manage.py callbot` against daphne, inside the loopback-only
namespace; media really flows (the browsers' getStats(), the bot's own frame counts).
"""

import av
import pytest
from playwright.sync_api import expect

from calls.bot.media import read_marker
from rooms.services import room_create
from tests.bot.conftest import assert_shows_pattern
from tests.browser.test_calls import call, panel, status, wait_for_media
from tests.browser.test_rooms import enter, tiles, wait_for_mesh

pytestmark = pytest.mark.browser  # aiortc too must stay on loopback


def only(stats: dict) -> dict:
    (summary,) = stats.values()
    return summary


def test_a_browser_calls_the_bot_and_sees_its_pattern(sign_in, people, callbot):
    bot = callbot("bob", "--answer", "--once")
    bot.wait_for("waiting for calls from anyone")
    alice = sign_in("alice")
    call(alice, "bob")
    expect(panel(alice)).to_have_attribute("data-phase", "active")
    stats = wait_for_media(alice)
    assert stats["video"]["framesDecoded"] > 0 < stats["audio"]["bytesReceived"]
    # What Alice's page decodes is the bot's pattern, bars and a moving counter.
    assert_shows_pattern(alice, "#remote-video")
    # And the bot receives Alice's camera (Chromium's fake one: not the pattern).
    bot.wait_for_stats(lambda s: s and only(s)["video_frames_in"] > 10)

    alice.click("#call-hangup")
    expect(status(alice)).to_contain_text("Call ended")
    assert bot.finish() == 0
    final = only(bot.stats(final=True))
    assert final["video_frames_in"] > 0 < final["audio_frames_in"]
    assert final["video_frames_out"] > 0 < final["audio_frames_out"]
    assert final["pattern_frames_in"] == 0
    assert "answering alice" in bot.output


def test_the_bot_calls_a_browser_user_who_accepts(sign_in, people, callbot):
    bob = sign_in("bob")
    bot = callbot("alice", "--call", "bob", "--duration", "4")
    expect(panel(bob)).to_have_attribute("data-phase", "incoming")
    expect(status(bob)).to_have_text("Alice is calling you (video)")
    bob.click("#call-accept")
    wait_for_media(bob)
    assert_shows_pattern(bob, "#remote-video")
    # The bot hangs up after --duration and exits cleanly.
    assert bot.finish() == 0
    expect(status(bob)).to_contain_text("Call ended")
    final = only(bot.stats(final=True))
    assert final["video_frames_in"] > 0 < final["audio_frames_in"]
    assert final["rtt_ms"] is not None


def test_bot_to_bot_echo_and_recording(live_server_url, people, callbot, tmp_path):
    """A deployment smoke test without a browser: Alice's bot sends the pattern, Bob's
    echoes it back and records what it gets."""
    recordings = tmp_path / "recordings"
    bob = callbot(
        "bob", "--answer", "--once", "--media", "echo", "--record", str(recordings)
    )
    bob.wait_for("waiting for calls")
    alice = callbot("alice", "--call", "bob", "--duration", "3")
    assert alice.finish() == 0
    assert bob.finish() == 0
    alice_final, bob_final = only(alice.stats(final=True)), only(bob.stats(final=True))
    # Bob got the pattern, and Alice got it back from Bob's echo.
    assert bob_final["pattern_frames_in"] > 10
    assert alice_final["pattern_frames_in"] > 10
    assert bob_final["video_frames_out"] > 0 < bob_final["audio_frames_out"]

    (recording,) = recordings.glob("call-alice-*.mp4")
    with av.open(str(recording)) as container:
        assert container.streams.video and container.streams.audio
        frames = list(container.decode(video=0))
    assert frames[-1].time - frames[0].time > 1.0
    assert read_marker(frames[-1]) is not None  # the recording holds the pattern


def test_the_bot_answers_only_the_named_users(live_server_url, people, callbot):
    bob = callbot("bob", "--answer", "--from", "carol", "--once")
    bob.wait_for("waiting for calls from carol")
    alice = callbot("alice", "--call", "bob")
    assert alice.finish() == 1
    assert "CommandError: the call ended without an answer: reject" in alice.output
    assert "rejecting a call from alice" in bob.output
    # Carol's audio call is answered: sound both ways, and no video either way.
    carol = callbot("carol", "--call", "bob", "--audio-only", "--duration", "2")
    assert carol.finish() == 0
    assert bob.finish() == 0
    bob_final, carol_final = only(bob.stats(final=True)), only(carol.stats(final=True))
    assert bob_final["audio_frames_in"] > 0 < carol_final["audio_frames_in"]
    assert bob_final["video_frames_out"] == 0 == carol_final["video_frames_out"]
    assert bob_final["video_frames_in"] == 0 == carol_final["video_frames_in"]


def test_the_bot_sends_a_media_file(live_server_url, people, callbot, tmp_path):
    """--media file:PATH: the recording of one call is the media of the next."""
    first = tmp_path / "first"
    bob = callbot("bob", "--answer", "--once", "--record", str(first))
    bob.wait_for("waiting for calls")
    assert callbot("alice", "--call", "bob", "--duration", "2").finish() == 0
    assert bob.finish() == 0
    (clip,) = first.glob("*.mp4")

    second = tmp_path / "second"
    carol = callbot("carol", "--answer", "--once", "--record", str(second))
    carol.wait_for("waiting for calls")
    alice = callbot(
        "alice", "--call", "carol", "--duration", "3", "--media", f"file:{clip}"
    )
    assert alice.finish() == 0
    assert carol.finish() == 0
    # The file's picture is the pattern Alice's bot sent in the first call.
    assert only(carol.stats(final=True))["pattern_frames_in"] > 10
    assert only(carol.stats(final=True))["audio_frames_in"] > 0


@pytest.fixture
def standup(people):
    return room_create(owner=people["alice"], name="Standup", room_id="standup")


def test_the_bot_is_the_third_member_of_a_room(sign_in, standup, callbot):
    pages = {name: enter(sign_in, name) for name in ("alice", "bob")}
    wait_for_mesh(pages, each_sees=1)
    bot = callbot("carol", "--room", "standup")
    bot.wait_for("in room standup with 2 others")
    for page in pages.values():
        expect(tiles(page)).to_have_count(3)
    wait_for_mesh(pages, each_sees=2)
    member_id = bot.output.split("signed in as carol (device ")[1].split(")")[0]
    for page in pages.values():
        assert_shows_pattern(page, f'[data-member-id="{member_id}"] video')
    bot.wait_for_stats(
        lambda s: len(s) == 2 and all(v["video_frames_in"] > 10 for v in s.values())
    )

    bot.interrupt()  # Ctrl-C: the bot leaves the room and exits cleanly
    assert bot.finish() == 0
    for page in pages.values():
        expect(tiles(page)).to_have_count(2)
    final = bot.stats(final=True)
    assert len(final) == 2
    assert all(s["video_frames_in"] > 0 < s["audio_frames_in"] for s in final.values())
