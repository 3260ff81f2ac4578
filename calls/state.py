"""The 1:1 call state machine, pure: (state, event, now) → new state, effects, error.

No Django, no asyncio, no I/O (the h11 way). calls.services loads a call, feeds it an
event here, stores the new state and hands the effects to the socket layer.

ringing ──accept──▶ active ──hangup / gone past grace / forced──▶ ended
   └──reject / cancel / ring timeout / gone past grace / forced──▶ ended

Times are plain floats (seconds since the epoch); users are ids; devices are ids.
"""

from dataclasses import dataclass, replace
from typing import Literal

RINGING, ACTIVE, ENDED = "ringing", "active", "ended"

# End reasons and codes (AnyChat's, kept; denied and forced added).
END_CODES: dict[str, int] = {
    "hangup": 0,
    "cancel": 100101,
    "offline": 100102,
    "busy": 100103,
    "reject": 100104,
    "timeout": 100105,
    "disconnect": 100106,
    "denied": 100107,
    "forced": 100108,
}

# Flags (AnyChat).
FLAG_AUDIO = 0x01
FLAG_VIDEO = 0x02
FLAG_FORBID_CALLER_AUDIO = 0x10
FLAG_FORBID_CALLER_VIDEO = 0x20
FLAG_FORBID_CALLEE_AUDIO = 0x40
FLAG_FORBID_CALLEE_VIDEO = 0x80


class CallError(Exception):
    """An event the call cannot take; `slug` is a protocol error slug."""

    def __init__(self, slug: str, message: str):
        super().__init__(message)
        self.slug = slug
        self.message = message


@dataclass(frozen=True)
class CallState:
    call_id: str
    caller: int
    callee: int
    caller_device: str
    media: str
    flags: int
    user_data: str
    created_at: float
    ring_deadline: float
    status: str = RINGING
    ringing_devices: tuple[str, ...] = ()
    answer_device: str | None = None
    answered_at: float | None = None
    ended_at: float | None = None
    end_reason: str | None = None
    # Devices of the call whose sockets closed, each with the time the call ends
    # `disconnect` unless the party comes back first.
    gone: tuple[tuple[str, float], ...] = ()

    @property
    def gone_deadline(self) -> float | None:
        return min(deadline for _, deadline in self.gone) if self.gone else None

    @property
    def gone_device(self) -> str | None:
        """The device whose grace runs out first."""
        return min(self.gone, key=lambda entry: entry[1])[0] if self.gone else None

    def without_gone(self, *devices: str) -> tuple[tuple[str, float], ...]:
        return tuple(entry for entry in self.gone if entry[0] not in devices)

    @property
    def live(self) -> bool:
        return self.status != ENDED

    @property
    def duration_s(self) -> int:
        if self.answered_at is None or self.ended_at is None:
            return 0
        return max(0, int(self.ended_at - self.answered_at))

    def party(self, user: int) -> Literal["caller", "callee"] | None:
        if user == self.caller:
            return "caller"
        if user == self.callee:
            return "callee"
        return None

    def next_wake(self) -> float | None:
        """When this call must next be looked at (ring timeout, reconnect grace)."""
        if not self.live:
            return None
        times = [t for t in (self.gone_deadline,) if t is not None]
        if self.status == RINGING:
            times.append(self.ring_deadline)
        return min(times) if times else None


# --- effects ----------------------------------------------------------------------


@dataclass(frozen=True)
class Send:
    """Send frame `kind` about this call to one device.

    `peer` is set on `call.started`: whose user info and device the frame names, and
    whether the receiver is the polite side of perfect negotiation.
    """

    device: str
    kind: str
    peer: Literal["caller", "callee"] | None = None
    polite: bool | None = None


@dataclass(frozen=True)
class Transition:
    state: CallState
    effects: tuple[Send, ...] = ()
    error: CallError | None = None
    changed: bool = True

    def then(self, step: "Transition") -> "Transition":
        """This transition followed by `step` (taken from this one's state)."""
        return Transition(
            state=step.state,
            effects=self.effects + step.effects,
            error=step.error,
            changed=self.changed or step.changed,
        )


def _same(state: CallState, error: CallError | None = None) -> Transition:
    return Transition(state=state, error=error, changed=False)


