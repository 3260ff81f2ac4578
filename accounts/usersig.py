"""User tokens (userSig): signed JWTs that let a socket or an API call act as a user.

Parley's own: claims `iss` (this server's issuer), `sub` (the username), `iat` and
`exp`, signed HS256 under a key derived from SECRET_KEY, so rotating SECRET_KEY
revokes every token.

An application's own (seed 002: the app backend signs with its private key): `iss`
is the app id, `sub` the app's user id, `exp` required; signed EdDSA or ES256 with the
private half of the app's registered public key, or HS256 with its HMAC secret. The
user is created the first time a token names them.
"""

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import jwt
from django.conf import settings

from accounts.models import Application, User
from accounts.services import InvalidExternalId, app_user_get_or_create

ALGORITHM = "HS256"


class InvalidUserSig(Exception):
    """The token is malformed, tampered, expired, from another issuer or for nobody."""


def _signing_key() -> bytes:
    return hmac.new(
        settings.SECRET_KEY.encode(), b"parley.usersig.v1", hashlib.sha256
    ).digest()


def usersig_issue(
    *, user: User, ttl: int | None = None, now: datetime | None = None
) -> str:
    """Sign a token for `user` that expires `ttl` seconds from `now`."""
    ttl = settings.USERSIG_DEFAULT_TTL if ttl is None else ttl
    if ttl <= 0:
        raise ValueError("ttl must be positive")
    now = now or datetime.now(UTC)
    claims = {
        "iss": settings.USERSIG_ISSUER,
        "sub": user.get_username(),
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=ttl)).timestamp()),
    }
    return jwt.encode(claims, _signing_key(), algorithm=ALGORITHM)


def usersig_verify(token: str) -> User:
    """Return the active user a token names, or raise InvalidUserSig."""
    try:
        issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
    except jwt.PyJWTError as exc:
        raise InvalidUserSig(str(exc)) from exc
    if issuer != settings.USERSIG_ISSUER:
        return _app_token_user(token, issuer)
    try:
        claims = jwt.decode(
            token,
            _signing_key(),
            algorithms=[ALGORITHM],
            issuer=settings.USERSIG_ISSUER,
            options={"require": ["iss", "sub", "iat", "exp"]},
        )
    except jwt.PyJWTError as exc:
        raise InvalidUserSig(str(exc)) from exc
    user = User.objects.filter(username=claims["sub"], is_active=True).first()
    if user is None:
        raise InvalidUserSig("no such active user")
    return user


def _app_token_user(token: str, issuer: object) -> User:
    app = Application.objects.filter(app_id=str(issuer), is_active=True).first()
    if app is None:
        raise InvalidUserSig("unknown issuer")
    try:
        algorithm = jwt.get_unverified_header(token).get("alg")
        # The key follows from the algorithm the app registered a key for; never the
        # other way round (no HS256 "signed" with a public key).
        key = app.token_keys().get(algorithm)
        if key is None:
            raise InvalidUserSig(f"the app has no key for {algorithm!r} tokens")
        claims = jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            issuer=app.app_id,
            options={"require": ["iss", "sub", "exp"]},
        )
    except jwt.PyJWTError as exc:
        raise InvalidUserSig(str(exc)) from exc
    try:
        user = app_user_get_or_create(application=app, user_id=str(claims["sub"]))
    except InvalidExternalId as exc:
        raise InvalidUserSig(str(exc)) from exc
    if not user.is_active:
        raise InvalidUserSig("no such active user")
    return user


def bearer_token(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The token of an `Authorization: Bearer …` header, if the request has one."""
    for name, value in headers:
        if name.lower() == b"authorization":
            scheme, _, token = value.decode("latin1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    return None


def socket_user(scope: dict) -> User | None:
    """Who opened a socket: a bearer token, else the session (browser origins only).

    None when neither is present; InvalidUserSig when a bearer token is bad (a wrong
    token never falls back to the session).
    """
    token = bearer_token(scope.get("headers", []))
    if token is not None:
        return usersig_verify(token)
    user = scope.get("user")
    if (
        scope.get("cookie_auth_allowed", True)
        and user is not None
        and user.is_authenticated
    ):
        return user
    return None
