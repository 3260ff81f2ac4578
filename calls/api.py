"""API for signed-in users: their own call history (the bills), one call at a time
or a page at a time, always from the requester's side of the call; and fresh ICE
servers (TURN credentials) for calls that outlive the ones `hello` gave."""

from typing import Literal

from django.db.models import QuerySet
from ninja import Field, Router, Schema
from ninja.pagination import PageNumberPagination, paginate

from accounts.api import USER_AUTH, UserOut
from accounts.models import User
from calls.ice import ice_servers_for, ice_servers_ttl
from calls.models import Call
from calls.protocol import IceServer
from calls.schemas import CallBill
from calls.selectors import calls_of_user_marked
from config.errors import ApiError

router = Router(tags=["calls"])

AUTH = USER_AUTH


class CallOut(CallBill):
    """A bill as one of its parties sees it."""

    direction: Literal["outgoing", "incoming"] = Field(
        description="From the requester's side: `outgoing` if they placed the call."
    )
    peer: UserOut = Field(description="The other party: not the requester.")
    missed: bool = Field(
        description="An incoming call the requester never answered nor rejected."
    )

    @staticmethod
    def resolve_direction(obj: Call, context) -> str:
        return "outgoing" if obj.caller_id == context["request"].user.pk else "incoming"

    @staticmethod
    def resolve_peer(obj: Call, context) -> User:
        return obj.callee if obj.caller_id == context["request"].user.pk else obj.caller


def _calls_seen_by(user: User) -> QuerySet[Call]:
    # `missed` is answered by the selector that the missed-calls badge counts with,
    # so the API, the badge and the history page cannot disagree.
    return calls_of_user_marked(user=user)


@router.get("/calls", response=list[CallOut], auth=AUTH)
@paginate(PageNumberPagination, page_size=20)
def call_list(request, missed: bool = False):
    """The requester's calls, newest first; `missed=true` for missed calls only."""
    calls = _calls_seen_by(request.user)
    if missed:
        calls = calls.filter(missed=True)
    return calls


@router.get("/calls/{call_id}", response=CallOut, auth=AUTH)
def call_detail(request, call_id: str):
    """One of the requester's calls. Other people's calls are not found."""
    call = _calls_seen_by(request.user).filter(call_id=call_id).first()
    if call is None:
        raise ApiError(404, "call_not_found", "No such call.")
    return call


class IceServersOut(Schema):
    ice_servers: list[IceServer]
    ice_servers_ttl: int | None = Field(
        description="Seconds the TURN credentials stay valid; null if none expire."
    )


@router.get("/ice-servers", response=IceServersOut, auth=AUTH)
def ice_servers(request):
    """The requester's ICE servers with new TURN credentials, as in `hello`."""
    return {
        "ice_servers": ice_servers_for(username=request.user.username),
        "ice_servers_ttl": ice_servers_ttl(),
    }
