"""Applications in the admin: made with a key shown once, keys rotated, public keys
checked."""

import re

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.messages import get_messages
from django.test import Client

from accounts.models import Application
from tests.appserver.keys import key_pair
from tests.factories import ApplicationFactory, UserFactory

pytestmark = pytest.mark.django_db

ADD = "/admin/accounts/application/add/"
STATE = "/api/server/users/state"


def shown_key(answer) -> str:
    text = " ".join(str(m) for m in get_messages(answer.wsgi_request))
    return re.search(r"\bpk_[\w-]+", text).group(0)


def works(app: Application, key: str) -> bool:
    answer = Client().post(
        STATE,
        {"users": ["a"]},
        content_type="application/json",
        headers={"X-App-Id": app.app_id, "X-App-Key": key},
    )
    return answer.status_code == 200


def form(**fields) -> dict:
    owner = UserFactory(username="owner")
    return {
        "name": "Acme",
        "app_id": "app_acme",
        "owner": owner.pk,
        "is_active": "on",
        "public_key": "",
        "hmac_secret": "",
        "webhook_url": "",
        "webhook_secret": "a-webhook-secret",
        **fields,
    }


def test_adding_an_application_shows_its_key_once(admin_client):
    _, public_pem = key_pair("p256")
    answer = admin_client.post(ADD, form(public_key=public_pem), follow=True)
    assert answer.status_code == 200
    app = Application.objects.get(app_id="app_acme")
    key = shown_key(answer)
    assert works(app, key)
    assert (
        key
        not in admin_client.get(
            f"/admin/accounts/application/{app.pk}/change/"
        ).content.decode()
    )


def test_rotating_shows_a_new_key_and_retires_the_old(admin_client):
    app = ApplicationFactory()
    old = app.api_key
    answer = admin_client.post(
        "/admin/accounts/application/",
        {"action": "rotate_key", "_selected_action": [app.pk]},
        follow=True,
    )
    new = shown_key(answer)
    app.refresh_from_db()
    assert new != old
    assert works(app, new) and not works(app, old)


@pytest.mark.parametrize(
    ("fields", "complaint"),
    [
        ({"public_key": "not a key"}, "PEM public key"),
        ({"public_key": "rsa"}, "Ed25519 or ECDSA P-256"),
        ({"hmac_secret": "short"}, "at least 32"),
    ],
)
def test_a_bad_token_key_is_refused_by_the_form(admin_client, fields, complaint):
    if fields.get("public_key") == "rsa":
        pem = (
            rsa.generate_private_key(public_exponent=65537, key_size=2048)
            .public_key()
            .public_bytes(
                serialization.Encoding.PEM,
                serialization.PublicFormat.SubjectPublicKeyInfo,
            )
        )
        fields = {"public_key": pem.decode()}
    answer = admin_client.post(ADD, form(**fields))
    assert answer.status_code == 200  # the form again, with the error
    assert complaint in answer.content.decode()
    assert not Application.objects.exists()
