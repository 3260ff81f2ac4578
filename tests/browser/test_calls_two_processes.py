"""Two daphne processes on one Redis: a call between people on different processes."""

import pytest
from playwright.sync_api import expect

from calls.models import Call
from tests.browser.test_calls import call, panel, ring, status, wait_for_media
from tests.factories import UserFactory


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
