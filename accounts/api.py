"""API for signed-in users: their own user token, and who is online."""

from datetime import UTC, datetime, timedelta

from django.conf import settings
from ninja import Field, Query, Router, Schema
from ninja.security import HttpBearer, django_auth

from accounts import selectors
from accounts.usersig import InvalidUserSig, usersig_issue, usersig_verify
from config.errors import ApiError


class UserSigBearer(HttpBearer):
    """`Authorization: Bearer <userSig>`."""

    def authenticate(self, request, token):
        try:
            request.user = usersig_verify(token)
        except InvalidUserSig:
            return None
        return request.user


# Signed-in users: a session (with its CSRF token for writes) or a bearer userSig.
USER_AUTH = [UserSigBearer(), django_auth]


class UserOut(Schema):
    """A person as the API shows them."""

    id: int
    username: str
    display_name: str = Field(description="The user's display name, or username.")

    @staticmethod
    def resolve_username(obj) -> str:
        return obj.handle

    @staticmethod
    def resolve_display_name(obj) -> str:
        return obj.shown_name


router = Router(tags=["accounts"])


class UserSigIn(Schema):
    ttl: int | None = Field(
        default=None,
        gt=0,
        description="Lifetime in seconds (default USERSIG_DEFAULT_TTL).",
    )


class UserSigOut(Schema):
    user_sig: str
    username: str
    expires_at: datetime


def usersig_answer(user, ttl: int | None) -> dict:
    """A fresh token for `user`: the answer of POST /api/usersig and the server API's."""
    ttl = ttl or settings.USERSIG_DEFAULT_TTL
    if ttl > settings.USERSIG_MAX_TTL:
        raise ApiError(
            422,
            "ttl_too_long",
            f"ttl may be at most {settings.USERSIG_MAX_TTL} seconds.",
        )
    now = datetime.now(UTC)
    return {
        "user_sig": usersig_issue(user=user, ttl=ttl, now=now),
        "username": user.handle,
        "expires_at": now + timedelta(seconds=ttl),
    }


@router.post("/usersig", response=UserSigOut, auth=django_auth)
def usersig_create(request, body: UserSigIn | None = None):
    """A user token (userSig) for the signed-in user, for sockets and bots."""
    return usersig_answer(request.user, body.ttl if body else None)


class UsersStateQuery(Schema):
    usernames: str = Field(description="Comma-separated usernames, at most 100.")


class UserStateOut(Schema):
    username: str
    state: str = Field(description="`online` or `offline`.")


class UsersStateOut(Schema):
    users: list[UserStateOut]
    unknown: list[str] = Field(description="Asked names that are not active users.")


@router.get("/users/state", response=UsersStateOut, auth=USER_AUTH)
def users_state(request, query: Query[UsersStateQuery]):
    """Online or offline, for each named user."""
    names = list(
        dict.fromkeys(n.strip() for n in query.usernames.split(",") if n.strip())
    )
    if not names:
        raise ApiError(422, "no_usernames", "Name at least one user.")
    if len(names) > 100:
        raise ApiError(422, "too_many_usernames", "Ask for at most 100 users at once.")
    states = selectors.users_online_state(
        handles=names, application_id=request.user.application_id
    )
    return {
        "users": [
            {"username": n, "state": s} for n, s in states.items() if s is not None
        ],
        "unknown": [n for n, s in states.items() if s is None],
    }
