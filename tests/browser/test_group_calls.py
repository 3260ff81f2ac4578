"""Group calls (issue 8): Alice rings Bob and Carol from the home page, Bob joins and
Carol declines; then Alice invites Dave from the room, and all three see each other."""

from playwright.sync_api import expect

from calls.models import Call
from tests.browser.test_calls import panel, status
from tests.browser.test_rooms import tiles, wait_for_mesh
from tests.factories import UserFactory


def test_a_group_call_from_the_home_page_then_one_more_from_the_room(
    sign_in, transactional_db
):
    for name in ("alice", "bob", "carol", "dave"):
        UserFactory(username=name, display_name=name.capitalize())
    bob, carol, dave = (sign_in(n) for n in ("bob", "carol", "dave"))
    alice = sign_in("alice")

    # Alice picks Bob and Carol and rings them: her browser goes to the new room.
    alice.click("#group-call summary")
    alice.check('#group-call input[value="bob"]')
    alice.check('#group-call input[value="carol"]')
    alice.click("#group-call-start")
    expect(alice.locator("#room")).to_have_attribute("data-phase", "in")
    room_id = alice.locator("#room").get_attribute("data-room-id")

    # Both are rung with an invitation that says it is a group call.
    for page in (bob, carol):
        expect(panel(page)).to_have_attribute("data-phase", "incoming")
        expect(panel(page)).to_have_attribute("data-group", "true")
        expect(status(page)).to_contain_text("Alice invites you to a group call")
    expect(alice.locator('#invitations [data-user="bob"]')).to_have_attribute(
        "data-state", "ringing"
    )

    carol.click("#call-reject")
    bob.click("#call-accept")
    bob.wait_for_url(f"**/rooms/{room_id}/")
    expect(bob.locator("#room")).to_have_attribute("data-phase", "in")
    expect(alice.locator('#invitations [data-user="carol"]')).to_have_text(
        "Carol declined"
    )
    expect(alice.locator('#invitations [data-user="bob"]')).to_have_text("Bob accepted")
    for page in (alice, bob):
        expect(tiles(page)).to_have_count(2)
    wait_for_mesh({"alice": alice, "bob": bob}, each_sees=1)

    # Alice invites Dave from the room; he accepts, and all three decode each other.
    alice.click("#room-invite")
    alice.check('#invite-dialog input[value="dave"]')
    alice.click('#invite-dialog button[value="ring"]')
    expect(panel(dave)).to_have_attribute("data-phase", "incoming")
    expect(status(dave)).to_contain_text("(2 in it)")
    dave.click("#call-accept")
    dave.wait_for_url(f"**/rooms/{room_id}/")
    pages = {"alice": alice, "bob": bob, "dave": dave}
    for page in pages.values():
        expect(tiles(page)).to_have_count(3)
    wait_for_mesh(pages, each_sees=2)
    expect(alice.locator('#invitations [data-user="dave"]')).to_have_text(
        "Dave accepted"
    )

    # Every invitation is on the bill, with its outcome.
    outcomes = {
        c.callee.username: (c.end_reason, c.answered_at is not None)
        for c in Call.objects.filter(room__room_id=room_id).select_related("callee")
    }
    assert outcomes == {
        "bob": ("hangup", True),
        "carol": ("reject", False),
        "dave": ("hangup", True),
    }
    # And in both people's history.
    carol.goto("/calls/")
    expect(carol.locator("tbody tr").first).to_contain_text("Group call")
    alice.goto("/calls/")
    expect(alice.locator("tbody tr")).to_have_count(3)
