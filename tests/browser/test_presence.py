"""Two people in two real browsers see each other come online and go offline, live."""

from playwright.sync_api import expect

from tests.factories import UserFactory


def person(page, username):
    return page.locator(f'li.person[data-username="{username}"]')


def test_two_browsers_see_each_other_go_online_and_offline(sign_in, transactional_db):
    UserFactory(username="alice", display_name="Alice")
    UserFactory(username="bob", display_name="Bob")

    alice = sign_in("alice")
    expect(alice.locator("#connection")).to_have_attribute("data-state", "online")
    expect(person(alice, "bob")).to_have_attribute("data-state", "offline")

    bob = sign_in("bob")
    expect(person(alice, "bob")).to_have_attribute("data-state", "online")
    expect(person(alice, "bob").locator(".state")).to_have_text("online")
    expect(person(bob, "alice")).to_have_attribute("data-state", "online")

    # Alice closes her tab: Bob sees her leave; she opens Parley again: he sees her back.
    alice_context = alice.context
    alice.close()
    expect(person(bob, "alice")).to_have_attribute("data-state", "offline")
    alice = alice_context.new_page()
    alice.goto("/")
    expect(person(bob, "alice")).to_have_attribute("data-state", "online")

    # Bob logs out: Alice sees him go offline.
    bob.click("text=Log out")
    expect(person(alice, "bob")).to_have_attribute("data-state", "offline")
    expect(person(alice, "bob").locator(".state")).to_have_text("offline")


def test_someone_who_signs_up_later_appears_in_the_list(
    sign_in, browser, live_server_url, transactional_db
):
    UserFactory(username="alice", display_name="Alice")
    alice = sign_in("alice")
    expect(alice.locator("#nobody")).to_be_visible()

    newcomer = browser.new_context(base_url=live_server_url).new_page()
    newcomer.goto("/accounts/signup/")
    newcomer.fill("input[name=username]", "carol")
    newcomer.fill("input[name=display_name]", "Carol C.")
    newcomer.fill("input[name=password1]", "a-long-enough-passphrase")
    newcomer.fill("input[name=password2]", "a-long-enough-passphrase")
    newcomer.click("button[type=submit]")

    expect(person(alice, "carol")).to_have_attribute("data-state", "online")
    expect(person(alice, "carol").locator(".name")).to_have_text("Carol C.")
    expect(alice.locator("#nobody")).to_be_hidden()
    newcomer.context.close()
