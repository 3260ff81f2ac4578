"""An application's users are a world of their own: presence, the people list and
the user API see only the same namespace."""

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from accounts.services import app_user_get_or_create
from accounts.usersig import usersig_issue
from tests.factories import ApplicationFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.usefixtures("channel_layer")
async def test_presence_is_announced_only_within_the_namespace(
    app, app_socket, signed_in
):
    native = await database_sync_to_async(UserFactory)(username="nina")
    nina, _ = await signed_in(native)
    alice, _ = await app_socket("alice")
    await app_socket("bob")

    seen = await alice.frame_of("presence")
    assert seen["user"]["username"] == "bob"
    assert await nina.receive_nothing(timeout=0.3)


def test_the_people_list_and_user_api_stay_in_the_namespace(app):
    native = UserFactory(username="nina")
    UserFactory(username="omar")
    app_user_get_or_create(application=app, user_id="alice")
    home = Client()
    home.force_login(native)
    people = [p.username for p in home.get("/").context["people"]]
    assert sorted(people) == sorted(["omar", app.owner.username])

    carol = app_user_get_or_create(application=app, user_id="carol")
    other = app_user_get_or_create(application=ApplicationFactory(), user_id="alice")
    answer = Client().get(
        "/api/users/state?usernames=alice,nina",
        headers={"Authorization": f"Bearer {usersig_issue(user=carol)}"},
    )
    assert answer.json() == {
        "users": [{"username": "alice", "state": "offline"}],
        "unknown": ["nina"],
    }
    assert other.handle == "alice" and other.pk != carol.pk
