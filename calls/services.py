"""Writes for calls. Every call event goes through here.

Each function locks the call's bill row, runs one event through the pure machine in
calls.state, stores the result and returns an Outcome: the frames to deliver to which
devices, when the call must next be looked at, and an error for the requester.
Delivering is calls.delivery's job, so these stay synchronous and testable.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from django.conf import settings
from django.db import IntegrityError, router, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from accounts.models import Device, User
from accounts.selectors import (
    live_device_ids,
    live_devices_of,
    user_by_handle,
    users_by_handle,
)
from appserver import events
from calls import protocol
from calls import state as machine
from calls.models import Call, LiveParty
from calls.policy import call_allowed
from calls.state import CallError, CallState, Transition
from config.compiled import (
    CompiledDelete,
    CompiledInsert,
    CompiledQuery,
    CompiledUpdate,
    Param,
    any_of,
)
from rooms.models import Room
from rooms.services import RoomError, room_open


@dataclass(frozen=True)
class Delivery:
    """One frame for one device. `joins`/`leaves` tell that device's socket which
    call it is now in or out of (for relaying `call.signal` without a query)."""

    device: str
    frame: protocol.ServerFrame
    joins: tuple[str, str] | None = None  # (call_id, peer device)
    leaves: str | None = None  # call_id


@dataclass
class Outcome:
    deliveries: list[Delivery] = field(default_factory=list)
    wake_at: list[float] = field(default_factory=list)
    error: CallError | None = None
    call_id: str | None = None

    def add(self, other: "Outcome") -> "Outcome":
        self.deliveries += other.deliveries
        self.wake_at += other.wake_at
        self.error = other.error or self.error
        self.call_id = other.call_id or self.call_id
        return self


def _failed(slug: str, message: str) -> Outcome:
    return Outcome(error=CallError(slug, message))


# --- model ⇄ machine state ---------------------------------------------------------------


def _ts(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


def _dt(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value is not None else None


def _state_of(call: Call) -> CallState:
    return CallState(
        call_id=call.call_id,
        caller=call.caller_id,
        callee=call.callee_id,
        caller_device=call.caller_device,
        media=call.media,
        flags=call.flags,
        user_data=call.user_data,
        created_at=call.created_at.timestamp(),
        ring_deadline=_ts(call.ring_deadline) or call.created_at.timestamp(),
        status=call.state,
        ringing_devices=tuple(call.ringing_devices),
        answer_device=call.answer_device or None,
        answered_at=_ts(call.answered_at),
        ended_at=_ts(call.ended_at),
        end_reason=call.end_reason or None,
        gone=tuple((device, deadline) for device, deadline in call.gone),
    )


def _store(call: Call, state: CallState) -> None:
    values = {
        "state": state.status,
        "caller_device": state.caller_device,
        "ringing_devices": list(state.ringing_devices),
        "answer_device": state.answer_device or "",
        "answered_at": _dt(state.answered_at),
        "ended_at": _dt(state.ended_at),
        "end_reason": state.end_reason or "",
        "end_code": machine.END_CODES[state.end_reason] if state.end_reason else None,
        "gone": [list(entry) for entry in state.gone],
        "gone_deadline": _dt(state.gone_deadline),
    }
    if call.pk is None:
        for name, value in values.items():
            setattr(call, name, value)
        [call.pk] = _INSERT_CALL.run(
            **{field.attname: getattr(call, field.attname) for field in _COLUMNS}
        )
        call._state.adding = False  # as save() leaves it
        call._state.db = router.db_for_write(Call)
    else:
        # The UPDATE names only the columns this step changed (a call setup's ORM
        # time is what bounds P5 in docs/performance.md).
        changed = tuple(
            name for name, value in values.items() if getattr(call, name) != value
        )
        for name in changed:
            setattr(call, name, values[name])
        if changed:
            _UPDATE_CALL.run(shape=changed, pk=call.pk, **values)
    if not state.live:
        _DELETE_PARTIES.run(call=call.pk)


# The statements every call setup runs, compiled once per connection
# (config/compiled.py): the ORM's time writing their SQL bounded P5.
_UPDATE_CALL = CompiledUpdate(
    lambda *fields: (
        Call.objects.filter(pk=Param("pk")),
        {name: Param(name, Call._meta.get_field(name)) for name in fields},
    )
)
_COLUMNS = [field for field in Call._meta.concrete_fields if not field.primary_key]
_INSERT_CALL = CompiledInsert(
    lambda: (Call, [{field.attname: Param(field.attname, field) for field in _COLUMNS}])
)
# A call's people (one, for a group call invitation), in one INSERT.
_INSERT_PARTIES = CompiledInsert(
    lambda count: (
        LiveParty,
        [
            {"user_id": Param("users", index=i), "call_id": Param("call")}
            for i in range(count)
        ],
    )
)
_DELETE_PARTIES = CompiledDelete(
    lambda: LiveParty.objects.filter(call_id=Param("call"))
)
# The call found by one unique column, its row locked, with both people (no ORDER
# BY: `.first()` would sort by the model's ordering). A group call invitation reads
# its room when it needs it: joining every call to the rooms table cost each lookup a
# tenth of its time.
_LOCKED = CompiledQuery(
    lambda column: (
        Call.objects.select_for_update(of=("self",))
        .select_related("caller", "callee")
        .filter(**{column: Param("key")})
        .order_by()[:1]
    )
)
# The live call of each of two people (one person: given twice).
_LIVE_CALLS = CompiledQuery(
    lambda: (
        LiveParty.objects.filter(any_of("user_id", "users", 2))
        .order_by()
        .values_list("user_id", "call_id")
    )
)


def _frame(
    state: CallState,
    send: machine.Send,
    users: dict[int, User],
    room: protocol.RoomRef | None = None,
):
    """The protocol frame for one Send effect, and its joins/leaves note. `room` is
    the room of a group call invitation."""
    kind = send.kind
    if kind == "call.ringing":
        callee = protocol.UserInfo.of(users[state.callee])
        frame = protocol.CallRinging(
            call_id=state.call_id,
            callee=callee,
            media=state.media,
            flags=state.flags,
            room=room,
        )
        return frame, None, None
    if kind == "call.incoming":
        caller = protocol.UserInfo.of(users[state.caller])
        return (
            protocol.CallIncoming(
                call_id=state.call_id,
                caller=caller,
                media=state.media,
                flags=state.flags,
                user_data=state.user_data,
                room=room,
            ),
            None,
            None,
        )
    if kind == "call.started":
        peer_user = users[state.caller if send.peer == "caller" else state.callee]
        peer_device = (
            state.caller_device if send.peer == "caller" else state.answer_device
        )
        peer = protocol.PeerInfo(
            **protocol.UserInfo.of(peer_user).model_dump(), device_id=peer_device
        )
        frame = protocol.CallStarted(
            call_id=state.call_id,
            room_id=room.room_id if room else state.call_id,
            peer=peer,
            polite=bool(send.polite),
            media=state.media,
            flags=state.flags,
            group=room is not None,
        )
        if room is not None:  # the media goes through the room, not this call
            return frame, None, state.call_id
        return frame, (state.call_id, peer_device), None
    if kind == "call.answered_elsewhere":
        return protocol.CallAnsweredElsewhere(call_id=state.call_id), None, None
    if kind == "call.ended":
        frame = protocol.CallEnded(
            call_id=state.call_id,
            reason=state.end_reason,
            code=machine.END_CODES[state.end_reason],
            duration_s=state.duration_s,
        )
        return frame, None, state.call_id
    raise ValueError(f"unknown effect {kind}")


def _outcome(call: Call, transition: Transition) -> Outcome:
    """Store a transition of `call` and turn its effects into deliveries."""
    if transition.changed:
        was = call.state
        _store(call, transition.state)
        events.call_changed(call, was=was)
    users = {call.caller_id: call.caller, call.callee_id: call.callee}
    room = _room_ref(call) if transition.effects else None
    deliveries = []
    for send in transition.effects + _ended_elsewhere(call, transition):
        if not send.device:  # an inviter without a socket (the server API)
            continue
        frame, joins, leaves = _frame(transition.state, send, users, room)
        deliveries.append(Delivery(send.device, frame, joins, leaves))
    wake = transition.state.next_wake()
    return Outcome(
        deliveries=deliveries,
        wake_at=[wake] if wake is not None else [],
        error=transition.error,
        call_id=call.call_id,
    )


def _ended_elsewhere(call: Call, transition: Transition) -> tuple[machine.Send, ...]:
    """`call.ended` of an answered call for the parties' other open sockets too.

    A party whose process died reconnects on a new socket (to another process)
    before its old one is known to be gone, so the call does not know the new one;
    told here, that page stops showing the call. Sockets that were never in the call
    ignore a `call.ended` for a call that is not theirs.
    """
    told = {send.device for send in transition.effects if send.kind == "call.ended"}
    if not told or transition.state.answered_at is None:
        return ()
    devices = live_devices_of(users=[call.caller_id, call.callee_id])
    others = [d for ds in devices.values() for d in ds if d not in told]
    return tuple(machine.Send(device, "call.ended") for device in others)


def _room_ref(call: Call) -> protocol.RoomRef | None:
    if not call.is_invitation:
        return None
    room = call.room
    return protocol.RoomRef(
        room_id=room.room_id if room else "",
        name=call.room_name,
        members=room.members.count() if room else 0,
    )


def _locked(*, pk: int | None = None, call_id: str | None = None) -> Call | None:
    """The call with primary key `pk` or id `call_id`, its row locked, with both
    people."""
    if pk is not None:
        return _LOCKED.first(shape=("pk",), key=pk)
    return _LOCKED.first(shape=("call_id",), key=call_id)


def _live_calls(*users: User) -> dict[int, int]:
    """The live call (pk) of each of `users` (one or two) who is in one, by user pk:
    one query."""
    pks = [user.pk for user in users]
    return dict(_LIVE_CALLS.all(users=(pks[0], pks[-1])))


def _live_call_id(user: User) -> int | None:
    return _live_calls(user).get(user.pk)


def _step(call_pk: int, event: Callable[[CallState], Transition]) -> Outcome:
    """Run one event on the call with primary key `call_pk`, under its row lock."""
    with transaction.atomic():
        call = _locked(pk=call_pk)
        if call is None:
            return Outcome()
        return _outcome(call, event(_state_of(call)))


# --- events -------------------------------------------------------------------------------


def call_invite(
    *,
    caller: User,
    caller_device: str,
    callee_username: str,
    media: str,
    flags: int = 0,
    user_data: str = "",
) -> Outcome:
    """`caller` (on `caller_device`) calls `callee_username`.

    Always writes a bill, whatever happens (offline, busy, denied included), except
    when the request itself is wrong (no such user, yourself, already in a call).
    Glare — the callee is ringing the caller right now — answers that call instead.
    """
    callee = user_by_handle(
        handle=callee_username, application_id=caller.application_id
    )
    if callee is None:
        return _failed("user_not_found", f"No user named {callee_username!r}.")
    if callee.pk == caller.pk:
        return _failed("cannot_call_self", "You cannot call yourself.")
    now = time.time()
    live = _live_calls(caller, callee)
    outcome = _tick_live_calls(live, now=now)
    placed = _settled(
        lambda retry: _invite_once(
            caller,
            caller_device,
            callee,
            media,
            flags,
            user_data,
            now,
            # Neither in a call: the tick changed nothing, so the first try uses what
            # was just read. A tick may have ended a call, and a retry means another
            # process put one of them in a call: those read again.
            live=None if (retry or live) else live,
        )
    )
    if placed is None:
        return outcome.add(_failed("already_in_call", "Try again in a moment."))
    return outcome.add(placed)


def _tick_live_calls(live: dict[int, int], *, now: float) -> Outcome:
    """Deadlines are enforced from the stored times too, not only by timers: end the
    overdue ones of the `live` calls (by user, from _live_calls) before their people
    are looked at as busy."""
    outcome = Outcome()
    for call_pk in dict.fromkeys(live.values()):
        outcome.add(_step(call_pk, lambda s: machine.tick(s, now=now)))
    return outcome


def _settled(attempt: Callable[[bool], Outcome], tries: int = 3) -> Outcome | None:
    """Run `attempt` in a transaction; when another process put one of its people
    in a call meanwhile (a unique constraint), look again: `attempt(retry=True)`.
    None if it never settles."""
    for attempt_no in range(tries):
        try:
            with transaction.atomic():
                return attempt(attempt_no > 0)
        except IntegrityError:
            continue
    return None


def _invite_once(
    caller, caller_device, callee, media, flags, user_data, now, live
) -> Outcome:
    """`live`: the two people's live calls (_live_calls), or None to read them."""
    if live is None:
        live = _live_calls(caller, callee)
    mine = live.get(caller.pk)
    if mine is not None:
        call = _locked(pk=mine)
        state = _state_of(call)
        if state.status == machine.RINGING and (state.caller, state.callee) == (
            callee.pk,
            caller.pk,
        ):
            # Glare: both called each other. The later invite answers the earlier call,
            # so both sides end up in the same, single call.
            return _outcome(
                call,
                machine.accept(state, user=caller.pk, device=caller_device, now=now),
            )
        return _failed("already_in_call", "You are already in a call.")
    busy = callee.pk in live
    return _new_call(
        caller, caller_device, callee, media, flags, user_data, now, busy=busy
    )