def _end(state: CallState, reason: str, now: float) -> Transition:
    """End the call; everyone involved hears it (never a device twice)."""
    involved = [state.caller_device]
    if state.status == RINGING:
        involved += state.ringing_devices
    elif state.answer_device:
        involved.append(state.answer_device)
    ended = replace(
        state,
        status=ENDED,
        ended_at=now,
        end_reason=reason,
        ringing_devices=(),
        gone=(),
    )
    devices = [d for d in dict.fromkeys(involved) if d]
    return Transition(ended, tuple(Send(d, "call.ended") for d in devices))


# --- events -----------------------------------------------------------------------


def invite(
    *,
    call_id: str,
    caller: int,
    caller_device: str,
    callee: int,
    callee_devices: tuple[str, ...],
    media: str,
    flags: int,
    user_data: str,
    now: float,
    ring_timeout: float,
    busy: bool = False,
    denied: bool = False,
) -> Transition:
    """A new call. It rings every device of the callee, or ends at once."""
    flags |= FLAG_VIDEO if media == "video" else FLAG_AUDIO
    state = CallState(
        call_id=call_id,
        caller=caller,
        callee=callee,
        caller_device=caller_device,
        media=media,
        flags=flags,
        user_data=user_data,
        created_at=now,
        ring_deadline=now + ring_timeout,
        ringing_devices=tuple(dict.fromkeys(callee_devices)),
    )
    if denied:
        return _end(replace(state, ringing_devices=()), "denied", now)
    if busy:
        return _end(replace(state, ringing_devices=()), "busy", now)
    if not state.ringing_devices:
        return _end(state, "offline", now)
    effects = (
        Send(caller_device, "call.ringing"),
        *tuple(Send(d, "call.incoming") for d in state.ringing_devices),
    )
    return Transition(state, effects)


def tick(state: CallState, *, now: float) -> Transition:
    """Time passes: a ring that reached its deadline, or a party gone past its grace,
    ends the call. Applied before every other event, so stored deadlines hold even
    when no timer fired."""
    if not state.live:
        return _same(state)
    # The bill records when the deadline was, not when someone noticed it had passed.
    ring_due = state.ring_deadline if state.status == RINGING else None
    due = [t for t in (state.gone_deadline, ring_due) if t is not None and now >= t]
    if not due:
        return _same(state)
    at = min(due)
    return _end(state, "disconnect" if at == state.gone_deadline else "timeout", at)


def _checked(state: CallState, user: int, now: float) -> Transition:
    """Tick, then refuse any event on a call that has ended or that `user` is not in."""
    step = tick(state, now=now)
    if step.state.party(user) is None:
        return _same(state, CallError("call_not_found", "No such call."))
    if not step.state.live:
        return replace(step, error=CallError("call_ended", "This call has ended."))
    return step


def accept(state: CallState, *, user: int, device: str, now: float) -> Transition:
    """A callee device answers. The first one wins; the others stop ringing."""
    step = _checked(state, user, now)
    if step.error:
        return step
    state = step.state
    if state.party(user) != "callee":
        return step.then(
            _same(state, CallError("forbidden", "Only the callee answers."))
        )
    if state.status != RINGING:
        return step.then(
            _same(state, CallError("not_ringing", "This call was already answered."))
        )
    active = replace(
        state,
        status=ACTIVE,
        answer_device=device,
        answered_at=now,
        ringing_devices=(),
        # A lost callee device no longer matters; a lost caller still does.
        gone=tuple(e for e in state.gone if e[0] == state.caller_device),
    )
    effects = (
        Send(state.caller_device, "call.started", peer="callee", polite=False),
        Send(device, "call.started", peer="caller", polite=True),
        *tuple(
            Send(d, "call.answered_elsewhere")
            for d in state.ringing_devices
            if d != device
        ),
    )
    return step.then(Transition(active, effects))


def joined(state: CallState, *, now: float) -> Transition:
    """A group call invitation that was just answered is done: it ends at once, with
    no frames of its own (its `call.started` told both sides; the room carries the
    call from here). The bill keeps when it was answered."""
    if state.status != ACTIVE:
        return _same(state, CallError("not_ringing", "This call was not answered."))
    ended = replace(state, status=ENDED, ended_at=now, end_reason="hangup", gone=())
    return Transition(ended)


