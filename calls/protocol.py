"""The wire protocol of `/ws/`: every frame type, its fields, error slugs and codes.

The one definition of the protocol. `static/js/protocol.js` mirrors `protocol_spec()`
and `tests/calls/test_protocol_js.py` checks that they agree. Errors are exceptions in
here (`ProtocolError`) and values on the wire (`error` frames); `error_frame` is the one
place that turns the first into the second.
"""

import json
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from calls import state

PROTOCOL_VERSION = 1
MAX_FRAME_BYTES = 64 * 1024
MAX_REQ_LENGTH = 128

# Error slugs → stable numeric codes. Never renumber; only add.
ERRORS: dict[str, int] = {
    "bad_json": 4000,  # the text is not JSON
    "bad_frame": 4001,  # not a JSON object, no string `type`, or a binary frame
    "unknown_type": 4002,  # no client frame has this `type`
    "missing_field": 4003,  # a required field is absent
    "invalid_field": 4004,  # a field has the wrong type or an invalid value
    "already_authenticated": 4009,  # `auth` on a socket that already has a user
    "forbidden": 4030,  # not this party's move (e.g. the caller accepting)
    "user_not_found": 4040,  # no active user has that name
    "call_not_found": 4041,  # no such call, or not one of yours
    "call_ended": 4042,  # the call has ended (a stale call id)
    "not_ringing": 4043,  # the call was already answered
    "not_in_call": 4044,  # signalling from a device that is not in the call
    "cannot_call_self": 4045,  # the callee is the caller
    "already_in_call": 4090,  # the caller is already in a live call
    "room_not_found": 4046,  # no room has that id
    "member_not_found": 4047,  # no such member in that room
    "not_in_room": 4031,  # this device is not a member of that room
    "not_room_owner": 4032,  # only the room's owner may do that
    "wrong_password": 4033,  # the room's password does not match
    "room_closed": 4091,  # the room is closed
    "room_full": 4092,  # the room has member_cap members already
    "already_in_room": 4093,  # an invitee is in the room already
    "frame_too_large": 4013,  # over MAX_FRAME_BYTES
    "rate_limited": 4029,  # too many frames; the frame was not processed
    "internal": 5000,  # a server fault; the frame may not have been processed
}

# How calls end (`call.ended` reason → code) and the call flags, from the state machine.
END_CODES = state.END_CODES
FLAGS: dict[str, int] = {
    "audio": state.FLAG_AUDIO,
    "video": state.FLAG_VIDEO,
    "forbid_caller_audio": state.FLAG_FORBID_CALLER_AUDIO,
    "forbid_caller_video": state.FLAG_FORBID_CALLER_VIDEO,
    "forbid_callee_audio": state.FLAG_FORBID_CALLEE_AUDIO,
    "forbid_callee_video": state.FLAG_FORBID_CALLEE_VIDEO,
}

# WebSocket close codes the server uses.
CLOSE_CODES: dict[str, int] = {
    "unauthorized": 4401,  # no, a bad or an expired credential; or no `auth` in time
    "rate_limited": 4429,  # went on flooding after `rate_limited` errors
}


class ProtocolError(Exception):
    """A client frame the server will not act on; becomes an `error` frame."""

    def __init__(
        self,
        slug: str,
        message: str,
        *,
        req: str | None = None,
        field: str | None = None,
    ):
        if slug not in ERRORS:
            raise ValueError(f"unknown error slug {slug!r}")
        super().__init__(message)
        self.slug = slug
        self.message = message
        self.req = req
        self.field = field

    @property
    def code(self) -> int:
        return ERRORS[self.slug]


