from datetime import timedelta
from functools import cache

import factory
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from accounts.models import Application, User
from calls.models import Call
from rooms.models import Room

PASSWORD = "correct-horse-battery"


@cache
def _password_hash(preferred_hasher: str) -> str:
    return make_password(PASSWORD)  # by the preferred hasher


def password_hash() -> str:
    """PASSWORD hashed by the preferred hasher, once per hasher: a real PBKDF2 hash
    takes half a second, which was half of the suite's time when every person a test
    made hashed it again. Everyone made here shares one salt; tests only."""
    return _password_hash(settings.PASSWORD_HASHERS[0])


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.LazyAttribute(lambda u: u.username.capitalize())
    password = factory.LazyFunction(password_hash)


class CallFactory(factory.django.DjangoModelFactory):
    """A video call, answered five seconds in and hung up 2:31 later."""

    class Meta:
        model = Call

    caller = factory.SubFactory(UserFactory)
    callee = factory.SubFactory(UserFactory)
    media = Call.Media.VIDEO
    state = Call.State.ENDED
    end_reason = Call.EndReason.HANGUP
    end_code = 0
    created_at = factory.LazyFunction(lambda: timezone.now() - timedelta(minutes=5))
    answered_at = factory.LazyAttribute(lambda c: c.created_at + timedelta(seconds=5))
    ended_at = factory.LazyAttribute(
        lambda c: (
            c.answered_at + timedelta(seconds=151)
            if c.answered_at
            else c.created_at + timedelta(seconds=60)
        )
    )

    class Params:
        # Rung out unanswered: missed, for the callee.
        missed = factory.Trait(
            end_reason=Call.EndReason.TIMEOUT, end_code=100105, answered_at=None
        )
        rejected = factory.Trait(
            end_reason=Call.EndReason.REJECT, end_code=100104, answered_at=None
        )
        ringing = factory.Trait(
            state=Call.State.RINGING,
            end_reason="",
            end_code=None,
            answered_at=None,
            ended_at=None,
            ring_deadline=factory.LazyFunction(
                lambda: timezone.now() + timedelta(seconds=60)
            ),
        )


class RoomFactory(factory.django.DjangoModelFactory):
    """An open room without a password, last used just now."""

    class Meta:
        model = Room

    room_id = factory.Sequence(lambda n: f"room-{n}")
    name = factory.LazyAttribute(lambda r: r.room_id.replace("-", " ").capitalize())
    owner = factory.SubFactory(UserFactory)

    class Params:
        # Nobody used it for an hour longer than ROOM_IDLE_TTL (48 h by default).
        idle = factory.Trait(
            last_active_at=factory.LazyFunction(
                lambda: (
                    timezone.now() - timedelta(seconds=settings.ROOM_IDLE_TTL + 3600)
                )
            )
        )


class ApplicationFactory(factory.django.DjangoModelFactory):
    """An application with an API key; the key itself is on `.api_key` (tests only:
    the real one is shown once and never stored)."""

    class Meta:
        model = Application
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"App {n}")
    owner = factory.SubFactory(UserFactory)

    @factory.post_generation
    def api_key(app, create, extracted, **kwargs):
        app.api_key = app.set_new_key()
        if create:
            app.save(update_fields=["key_digest", "key_hint"])


def app_headers(app: Application) -> dict[str, str]:
    """The server API's credentials, as Django test client headers."""
    return {"X-App-Id": app.app_id, "X-App-Key": app.api_key}