def _new_call(
    caller, caller_device, callee, media, flags, user_data, now, room=None, busy=None
) -> Outcome:
    """A new bill: it rings the callee, or ends at once (denied, busy, offline).

    With `room`, it is a group call invitation into that room. `busy`: whether the
    callee is in a live call, when the caller has just read it.
    """
    denied = not call_allowed(
        caller=caller, callee=callee, media=media, flags=flags, user_data=user_data
    )
    if busy is None:
        busy = LiveParty.objects.filter(user=callee).exists()
    transition = machine.invite(
        call_id=Call._meta.get_field("call_id").default(),
        caller=caller.pk,
        caller_device=caller_device,
        callee=callee.pk,
        callee_devices=tuple(live_device_ids(user=callee)),
        media=media,
        flags=flags,
        user_data=user_data,
        now=now,
        ring_timeout=settings.CALL_RING_TIMEOUT,
        busy=busy,
        denied=denied,
    )
    state = transition.state
    call = Call(
        call_id=state.call_id,
        caller=caller,
        callee=callee,
        media=media,
        flags=state.flags,
        user_data=user_data,
        created_at=_dt(now),
        ring_deadline=_dt(state.ring_deadline),
        room=room,
        room_name=room.name if room else "",
    )
    _store(call, state)
    events.call_changed(call, was=None)
    if state.live:
        # Always in the same order (by user id), so two invites between the same two
        # people wait for each other instead of deadlocking; the second then sees
        # glare or busy on its retry. An inviter is not held busy by invitations.
        parties = [callee] if room else sorted((caller, callee), key=lambda u: u.pk)
        _INSERT_PARTIES.run(
            shape=(len(parties),), users=[u.pk for u in parties], call=call.pk
        )
    # Already stored above (a new row needs its LiveParty rows after it).
    return _outcome(call, replace(transition, changed=False))


