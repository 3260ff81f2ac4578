"""Reads for calls: a user's history, one call, missed calls."""

from django.db.models import Q, QuerySet

from accounts.models import User
from calls.models import Call


def calls_of_user(*, user: User) -> QuerySet[Call]:
    """Every call the user made or received, newest first."""
    return (
        Call.objects.filter(Q(caller=user) | Q(callee=user))
        .select_related("caller", "callee")
        .order_by("-created_at")
    )


def call_of_party(*, user: User, call_id: str) -> Call | None:
    """The call with this id if `user` is one of its two parties, else None."""
    return calls_of_user(user=user).filter(call_id=call_id).first()


def missed_calls(*, user: User) -> QuerySet[Call]:
    """Incoming calls the user never answered and did not reject themselves."""
    return Call.objects.filter(
        callee=user,
        state=Call.State.ENDED,
        answered_at__isnull=True,
        end_reason__in=Call.MISSED_REASONS,
    )


def missed_calls_unseen_count(*, user: User) -> int:
    """Missed calls since the user last opened their call history."""
    missed = missed_calls(user=user)
    if user.calls_seen_at is not None:
        missed = missed.filter(created_at__gt=user.calls_seen_at)
    return missed.count()
