"""1:1 calls between real browsers, with real media (fake camera and microphone)."""

import time

import pytest
from playwright.sync_api import expect

from calls.models import Call

MEDIA_DEADLINE = 20  # seconds; first frames arrive in well under one here


def person(page, username):
    return page.locator(f'li.person[data-username="{username}"]')


def call(page, username, media="video"):
    person(page, username).locator(f'button[data-call-media="{media}"]').click()


def panel(page):
    return page.locator("#call-panel")


def status(page):
    return page.locator("#call-status")


def media_stats(page) -> dict:
    return page.evaluate("window.parley.calls.stats()")


def wait_for_media(page, *, video: bool = True) -> dict:
    """Poll getStats() until video frames are decoded and audio bytes arrive."""
    deadline = time.monotonic() + MEDIA_DEADLINE
    while True:
        stats = media_stats(page)
        flowing = stats and stats["audio"]["bytesReceived"] > 0
        if video:
            flowing = flowing and stats["video"]["framesDecoded"] > 0
        if flowing:
            return stats
        assert time.monotonic() < deadline, f"no media after {MEDIA_DEADLINE}s: {stats}"
        time.sleep(0.2)


def ring(caller, callee, username="bob", media="video"):
    call(caller, username, media)
    expect(panel(caller)).to_have_attribute("data-phase", "ringing")
    expect(panel(callee)).to_have_attribute("data-phase", "incoming")


def test_a_video_call_from_ring_to_hang_up(sign_in, people):
    alice, bob = sign_in("alice"), sign_in("bob")
    ring(alice, bob)
    expect(status(bob)).to_have_text("Alice is calling you (video)")
    expect(bob.locator("body")).to_have_attribute("data-ringing", "true")
    expect(bob.locator("#call-accept")).to_be_focused()

    bob.click("#call-accept")
    for page in (alice, bob):
        expect(panel(page)).to_have_attribute("data-phase", "active")
    alice_stats, bob_stats = wait_for_media(alice), wait_for_media(bob)
    assert (
        alice_stats["video"]["framesDecoded"] > 0 < bob_stats["video"]["framesDecoded"]
    )
    assert (
        alice_stats["audio"]["bytesReceived"] > 0 < bob_stats["audio"]["bytesReceived"]
    )
    expect(bob.locator("body")).not_to_have_attribute("data-ringing", "true")

    # Alice turns her camera off and mutes; Bob's page shows both.
    alice.click("#call-camera")
    alice.click("#call-mic")
    expect(bob.locator("#peer-camera-off")).to_be_visible()
    expect(bob.locator("#peer-camera-off")).to_have_text("Alice's camera is off")
    expect(bob.locator("#peer-mic-off")).to_be_visible()
    expect(alice.locator("#call-mic")).to_have_attribute("aria-pressed", "true")
    alice.click("#call-camera")
    expect(bob.locator("#peer-camera-off")).to_be_hidden()

    expect(alice.locator("#call-timer")).to_have_text("0:01", timeout=5000)
    bob.click("#call-hangup")
    for page in (alice, bob):
        expect(panel(page)).to_have_attribute("data-phase", "ended")
        expect(status(page)).to_contain_text("Call ended · 0:0")
    bill = Call.objects.get()
    assert (bill.state, bill.end_reason, bill.end_code) == ("ended", "hangup", 0)
    assert bill.duration_s > 0


def test_an_audio_call_carries_sound_both_ways(sign_in, people):
    alice, bob = sign_in("alice"), sign_in("bob")
    ring(alice, bob, media="audio")
    expect(status(bob)).to_have_text("Alice is calling you (audio)")
    bob.click("#call-accept")
    for page in (alice, bob):
        stats = wait_for_media(page, video=False)
        assert stats["video"]["framesSent"] == 0
    expect(alice.locator("#call-camera")).to_be_hidden()
    alice.click("#call-hangup")
    expect(status(bob)).to_contain_text("Call ended")


def test_the_callee_rejects(sign_in, people):
    alice, bob = sign_in("alice"), sign_in("bob")
    ring(alice, bob)
    bob.keyboard.press("Escape")  # the keyboard way to turn a call down
    expect(status(alice)).to_have_text("Bob declined the call")
    expect(status(bob)).to_have_text("Call declined")
    assert Call.objects.get().end_code == 100104


SELF_VIEW = """() => {
  const track = document.querySelector("#local-video").srcObject?.getVideoTracks()[0];
  if (track) window.selfViewTrack = track;
  return track ? track.readyState : null;
}"""


NOT_ALLOWED_YET = """() => {
  window.permissionAsks = 0;
  window.mediaOpens = 0;
  navigator.permissions.query = async () => {
    window.permissionAsks++;
    return { state: "prompt" };
  };
  const open = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = (constraints) => {
    window.mediaOpens++;
    return open(constraints);
  };
}"""


