"""Several daphne processes on one Redis (and nginx in front): calls and rooms with
their parties on different processes, and a process that dies mid-call."""

import time

import pytest
from playwright.sync_api import expect

from accounts.models import Device
from calls.models import Call
from tests.browser.test_calls import call, panel, ring, status, wait_for_media
from tests.browser.test_rooms import enter, wait_for_mesh
from tests.factories import UserFactory

# Fast failure detection for the crash test: every socket beats each second, a
# device row unrefreshed for 3 s is swept, and its call waits 3 s more for it.
HEARTBEAT, STALE_AFTER, GRACE = 1, 3, 3


@pytest.fixture
def two_servers(daphne_servers, redis_url):
    """Two app processes sharing the database and a channels-redis layer."""
    assert redis_url, "this test needs Redis (REDIS_URL or a redis-server binary)"
    return daphne_servers(2, REDIS_URL=redis_url)


def test_a_call_across_two_processes_connects_and_busy_holds(sign_in, two_servers):
    for name in ("alice", "bob", "carol", "dora"):
        UserFactory(username=name, display_name=name.capitalize())
    first, second = two_servers
    alice = sign_in("alice", server=first)
    bob = sign_in("bob", server=second)
    carol = sign_in("carol", server=first)
    dora = sign_in("dora", server=second)

    ring(alice, bob)
    bob.click("#call-accept")
    wait_for_media(alice)
    wait_for_media(bob)

    # Each process sees the party on the other one as busy.
    call(carol, "bob")
    expect(status(carol)).to_have_text("Bob is busy")
    call(dora, "alice")
    expect(status(dora)).to_have_text("Alice is busy")
    bill = Call.objects.get(end_reason="")
    assert bill.state == "active"

    alice.click("#call-hangup")
    expect(panel(bob)).to_have_attribute("data-phase", "ended")
    assert Call.objects.filter(end_reason="busy").count() == 2
    assert Call.objects.get(pk=bill.pk).end_reason == "hangup"


def test_a_room_across_two_processes(sign_in, two_servers, room):
    """Members on different processes see each other, exchange video and chat."""
    first, second = two_servers
    alice = enter(sign_in, "alice", server=first)
    bob = enter(sign_in, "bob", server=second)
    wait_for_mesh({"alice": alice, "bob": bob}, each_sees=1)
    bob.fill("#chat-text", "Hello from the other process")
    bob.press("#chat-text", "Enter")
    expect(alice.locator("#chat-log")).to_contain_text("Hello from the other process")
    bob.click("#room-leave")
    expect(alice.locator("#room-grid [data-member-id]")).to_have_count(1)


def process_of(device: Device) -> str:
    """The channel layer instance (so the process) a device's socket lives on:
    config.redis_layer names channels `specific.<process>!<channel>`."""
    return device.channel_name.split("!")[0]


def wait_for_new_device(username: str, *, old: Device, within: float = 10) -> Device:
    deadline = time.monotonic() + within
    while True:
        device = (
            Device.objects.filter(user__username=username).exclude(pk=old.pk).first()
        )
        if device is not None:
            return device
        assert time.monotonic() < deadline, f"{username} did not reconnect"
        time.sleep(0.1)


def test_a_killed_process_ends_its_calls_and_its_browser_moves_to_the_survivor(
    sign_in, daphne_servers, nginx, redis_url, people
):
    """Bob reaches the app through nginx; his process dies mid-call. Alice, on the
    other process, is told `disconnect` (100106) once Bob's dead socket is noticed
    and its grace has passed; Bob's browser reconnects through nginx to the survivor."""
    assert redis_url, "this test needs Redis (REDIS_URL or a redis-server binary)"
    survivor, doomed = daphne_servers(
        2,
        REDIS_URL=redis_url,
        PRESENCE_HEARTBEAT=str(HEARTBEAT),
        PRESENCE_STALE_AFTER=str(STALE_AFTER),
        CALL_DISCONNECT_GRACE=str(GRACE),
    )
    # nginx sends everything to `doomed` while it lives, then to `survivor`.
    front = nginx(primary=[doomed], backup=[survivor])
    alice = sign_in("alice", server=survivor)
    bob = sign_in("bob", server=front)
    alice_device = Device.objects.get(user__username="alice")
    bob_device = Device.objects.get(user__username="bob")
    assert process_of(bob_device) != process_of(alice_device)

    ring(alice, bob)
    bob.click("#call-accept")
    wait_for_media(alice)
    wait_for_media(bob)

    daphne_servers.kill(doomed)
    killed_at = time.monotonic()
    # Bob's browser notices the dropped socket and comes back through nginx.
    bob_now = wait_for_new_device("bob", old=bob_device)
    assert process_of(bob_now) == process_of(alice_device)
    expect(bob.locator("#connection")).to_have_attribute("data-state", "online")

    # Noticing the dead socket takes up to STALE_AFTER plus a beat; then the grace.
    bound = STALE_AFTER + 2 * HEARTBEAT + GRACE + 3
    expect(status(alice)).to_have_text(
        "The connection to Bob was lost", timeout=bound * 1000
    )
    took = time.monotonic() - killed_at
    assert took < bound, f"the peer was told after {took:.1f}s"
    assert took >= GRACE, f"the call ended before its grace ({took:.1f}s)"
    bill = Call.objects.get()
    assert (bill.end_reason, bill.end_code) == ("disconnect", 100106)
    # The dead process's device row was swept; Bob is online on the survivor.
    assert not Device.objects.filter(pk=bob_device.pk).exists()