def _refuse_ringing(
    state: CallState, *, user: int, now: float, role: str, reason: str
) -> Transition:
    """The callee rejects, or the caller cancels: only they, and only while it rings."""
    step = _checked(state, user, now)
    if step.error:
        return step
    if step.state.party(user) != role:
        message = f"Only the {role} may {reason} this call."
        return step.then(_same(step.state, CallError("forbidden", message)))
    if step.state.status != RINGING:
        return step.then(
            _same(step.state, CallError("not_ringing", "Hang up an answered call."))
        )
    return step.then(_end(step.state, reason, now))


def reject(state: CallState, *, user: int, device: str, now: float) -> Transition:
    return _refuse_ringing(state, user=user, now=now, role="callee", reason="reject")


def cancel(state: CallState, *, user: int, device: str, now: float) -> Transition:
    return _refuse_ringing(state, user=user, now=now, role="caller", reason="cancel")


def hangup(state: CallState, *, user: int, device: str, now: float) -> Transition:
    """Either party ends the call. While it rings, that is a cancel or a reject."""
    step = _checked(state, user, now)
    if step.error:
        return step
    if step.state.status == RINGING:
        reason = "cancel" if step.state.party(user) == "caller" else "reject"
        return step.then(_end(step.state, reason, now))
    return step.then(_end(step.state, "hangup", now))


def force_end(state: CallState, *, now: float) -> Transition:
    """An admin or the server API ends the call (one that was already overdue ends
    as what it was: a timeout or a disconnect)."""
    step = tick(state, now=now)
    if not step.state.live:
        return replace(step, error=CallError("call_ended", "This call has ended."))
    return _end(state, "forced", now)


def device_gone(
    state: CallState, *, user: int, device: str, now: float, grace: float
) -> Transition:
    """A socket of a party closed. A ringing callee device just stops ringing; the
    call's own devices get `grace` seconds to come back (`device_back`)."""
    step = tick(state, now=now)
    state = step.state
    if not state.live or state.party(user) is None:
        return step
    if device in state.ringing_devices:
        ringing = tuple(d for d in state.ringing_devices if d != device)
        state = replace(state, ringing_devices=ringing)
        if ringing:
            return step.then(Transition(state))
        # Nobody is left ringing: wait, as for a lost party, for a device to return.
    elif device not in (state.caller_device, state.answer_device):
        return step
    if any(gone == device for gone, _ in state.gone):
        return step.then(Transition(state))
    return step.then(
        Transition(replace(state, gone=(*state.gone, (device, now + grace))))
    )


def device_back(state: CallState, *, user: int, device: str, now: float) -> Transition:
    """A party's new socket. It takes over the party's place in the call: a callee
    device starts ringing; a device that lost the call gets it back, and both sides
    are told to connect their media again (`call.started` anew). The lost device
    itself coming back keeps the call as it was."""
    step = tick(state, now=now)
    state = step.state
    role = state.party(user)
    if not state.live or role is None:
        return step
    if state.status == RINGING and role == "callee":
        if device in state.ringing_devices:
            return step
        back = replace(
            state,
            ringing_devices=(*state.ringing_devices, device),
            gone=tuple(e for e in state.gone if e[0] == state.caller_device),
        )
        return step.then(Transition(back, (Send(device, "call.incoming"),)))
    lost = {gone for gone, _ in state.gone}
    own = state.caller_device if role == "caller" else state.answer_device
    if device == own and device in lost:
        # The lost socket itself, alive after all (a sweep had taken its row while
        # its process was busy): its media never stopped; nobody needs telling.
        return step.then(Transition(replace(state, gone=state.without_gone(device))))
    if role == "caller" and state.caller_device in lost:
        back = replace(
            state, caller_device=device, gone=state.without_gone(state.caller_device)
        )
    elif role == "callee" and state.answer_device in lost:
        back = replace(
            state, answer_device=device, gone=state.without_gone(state.answer_device)
        )
    else:
        return step
    if back.status == RINGING:
        return step.then(Transition(back, (Send(device, "call.ringing"),)))
    return step.then(
        Transition(
            back,
            (
                Send(back.caller_device, "call.started", peer="callee", polite=False),
                Send(back.answer_device, "call.started", peer="caller", polite=True),
            ),
        )
    )
