"""User tokens (userSig): issued, verified, refused."""

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from django.core.management import CommandError, call_command

from accounts.usersig import InvalidUserSig, usersig_issue, usersig_verify

pytestmark = pytest.mark.django_db


def test_a_fresh_token_names_its_user(user):
    assert usersig_verify(usersig_issue(user=user)) == user


def test_the_token_carries_issuer_subject_issued_at_and_expiry(user):
    now = datetime(2030, 1, 1, tzinfo=UTC)
    token = usersig_issue(user=user, ttl=600, now=now)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims == {
        "iss": "parley",
        "sub": "alice",
        "iat": int(now.timestamp()),
        "exp": int(now.timestamp()) + 600,
    }


def test_an_expired_token_is_refused(user):
    token = usersig_issue(
        user=user, ttl=60, now=datetime.now(UTC) - timedelta(minutes=2)
    )
    with pytest.raises(InvalidUserSig, match="expired"):
        usersig_verify(token)


def test_a_tampered_token_is_refused(user, other_user):
    header, _, signature = usersig_issue(user=user).split(".")
    _, forged_body, _ = usersig_issue(user=other_user).split(".")
    with pytest.raises(InvalidUserSig):
        usersig_verify(f"{header}.{forged_body}.{signature}")


def test_a_token_from_another_issuer_is_refused(user, settings):
    settings.USERSIG_ISSUER = "elsewhere"
    token = usersig_issue(user=user)
    settings.USERSIG_ISSUER = "parley"
    with pytest.raises(InvalidUserSig):
        usersig_verify(token)


def test_a_token_signed_under_another_secret_is_refused(user, settings):
    token = usersig_issue(user=user)
    settings.SECRET_KEY = "another-secret-" * 4
    with pytest.raises(InvalidUserSig):
        usersig_verify(token)


def test_a_token_without_expiry_is_refused(user):
    from accounts.usersig import _signing_key

    token = jwt.encode(
        {"iss": "parley", "sub": "alice", "iat": 0}, _signing_key(), algorithm="HS256"
    )
    with pytest.raises(InvalidUserSig):
        usersig_verify(token)


def test_an_unsigned_token_is_refused(user):
    token = jwt.encode(
        {"iss": "parley", "sub": "alice", "iat": 0, "exp": 2**40},
        None,
        algorithm="none",
    )
    with pytest.raises(InvalidUserSig):
        usersig_verify(token)


def test_a_deactivated_users_token_is_refused(user):
    token = usersig_issue(user=user)
    user.is_active = False
    user.save()
    with pytest.raises(InvalidUserSig):
        usersig_verify(token)


def test_the_usersig_command_prints_a_working_token(user, capsys):
    call_command("usersig", "alice", "--ttl", "120")
    token = capsys.readouterr().out.strip()
    assert usersig_verify(token) == user
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 120


def test_the_usersig_command_refuses_unknown_users_and_bad_ttls(user):
    with pytest.raises(CommandError, match="No active user"):
        call_command("usersig", "nobody")
    with pytest.raises(CommandError, match="positive"):
        call_command("usersig", "alice", "--ttl", "0")
