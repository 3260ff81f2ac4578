"""Pages: the signed-in user's call history, with missed calls marked."""

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from accounts.models import User
from calls.models import Call
from calls.selectors import calls_of_user_marked
from calls.services import calls_mark_seen

CALLS_PER_PAGE = 25


def duration_text(seconds: int) -> str:
    """m:ss — minutes are not wrapped into hours."""
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes}:{seconds:02d}"


def call_outcome(call: Call, *, missed: bool) -> str:
    """How the call went, as one short sentence from the viewer's side."""
    if call.state == Call.State.RINGING:
        return _("Ringing")
    if call.state == Call.State.ACTIVE:
        return _("In progress")
    if missed:
        return _("Missed")
    if call.is_invitation and call.answered_at is not None:
        return _("Joined")
    if call.end_reason == Call.EndReason.HANGUP:
        return _("Answered · %(duration)s") % {
            "duration": duration_text(call.duration_s)
        }
    # The other reasons' labels already read as outcomes: "no answer", "busy", …
    return capfirst(call.get_end_reason_display())


@dataclass(frozen=True)
class HistoryRow:
    call: Call
    outgoing: bool
    peer: User
    missed: bool
    new: bool  # missed since the user last opened this page
    outcome: str
    duration: str


def _history_row(call: Call, *, user: User) -> HistoryRow:
    outgoing = call.caller_id == user.pk
    return HistoryRow(
        call=call,
        outgoing=outgoing,
        peer=call.callee if outgoing else call.caller,
        missed=call.missed,
        new=call.unseen,
        outcome=call_outcome(call, missed=call.missed),
        duration=duration_text(call.duration_s),
    )


@login_required
def call_history(request: HttpRequest) -> HttpResponse:
    user = request.user
    calls = calls_of_user_marked(user=user)
    page = Paginator(calls, CALLS_PER_PAGE).get_page(request.GET.get("page"))
    # Rows are built (and new missed calls picked out) before the visit is recorded.
    rows = [_history_row(call, user=user) for call in page]
    calls_mark_seen(user=user)
    return render(request, "calls/history.html", {"page": page, "rows": rows})