class Frame(BaseModel):
    """A frame on the wire. Unknown extra fields are ignored (forward compatibility)."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)
    TYPE: ClassVar[str]


class ClientFrame(Frame):
    req: str | None = Field(default=None, max_length=MAX_REQ_LENGTH)


class ServerFrame(Frame):
    # `from` is a Python keyword: the models call it `from_`, the wire `from`, and
    # Python clients (the bot) parse the wire form back (`parse_server_frame`).
    model_config = ConfigDict(validate_by_name=True, validate_by_alias=True)


CLIENT_FRAMES: dict[str, type[ClientFrame]] = {}
SERVER_FRAMES: dict[str, type[ServerFrame]] = {}


def _registrar(registry: dict):
    def frame_type(type_: str):
        def register(model):
            model.TYPE = type_
            registry[type_] = model
            return model

        return register

    return frame_type


client_frame = _registrar(
    CLIENT_FRAMES
)  # @client_frame("ping"): a client → server frame
server_frame = _registrar(
    SERVER_FRAMES
)  # @server_frame("hello"): a server → client frame


# --- client → server -------------------------------------------------------------


@client_frame("auth")
class Auth(ClientFrame):
    """Authenticate a socket that came without a session or bearer token."""

    user_sig: str = Field(min_length=1, max_length=4096)


@client_frame("ping")
class Ping(ClientFrame):
    """Keep-alive; answered with `pong`."""


MAX_USER_DATA = 1024
CallId = Annotated[str, Field(min_length=1, max_length=64)]


@client_frame("call.invite")
class CallInvite(ClientFrame):
    """Call `callee` (a username). Answered `ok {call_id}`."""

    callee: str = Field(min_length=1, max_length=150)
    media: Literal["audio", "video"]
    flags: int = Field(default=0, ge=0, le=0xFF)
    user_data: str = Field(default="", max_length=MAX_USER_DATA)


@client_frame("call.accept")
class CallAccept(ClientFrame):
    call_id: CallId


@client_frame("call.reject")
class CallReject(ClientFrame):
    call_id: CallId


@client_frame("call.cancel")
class CallCancel(ClientFrame):
    call_id: CallId


@client_frame("call.hangup")
class CallHangup(ClientFrame):
    call_id: CallId


class SessionDescription(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)
    type: Literal["offer", "answer", "pranswer", "rollback"]
    sdp: str = Field(default="", max_length=MAX_FRAME_BYTES)


class IceCandidate(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)
    candidate: str = Field(max_length=4096)
    sdpMid: str | None = None
    sdpMLineIndex: int | None = None
    usernameFragment: str | None = None


class SignalFrame(ClientFrame):
    """Carries exactly one of an SDP description and an ICE candidate."""

    description: SessionDescription | None = None
    candidate: IceCandidate | None = None

    @model_validator(mode="after")
    def _exactly_one(self):
        if (self.description is None) == (self.candidate is None):
            raise ValueError("send exactly one of description and candidate")
        return self


@client_frame("call.signal")
class CallSignal(SignalFrame):
    """An SDP description or an ICE candidate for the peer device."""

    call_id: CallId


@client_frame("call.media")
class CallMedia(ClientFrame):
    """This side's microphone and camera are on or off (shown to the peer)."""

    call_id: CallId
    audio: bool
    video: bool


RoomId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
MAX_ROOM_TEXT = 2000
MAX_ROOM_DATA_BYTES = 4096


@client_frame("room.join")
class RoomJoin(ClientFrame):
    room_id: RoomId
    password: str = Field(default="", max_length=128)


@client_frame("room.invite")
class RoomInvite(ClientFrame):
    """Ring people into a room you are in (a group call invitation, seed 004).
    Answered `ok {invitations: [{user, call_id}]}`; each invitation then goes as a
    call does (`call.ringing`, `call.started`, `call.ended` to the inviter)."""

    room_id: RoomId
    users: list[str] = Field(min_length=1, max_length=16)
    media: Literal["audio", "video"] = "video"


@client_frame("room.leave")
class RoomLeave(ClientFrame):
    room_id: RoomId


@client_frame("room.signal")
class RoomSignal(SignalFrame):
    """An SDP description or ICE candidate for one member of the same room."""

    room_id: RoomId
    to: str = Field(min_length=1, max_length=64)


@client_frame("room.message")
class RoomText(ClientFrame):
    room_id: RoomId
    text: str = Field(min_length=1, max_length=MAX_ROOM_TEXT)


@client_frame("room.custom")
class RoomCustom(ClientFrame):
    """Application data (any JSON value) for everyone in the room (RTCRoom's
    sendRoomCustomMsg)."""

    room_id: RoomId
    data: Any

    @model_validator(mode="after")
    def _bounded(self):
        if self.data is None:
            raise ValueError("data must not be null")
        size = len(json.dumps(self.data, separators=(",", ":")).encode())
        if size > MAX_ROOM_DATA_BYTES:
            raise ValueError(f"data is limited to {MAX_ROOM_DATA_BYTES} bytes")
        return self


@client_frame("room.media")
class RoomMedia(ClientFrame):
    """This member's microphone and camera are on or off (shown to the others)."""

    room_id: RoomId
    audio: bool
    video: bool


@client_frame("room.kick")
class RoomKick(ClientFrame):
    room_id: RoomId
    member_id: str = Field(min_length=1, max_length=64)


@client_frame("room.mute_all")
class RoomMuteAll(ClientFrame):
    room_id: RoomId


@client_frame("room.close")
class RoomClose(ClientFrame):
    room_id: RoomId


# --- server → client -------------------------------------------------------------


