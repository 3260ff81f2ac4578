"""The call policy hook (AnyChat's server veto): CALL_POLICY names a callable that
decides whether a call may ring. Refused calls end `denied` (100107)."""

from django.conf import settings
from django.utils.module_loading import import_string

from accounts.models import User


def allow_all(
    *, caller: User, callee: User, media: str, flags: int, user_data: str
) -> bool:
    """The default policy: every call may ring."""
    return True


def call_allowed(
    *, caller: User, callee: User, media: str, flags: int, user_data: str
) -> bool:
    policy = import_string(settings.CALL_POLICY)
    return bool(
        policy(
            caller=caller, callee=callee, media=media, flags=flags, user_data=user_data
        )
    )
