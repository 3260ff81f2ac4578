"""A room with four people in four browsers: a full video mesh, chat, leave, kick, close."""

import time

from django.test import Client
from playwright.sync_api import expect

MEDIA_DEADLINE = 40  # seconds; twelve streams on a two-core machine


def enter(sign_in, username, room_id="standup", server=None):
    page = sign_in(username, server=server)
    page.goto(f"/rooms/{room_id}/")
    expect(page.locator("#room")).to_have_attribute("data-phase", "in")
    return page


def tiles(page):
    return page.locator("#room-grid [data-member-id]")


def decoding_from(page) -> dict[str, int]:
    """Per other member: video frames this page decoded from them."""
    stats = page.evaluate("window.parley.room.stats()")
    return {member: s["video"]["framesDecoded"] for member, s in stats.items()}


def wait_for_mesh(pages: dict, each_sees: int) -> None:
    deadline = time.monotonic() + MEDIA_DEADLINE
    while True:
        seen = {name: decoding_from(page) for name, page in pages.items()}
        if all(
            len(frames) == each_sees and all(n > 0 for n in frames.values())
            for frames in seen.values()
        ):
            return
        assert time.monotonic() < deadline, f"mesh incomplete: {seen}"
        time.sleep(0.5)


def test_four_people_in_a_room(sign_in, room):
    pages = {name: enter(sign_in, name) for name in ("alice", "bob", "carol", "dave")}
    for page in pages.values():
        expect(tiles(page)).to_have_count(4)
    wait_for_mesh(pages, each_sees=3)  # 12 directed video streams, all decoding

    # Chat: one types, all four see it, and it is in the history API.
    alice = pages["alice"]
    alice.fill("#chat-text", "Good morning, everyone")
    alice.press("#chat-text", "Enter")
    for page in pages.values():
        expect(page.locator("#chat-log")).to_contain_text("Good morning, everyone")
    client = Client()
    client.force_login(room.owner)
    history = client.get("/api/rooms/standup/messages").json()
    assert [m["text"] for m in history["items"]] == ["Good morning, everyone"]

    # The owner mutes everyone: their microphones go off, and every grid shows it.
    alice.click("#room-mute-all")
    bob_id = pages["bob"].evaluate("window.parley.room.memberId")
    expect(pages["bob"].locator("#room-mic")).to_have_attribute("aria-pressed", "true")
    expect(
        pages["carol"].locator(f'[data-member-id="{bob_id}"] .mic-off')
    ).to_be_visible()
    expect(pages["bob"].locator("#room-status")).to_contain_text("muted everyone")
    assert not pages["bob"].evaluate(
        "window.parley.room.localStream.getAudioTracks()[0].enabled"
    )

    # Dave leaves: his tile goes from the others' grids.
    dave_id = pages["dave"].evaluate("window.parley.room.memberId")
    pages["dave"].click("#room-leave")
    for name in ("alice", "bob", "carol"):
        expect(pages[name].locator(f'[data-member-id="{dave_id}"]')).to_have_count(0)
        expect(tiles(pages[name])).to_have_count(3)

    # The owner removes Carol, who is told.
    carol_id = pages["carol"].evaluate("window.parley.room.memberId")
    alice.locator(f'[data-member-id="{carol_id}"] .kick').click()
    expect(pages["carol"].locator("#room-status")).to_have_text(
        "Alice removed you from this room."
    )
    expect(pages["carol"].locator("#room")).to_have_attribute("data-phase", "out")
    for name in ("alice", "bob"):
        expect(tiles(pages[name])).to_have_count(2)

    # The owner closes the room: everyone still in it sees it closed.
    alice.click("#room-close")
    for name in ("alice", "bob"):
        expect(pages[name].locator("#room-status")).to_have_text("The room was closed.")
        expect(tiles(pages[name])).to_have_count(0)
    room.refresh_from_db()
    assert room.closed_at is not None
