"""Fixtures for the server API: an application, its users' sockets, its API calls."""

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from accounts.services import app_user_get_or_create
from accounts.usersig import usersig_issue
from tests.appserver.receiver import WebhookReceiver
from tests.factories import ApplicationFactory, app_headers
from tests.sockets import ORIGIN, bearer


@pytest.fixture
def app(db):
    return ApplicationFactory(name="Acme")


@pytest.fixture
def server_api(app):
    """`server_api(method, path, body=None, app=None)` → the JSON answer's (status, body)."""

    def call(method: str, path: str, body=None, *, as_app=None):
        headers = app_headers(as_app or app)
        answer = getattr(Client(), method)(
            path, body, content_type="application/json", headers=headers
        )
        return answer.status_code, (answer.json() if answer.content else None)

    return call


@pytest.fixture
def async_server_api(server_api):
    """server_api for async tests (the view runs in a worker thread, as under daphne)."""
    return database_sync_to_async(server_api)


@pytest.fixture
def app_socket(open_socket, app):
    """`await app_socket(user_id)` → (socket, hello) of the app's user, signed in."""

    async def sign_in(user_id: str, *, of=None):
        user = await database_sync_to_async(app_user_get_or_create)(
            application=of or app, user_id=user_id
        )
        socket = await open_socket([ORIGIN, bearer(usersig_issue(user=user))])
        return socket, await socket.frame_of("hello")

    return sign_in


@pytest.fixture
def receiver():
    """A local webhook endpoint; `receiver.statuses` sets its next answers."""
    server = WebhookReceiver()
    yield server
    server.close()
