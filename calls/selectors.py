"""Reads for calls: a user's history, one call, missed calls."""

from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts.models import User
from calls.models import Call


def calls_of_user(*, user: User) -> QuerySet[Call]:
    """Every call the user made or received, newest first."""
    return (
        Call.objects.filter(Q(caller=user) | Q(callee=user))
        .select_related("caller", "callee", "room")
        .order_by("-created_at", "-pk")
    )


def calls_of_user_marked(*, user: User) -> QuerySet[Call]:
    """calls_of_user, each annotated with `missed` (by the user) and `unseen` (missed
    since the user last opened their history)."""
    return calls_of_user(user=user).annotate(
        missed=Exists(missed_calls(user=user).filter(pk=OuterRef("pk"))),
        unseen=Exists(missed_calls_unseen(user=user).filter(pk=OuterRef("pk"))),
    )


def missed_calls(*, user: User) -> QuerySet[Call]:
    """Incoming calls the user never answered and did not reject themselves."""
    return Call.objects.filter(
        callee=user,
        state=Call.State.ENDED,
        answered_at__isnull=True,
        end_reason__in=Call.MISSED_REASONS,
    )


def missed_calls_unseen(*, user: User) -> QuerySet[Call]:
    """Missed calls that ended since the user last opened their call history (a call
    ringing while they looked counts once it is missed)."""
    missed = missed_calls(user=user)
    if user.calls_seen_at is not None:
        missed = missed.filter(ended_at__gt=user.calls_seen_at)
    return missed


def missed_calls_unseen_count(*, user: User) -> int:
    return missed_calls_unseen(user=user).count()