def room_invite(
    *, room_id: str, by: User, by_device: str, usernames: list[str], media: str
) -> tuple[Outcome, list[dict]]:
    """`by` (on `by_device`, or "" for the server API) rings people into a room: one
    group call invitation each, which rings, is busy, offline, answered or declined
    exactly as a call is. Returns the outcome and `[{user, call_id}]`.

    Refused as a whole, with nobody rung, when the room is not open, the inviter is
    not in it (or not its owner, if only the owner invites), a name is unknown, or
    the invitees would not fit in the room.
    """
    try:
        room = room_open(room_id=room_id, application_id=by.application_id)
    except RoomError as error:
        return _failed(error.slug, error.message), []
    members = dict(room.members.values_list("member_id", "user_id"))
    if by_device and by_device not in members:
        return _failed("not_in_room", "Enter the room before inviting people."), []
    if room.inviters == Room.Inviters.OWNER and by.pk != room.owner_id:
        return _failed("not_room_owner", "Only the room's owner invites people."), []
    names = list(dict.fromkeys(usernames))
    found = users_by_handle(handles=names, application_id=by.application_id)
    for name in names:
        if name not in found:
            return _failed("user_not_found", f"No user named {name!r}."), []
        if found[name].pk == by.pk:
            return _failed("cannot_call_self", "You cannot invite yourself."), []
        if found[name].pk in members.values():
            return _failed("already_in_room", f"{name} is in the room already."), []
    room_left = room.member_cap - len(members)
    if len(names) > room_left:
        return _failed(
            "room_full", f"The room has space for {max(room_left, 0)} more."
        ), []
    now = time.time()
    outcome, invitations = Outcome(), []
    for name in names:
        callee = found[name]
        outcome.add(_tick_live_calls(_live_calls(callee), now=now))
        rung = _settled(
            lambda _retry, callee=callee: _new_call(
                by, by_device, callee, media, 0, "", now, room
            )
        )
        if rung is None:
            continue  # never settled: this invitee is left out of the answer
        outcome.add(rung)
        invitations.append({"user": name, "call_id": rung.call_id})
    return outcome, invitations