class UserInfo(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: int
    username: str
    display_name: str

    @classmethod
    def of(cls, user: Any) -> "UserInfo":
        return cls(id=user.pk, username=user.handle, display_name=user.shown_name)


class IceServer(BaseModel):
    model_config = ConfigDict(frozen=True)
    urls: list[str]
    username: str | None = None
    credential: str | None = None


@server_frame("hello")
class Hello(ServerFrame):
    user: UserInfo
    device_id: str
    protocol: int
    ice_servers: list[IceServer]
    # Seconds the TURN credentials in `ice_servers` stay valid; None when nothing in
    # them expires. Clients refresh from GET /api/ice-servers before then.
    ice_servers_ttl: int | None = None


@server_frame("pong")
class Pong(ServerFrame):
    req: str | None = None


@server_frame("ok")
class Ok(ServerFrame):
    """Answer to a client frame that carried `req`; result fields sit beside `req`."""

    model_config = ConfigDict(extra="allow", frozen=True)
    req: str | None = None


@server_frame("error")
class Error(ServerFrame):
    req: str | None = None
    code: int
    error: str
    message: str
    field: str | None = None


@server_frame("presence")
class Presence(ServerFrame):
    """Another user went online or offline (sent to every signed-in socket except
    that user's own)."""

    user: UserInfo
    state: Literal["online", "offline"]


@server_frame("push")
class Push(ServerFrame):
    """A message from the user's application (server API `POST /api/server/push`,
    seed 000's server push): `payload` is the base64 text the application sent."""

    payload: str
    flag: int
    from_app: str = Field(description="The application's app id.")
    sent_at: str


class PeerInfo(UserInfo):
    device_id: str


class RoomRef(BaseModel):
    """The room a group call invitation is for, as the invitee's dialog shows it."""

    model_config = ConfigDict(frozen=True)
    room_id: str
    name: str
    members: int


@server_frame("call.ringing")
class CallRinging(ServerFrame):
    """The caller's call rings (also sent to a caller tab that reloads meanwhile)."""

    call_id: str
    callee: UserInfo
    media: str
    flags: int
    room: RoomRef | None = None  # a group call invitation


@server_frame("call.incoming")
class CallIncoming(ServerFrame):
    call_id: str
    caller: UserInfo
    media: str
    flags: int
    user_data: str
    room: RoomRef | None = None  # a group call invitation: accepting enters the room


@server_frame("call.started")
class CallStarted(ServerFrame):
    """The call is answered: connect media with `peer`. Sent again when a party's
    socket comes back after a disconnection: start a new peer connection."""

    call_id: str
    room_id: str
    peer: PeerInfo
    polite: bool
    media: str
    flags: int
    # A group call invitation was accepted: the invitee enters room `room_id` (the
    # media goes through the room, not this call); the inviter learns who accepted.
    group: bool = False


@server_frame("call.answered_elsewhere")
class CallAnsweredElsewhere(ServerFrame):
    call_id: str


@server_frame("call.ended")
class CallEnded(ServerFrame):
    call_id: str
    reason: str
    code: int
    duration_s: int


class SignalRelay(ServerFrame):
    """A signal passed on, with its sender (`from`)."""

    from_: str = Field(alias="from")
    description: SessionDescription | None = None
    candidate: IceCandidate | None = None


@server_frame("call.signal")
class CallSignalRelay(SignalRelay):
    call_id: str


@server_frame("call.media")
class CallMediaRelay(ServerFrame):
    call_id: str
    from_: str = Field(alias="from")
    audio: bool
    video: bool


class RoomMemberInfo(BaseModel):
    model_config = ConfigDict(frozen=True)
    member_id: str
    user: UserInfo
    audio: bool
    video: bool

    @classmethod
    def of(cls, member: Any) -> "RoomMemberInfo":
        return cls(
            member_id=member.member_id,
            user=UserInfo.of(member.user),
            audio=member.audio,
            video=member.video,
        )


class RoomInfo(BaseModel):
    model_config = ConfigDict(frozen=True)
    room_id: str
    name: str
    info: dict
    owner: UserInfo
    member_cap: int


@server_frame("room.joined")
class RoomJoined(ServerFrame):
    """You are in: your member id, the room, and everyone in it (you included)."""

    room_id: str
    member_id: str
    room: RoomInfo
    members: list[RoomMemberInfo]


@server_frame("room.member_joined")
class RoomMemberJoined(ServerFrame):
    room_id: str
    member: RoomMemberInfo


@server_frame("room.member_left")
class RoomMemberLeft(ServerFrame):
    room_id: str
    member_id: str
    reason: Literal["left", "disconnected", "kicked"]


@server_frame("room.signal")
class RoomSignalRelay(SignalRelay):
    room_id: str


@server_frame("room.message")
class RoomMessageOut(ServerFrame):
    """A text or custom message, to every member (the sender too)."""

    room_id: str
    id: int
    from_: UserInfo = Field(alias="from")
    member_id: str
    kind: Literal["text", "custom"]
    text: str | None = None
    data: Any = None
    sent_at: str


@server_frame("room.media")
class RoomMediaOut(ServerFrame):
    room_id: str
    member_id: str
    audio: bool
    video: bool


@server_frame("room.kicked")
class RoomKicked(ServerFrame):
    """You were removed from the room by its owner."""

    room_id: str
    by: UserInfo


@server_frame("room.muted")
class RoomMuted(ServerFrame):
    """The owner muted everyone: turn your microphone off."""

    room_id: str
    by: UserInfo


@server_frame("room.closed")
class RoomClosed(ServerFrame):
    room_id: str


# --- encoding and decoding ------------------------------------------------------------


def parse_client_frame(raw: str | bytes | None) -> ClientFrame:
    """Turn one received WebSocket message into a validated client frame.

    Raises ProtocolError for anything else; its `req` is the frame's, when readable.
    """
    if not isinstance(raw, str):
        raise ProtocolError("bad_frame", "Binary frames are not supported.")
    if len(raw) > MAX_FRAME_BYTES or len(raw.encode("utf-8")) > MAX_FRAME_BYTES:
        raise ProtocolError(
            "frame_too_large", f"Frames are limited to {MAX_FRAME_BYTES} bytes."
        )
    try:
        data = json.loads(raw)
    except ValueError:
        raise ProtocolError("bad_json", "The frame is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ProtocolError("bad_frame", "A frame must be a JSON object.")
    req = data.get("req")
    if req is not None and not isinstance(req, str):
        raise ProtocolError("invalid_field", "`req` must be a string.", field="req")
    type_ = data.get("type")
    if not isinstance(type_, str):
        raise ProtocolError(
            "bad_frame", "A frame needs a string `type`.", req=req, field="type"
        )
    model = CLIENT_FRAMES.get(type_)
    if model is None:
        raise ProtocolError("unknown_type", f"Unknown frame type {type_!r}.", req=req)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        slug = "missing_field" if first["type"] == "missing" else "invalid_field"
        message = f"`{field}`: {first['msg']}." if field else f"{first['msg']}."
        raise ProtocolError(slug, message, req=req, field=field) from None


def peek_req(raw: str | bytes | None) -> str | None:
    """The `req` of a frame that will not be parsed in full (a throttled one), if any."""
    if not isinstance(raw, str) or len(raw) > MAX_FRAME_BYTES:
        return None
    try:
        req = json.loads(raw).get("req")
    except (ValueError, AttributeError):
        return None
    return req if isinstance(req, str) and len(req) <= MAX_REQ_LENGTH else None


def encode(frame: Frame) -> str:
    """Serialise a frame to the JSON text sent on the socket (server frames by the
    server; client frames by Python clients such as the bot)."""
    body = frame.model_dump(mode="json", exclude_none=True, by_alias=True)
    return json.dumps({"type": frame.TYPE, **body}, separators=(",", ":"))


def parse_server_frame(raw: str | bytes) -> ServerFrame | None:
    """Turn a received server frame into its model, for clients written in Python (the
    bot). None for a frame type this version does not know (a newer server may add
    some); ProtocolError for text that is not a valid frame."""
    if not isinstance(raw, str):
        raise ProtocolError("bad_frame", "Binary frames are not supported.")
    try:
        data = json.loads(raw)
    except ValueError:
        raise ProtocolError("bad_json", "The frame is not valid JSON.") from None
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise ProtocolError("bad_frame", "A frame must be an object with a `type`.")
    model = SERVER_FRAMES.get(data["type"])
    if model is None:
        return None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ProtocolError(
            "invalid_field", f"Bad {data['type']} frame: {exc.errors()[0]['msg']}."
        ) from None


def error_frame(error: ProtocolError) -> Error:
    return Error(
        req=error.req,
        code=error.code,
        error=error.slug,
        message=error.message,
        field=error.field,
    )


def ok_frame(req: str | None, **result: Any) -> Ok:
    return Ok(req=req, **result)


def _fields(model: type[Frame]) -> dict[str, list[str]]:
    required, optional = [], []
    for name, info in model.model_fields.items():
        wire_name = info.serialization_alias or name
        (required if info.is_required() else optional).append(wire_name)
    return {"required": sorted(required), "optional": sorted(optional)}


def protocol_spec() -> dict[str, Any]:
    """The protocol as plain data: what static/js/protocol.js must mirror."""
    return {
        "version": PROTOCOL_VERSION,
        "max_frame_bytes": MAX_FRAME_BYTES,
        "client": {t: _fields(m) for t, m in sorted(CLIENT_FRAMES.items())},
        "server": {t: _fields(m) for t, m in sorted(SERVER_FRAMES.items())},
        "errors": dict(sorted(ERRORS.items())),
        "close": dict(sorted(CLOSE_CODES.items())),
        "end_codes": dict(sorted(END_CODES.items())),
        "flags": dict(sorted(FLAGS.items())),
    }