def test_a_ringing_video_call_shows_the_callee_itself_once_the_camera_is_allowed(
    sign_in, people
):
    """Where camera and microphone were allowed before (the test browser allows them
    all), the incoming video call shows the callee's own picture while it rings, so
    answering waits for no device; declining turns the camera off again. Where they
    were not, nothing opens (and nothing asks) before the answer."""
    alice, bob = sign_in("alice"), sign_in("bob")
    ring(alice, bob)
    deadline = time.monotonic() + 5
    while bob.evaluate(SELF_VIEW) != "live":
        assert time.monotonic() < deadline, "no self-view while ringing"
        time.sleep(0.1)
    bob.keyboard.press("Escape")
    expect(status(bob)).to_have_text("Call declined")
    assert bob.evaluate("window.selfViewTrack.readyState") == "ended"
    assert bob.evaluate(SELF_VIEW) is None

    # As a browser where the person has not allowed the camera yet says. Once the
    # page has asked, it would have opened the devices at once: it must not have.
    bob.evaluate(NOT_ALLOWED_YET)
    ring(alice, bob)
    bob.wait_for_function("window.permissionAsks > 0")
    assert bob.evaluate("window.mediaOpens") == 0
    assert bob.evaluate(SELF_VIEW) is None
    alice.click("#call-cancel")
    expect(status(bob)).to_have_text("Missed call from Alice")


def test_the_caller_cancels(sign_in, people):
    alice, bob = sign_in("alice"), sign_in("bob")
    ring(alice, bob)
    alice.click("#call-cancel")
    expect(status(alice)).to_have_text("Call cancelled")
    expect(status(bob)).to_have_text("Missed call from Alice")
    expect(bob.locator("body")).not_to_have_attribute("data-ringing", "true")
    assert Call.objects.get().end_code == 100101


def test_calling_someone_who_is_in_a_call_says_busy(sign_in, people):
    alice, bob, carol = sign_in("alice"), sign_in("bob"), sign_in("carol")
    ring(alice, bob)
    bob.click("#call-accept")
    expect(panel(bob)).to_have_attribute("data-phase", "active")
    call(carol, "bob")
    expect(status(carol)).to_have_text("Bob is busy")
    expect(panel(bob)).to_have_attribute("data-phase", "active")
    assert Call.objects.filter(end_reason="busy").count() == 1


def test_calling_someone_offline_says_offline(sign_in, people):
    alice = sign_in("alice")
    call(alice, "carol")
    expect(status(alice)).to_have_text("Carol is offline")


@pytest.mark.server_env(CALL_RING_TIMEOUT="1.5")
def test_an_unanswered_call_times_out(sign_in, people):
    alice, bob = sign_in("alice"), sign_in("bob")
    ring(alice, bob)
    expect(status(alice)).to_have_text("No answer", timeout=10000)
    expect(status(bob)).to_have_text("Missed call from Alice")
    assert Call.objects.get().end_code == 100105


def test_answered_on_one_tab_stops_the_other_ringing(sign_in, people):
    alice, bob_laptop, bob_phone = sign_in("alice"), sign_in("bob"), sign_in("bob")
    call(alice, "bob")
    expect(panel(bob_laptop)).to_have_attribute("data-phase", "incoming")
    expect(panel(bob_phone)).to_have_attribute("data-phase", "incoming")
    bob_phone.click("#call-accept")
    expect(status(bob_laptop)).to_have_text("Answered on another device")
    expect(bob_laptop.locator("body")).not_to_have_attribute("data-ringing", "true")
    wait_for_media(bob_phone)
    wait_for_media(alice)


@pytest.mark.server_env(CALL_DISCONNECT_GRACE="2")
def test_the_peer_is_told_when_a_party_disappears_mid_call(sign_in, people):
    alice, bob = sign_in("alice"), sign_in("bob")
    ring(alice, bob)
    bob.click("#call-accept")
    wait_for_media(bob)
    alice.context.close()
    expect(status(bob)).to_have_text("The connection to Alice was lost", timeout=10000)
    assert Call.objects.get().end_code == 100106


def test_forbid_flags_are_honoured_by_the_browsers(sign_in, people):
    """0x80 forbids the callee's video: Bob sends sound only, Alice still sends both."""
    alice, bob = sign_in("alice"), sign_in("bob")
    alice.evaluate(
        "window.parley.calls.invite({username: 'bob', display_name: 'Bob'}, 'video',"
        " {flags: 0x80})"
    )
    expect(panel(bob)).to_have_attribute("data-phase", "incoming")
    bob.click("#call-accept")
    wait_for_media(bob)  # Alice's video and sound reach Bob
    alice_stats = wait_for_media(alice, video=False)  # Bob's sound reaches Alice
    bob_stats = media_stats(bob)
    assert bob_stats["video"]["framesSent"] == 0
    assert alice_stats["video"]["framesDecoded"] == 0
    expect(bob.locator("#call-camera")).to_be_hidden()
    expect(alice.locator("#call-camera")).to_be_visible()
