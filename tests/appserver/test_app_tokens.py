"""User tokens an application signs itself (seed 002): accepted by the socket like
Parley's own, and refused (4401) when anything about them is wrong."""

import base64
import hashlib
import hmac
import json
import time

import pytest
from channels.db import database_sync_to_async

from accounts.models import User
from accounts.usersig import InvalidUserSig, usersig_verify
from tests.appserver.keys import ALGORITHM, app_token, key_pair
from tests.factories import ApplicationFactory
from tests.sockets import ORIGIN, bearer

pytestmark = pytest.mark.django_db(transaction=True)

HMAC_SECRET = "s" * 40


def app_with_key(kind: str):
    """An application that registered a key of `kind`; (app, signing key)."""
    if kind == "hmac":
        return ApplicationFactory(hmac_secret=HMAC_SECRET), HMAC_SECRET
    private, public_pem = key_pair(kind)
    return ApplicationFactory(public_key=public_pem), private


@pytest.mark.usefixtures("channel_layer")
@pytest.mark.parametrize("kind", ["ed25519", "p256", "hmac"])
async def test_an_app_signed_token_opens_a_socket_as_that_apps_user(kind, open_socket):
    app, key = await database_sync_to_async(app_with_key)(kind)
    token = app_token(app.app_id, "u-1001", key, ALGORITHM[kind])

    socket = await open_socket([ORIGIN, bearer(token)])
    hello = await socket.frame_of("hello")

    assert hello["user"]["username"] == "u-1001"
    user = await User.objects.aget(pk=hello["user"]["id"])
    assert (user.application_id, user.external_id) == (app.pk, "u-1001")
    assert not user.has_usable_password()


@pytest.mark.usefixtures("channel_layer")
async def test_the_auth_frame_takes_an_app_token_too(open_socket):
    app, key = await database_sync_to_async(app_with_key)("ed25519")
    socket = await open_socket()
    await socket.send_frame(
        {"type": "auth", "user_sig": app_token(app.app_id, "eve", key, "EdDSA")}
    )
    assert (await socket.frame_of("hello"))["user"]["username"] == "eve"


def _refusals():
    """(case id, how to spoil the token) pairs."""
    other_private, _ = key_pair("ed25519")
    return {
        "unknown-app": lambda app, key: app_token("app_nosuch", "u1", key, "EdDSA"),
        "bad-signature": lambda app, key: app_token(
            app.app_id, "u1", other_private, "EdDSA"
        ),
        "expired": lambda app, key: app_token(
            app.app_id, "u1", key, "EdDSA", exp=int(time.time()) - 5
        ),
        "no-expiry": lambda app, key: app_token(
            app.app_id, "u1", key, "EdDSA", exp=None
        ),
        "no-subject": lambda app, key: app_token(app.app_id, None, key, "EdDSA"),
        "bad-user-id": lambda app, key: app_token(
            app.app_id, "no spaces", key, "EdDSA"
        ),
        "hmac-not-registered": lambda app, key: app_token(
            app.app_id, "u1", "k" * 40, "HS256"
        ),
        "alg-none": lambda app, key: app_token(app.app_id, "u1", None, "none"),
        "tampered": lambda app, key: (
            app_token(app.app_id, "u1", key, "EdDSA")[:-3] + "AAA"
        ),
    }


REFUSALS = _refusals()


@pytest.mark.usefixtures("channel_layer")
@pytest.mark.parametrize("case", list(REFUSALS))
async def test_a_wrong_app_token_is_refused_with_4401(case, open_socket):
    app, key = await database_sync_to_async(app_with_key)("ed25519")
    token = REFUSALS[case](app, key)

    socket = await open_socket([ORIGIN, bearer(token)])

    assert await socket.closed_with() == 4401
    assert not await User.objects.filter(application=app).aexists()


@pytest.mark.usefixtures("channel_layer")
async def test_a_deactivated_apps_tokens_are_refused(open_socket):
    app, key = await database_sync_to_async(app_with_key)("ed25519")
    app.is_active = False
    await app.asave()
    socket = await open_socket(
        [ORIGIN, bearer(app_token(app.app_id, "u1", key, "EdDSA"))]
    )
    assert await socket.closed_with() == 4401


def test_a_public_key_cannot_be_used_as_an_hmac_secret():
    """The algorithm-confusion attack: HS256 'signed' with the app's public key."""
    _, public_pem = key_pair("ed25519")
    app = ApplicationFactory(public_key=public_pem)

    # PyJWT will not sign this itself, so build the token by hand.
    def part(obj) -> str:
        raw = json.dumps(obj, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    claims = {"iss": app.app_id, "sub": "root", "exp": int(time.time()) + 600}
    signing_input = part({"alg": "HS256", "typ": "JWT"}) + "." + part(claims)
    mac = hmac.new(public_pem.encode(), signing_input.encode(), hashlib.sha256)
    signature = base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()
    forged = signing_input + "." + signature
    with pytest.raises(InvalidUserSig):
        usersig_verify(forged)


def test_the_same_user_id_in_two_apps_is_two_people():
    first, key1 = app_with_key("hmac")
    second, key2 = app_with_key("hmac")
    one = usersig_verify(app_token(first.app_id, "bob", key1, "HS256"))
    two = usersig_verify(app_token(second.app_id, "bob", key2, "HS256"))
    again = usersig_verify(app_token(first.app_id, "bob", key1, "HS256"))
    assert one.pk != two.pk
    assert again.pk == one.pk
    assert one.handle == two.handle == "bob"