_ACTIONS = {
    "accept": machine.accept,
    "reject": machine.reject,
    "cancel": machine.cancel,
    "hangup": machine.hangup,
}


def call_act(*, action: str, call_id: str, user: User, device_id: str) -> Outcome:
    """A party's move on a call: accept, reject, cancel or hang up."""
    event = _ACTIONS[action]
    now = time.time()
    with transaction.atomic():
        call = _locked(call_id=call_id)
        if call is None or user.pk not in (call.caller_id, call.callee_id):
            return _failed("call_not_found", "No such call.")
        transition = event(_state_of(call), user=user.pk, device=device_id, now=now)
        if call.is_invitation and transition.state.status == machine.ACTIVE:
            # Answered: the invitee goes into the room; the invitation is done.
            transition = transition.then(machine.joined(transition.state, now=now))
        return _outcome(call, transition)


def call_force_end(*, call_id: str) -> Outcome:
    """End a live call `forced` (100108): Django admin and the server API."""
    now = time.time()
    with transaction.atomic():
        call = _locked(call_id=call_id)
        if call is None:
            return _failed("call_not_found", "No such call.")
        return _outcome(call, machine.force_end(_state_of(call), now=now))


def calls_device_gone(*, user: User, device_id: str) -> Outcome:
    """A socket of `user` closed: its call, if any, gives it a grace period."""
    live = _live_call_id(user)
    if live is None:
        return Outcome()
    now = time.time()
    grace = settings.CALL_DISCONNECT_GRACE
    return _step(
        live,
        lambda s: machine.device_gone(
            s, user=user.pk, device=device_id, now=now, grace=grace
        ),
    )


def calls_device_back(*, user: User, device_id: str) -> Outcome:
    """A new socket of `user`: it rings if they are being called, and takes back a
    call one of their sockets lost."""
    live = _live_call_id(user)
    if live is None:
        return Outcome()
    now = time.time()
    return _step(
        live, lambda s: machine.device_back(s, user=user.pk, device=device_id, now=now)
    )


def calls_tick_due(*, now: float | None = None) -> Outcome:
    """End every call whose ring deadline or reconnect grace has passed."""
    now = time.time() if now is None else now
    due = Call.objects.filter(
        Q(state=Call.State.RINGING, ring_deadline__lte=_dt(now))
        | Q(state__in=Call.LIVE_STATES, gone_deadline__lte=_dt(now))
    ).values_list("pk", flat=True)
    outcome = Outcome()
    for pk in list(due):
        outcome.add(_step(pk, lambda s: machine.tick(s, now=now)))
    outcome.error = None
    return outcome


def calls_reap_orphans() -> Outcome:
    """Live calls whose party device has no socket row any more (its process died and
    its rows were swept) get the same grace as a closed socket."""
    outcome = Outcome()

    # The database finds the few calls with such a party: loading every live call and
    # every device each beat held the interpreter for most of a second at 500 calls,
    # and stalled every socket of the process with it (docs/performance.md).
    def gone(field: str) -> Exists:
        return ~Exists(Device.objects.filter(device_id=OuterRef(field)))

    live = (
        Call.objects.filter(state__in=Call.LIVE_STATES)
        .annotate(caller_gone=gone("caller_device"), answer_gone=gone("answer_device"))
        .filter(
            (~Q(caller_device="") & Q(caller_gone=True))
            | (~Q(answer_device="") & Q(answer_gone=True))
        )
    )
    for call in live.select_related("caller", "callee"):
        already = {device for device, _ in call.gone}
        for user, device, missing in (
            (call.caller, call.caller_device, call.caller_gone),
            (call.callee, call.answer_device, call.answer_gone),
        ):
            if device and missing and device not in already:
                outcome.add(calls_device_gone(user=user, device_id=device))
    return outcome


def calls_mark_seen(*, user: User) -> None:
    """The user has looked at their call history: the missed-calls badge starts over."""
    user.calls_seen_at = timezone.now()
    user.save(update_fields=["calls_seen_at"])
