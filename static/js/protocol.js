// @ts-check
/**
 * The wire protocol of /ws/, mirrored from calls/protocol.py (the one definition).
 * tests/calls/test_protocol_js.py checks that SPEC equals protocol_spec() there.
 * No DOM access: usable from any page, worker or Node.
 */

/** Frame types, their fields, error slugs → codes, and close codes. */
export const SPEC = Object.freeze({
  version: 1,
  max_frame_bytes: 65536,
  client: {
    auth: {
      required: ["user_sig"],
      optional: ["req"],
    },
    "call.accept": {
      required: ["call_id"],
      optional: ["req"],
    },
    "call.cancel": {
      required: ["call_id"],
      optional: ["req"],
    },
    "call.hangup": {
      required: ["call_id"],
      optional: ["req"],
    },
    "call.invite": {
      required: ["callee", "media"],
      optional: ["flags", "req", "user_data"],
    },
    "call.media": {
      required: ["audio", "call_id", "video"],
      optional: ["req"],
    },
    "call.reject": {
      required: ["call_id"],
      optional: ["req"],
    },
    "call.signal": {
      required: ["call_id"],
      optional: ["candidate", "description", "req"],
    },
    ping: {
      required: [],
      optional: ["req"],
    },
    "room.close": {
      required: ["room_id"],
      optional: ["req"],
    },
    "room.custom": {
      required: ["data", "room_id"],
      optional: ["req"],
    },
    "room.invite": {
      required: ["room_id", "users"],
      optional: ["media", "req"],
    },
    "room.join": {
      required: ["room_id"],
      optional: ["password", "req"],
    },
    "room.kick": {
      required: ["member_id", "room_id"],
      optional: ["req"],
    },
    "room.leave": {
      required: ["room_id"],
      optional: ["req"],
    },
    "room.media": {
      required: ["audio", "room_id", "video"],
      optional: ["req"],
    },
    "room.message": {
      required: ["room_id", "text"],
      optional: ["req"],
    },
    "room.mute_all": {
      required: ["room_id"],
      optional: ["req"],
    },
    "room.signal": {
      required: ["room_id", "to"],
      optional: ["candidate", "description", "req"],
    },
  },
  server: {
    "call.answered_elsewhere": {
      required: ["call_id"],
      optional: [],
    },
    "call.ended": {
      required: ["call_id", "code", "duration_s", "reason"],
      optional: [],
    },
    "call.incoming": {
      required: ["call_id", "caller", "flags", "media", "user_data"],
      optional: ["room"],
    },
    "call.media": {
      required: ["audio", "call_id", "from", "video"],
      optional: [],
    },
    "call.ringing": {
      required: ["call_id", "callee", "flags", "media"],
      optional: ["room"],
    },
    "call.signal": {
      required: ["call_id", "from"],
      optional: ["candidate", "description"],
    },
    "call.started": {
      required: ["call_id", "flags", "media", "peer", "polite", "room_id"],
      optional: ["group"],
    },
    error: {
      required: ["code", "error", "message"],
      optional: ["field", "req"],
    },
    hello: {
      required: ["device_id", "ice_servers", "protocol", "user"],
      optional: ["ice_servers_ttl"],
    },
    ok: {
      required: [],
      optional: ["req"],
    },
    pong: {
      required: [],
      optional: ["req"],
    },
    presence: {
      required: ["state", "user"],
      optional: [],
    },
    push: {
      required: ["flag", "from_app", "payload", "sent_at"],
      optional: [],
    },
    "room.closed": {
      required: ["room_id"],
      optional: [],
    },
    "room.joined": {
      required: ["member_id", "members", "room", "room_id"],
      optional: [],
    },
    "room.kicked": {
      required: ["by", "room_id"],
      optional: [],
    },
    "room.media": {
      required: ["audio", "member_id", "room_id", "video"],
      optional: [],
    },
    "room.member_joined": {
      required: ["member", "room_id"],
      optional: [],
    },
    "room.member_left": {
      required: ["member_id", "reason", "room_id"],
      optional: [],
    },
    "room.message": {
      required: ["from", "id", "kind", "member_id", "room_id", "sent_at"],
      optional: ["data", "text"],
    },
    "room.muted": {
      required: ["by", "room_id"],
      optional: [],
    },
    "room.signal": {
      required: ["from", "room_id"],
      optional: ["candidate", "description"],
    },
  },
  errors: {
    already_authenticated: 4009,
    already_in_call: 4090,
    already_in_room: 4093,
    bad_frame: 4001,
    bad_json: 4000,
    call_ended: 4042,
    call_not_found: 4041,
    cannot_call_self: 4045,
    forbidden: 4030,
    frame_too_large: 4013,
    internal: 5000,
    invalid_field: 4004,
    member_not_found: 4047,
    missing_field: 4003,
    not_in_call: 4044,
    not_in_room: 4031,
    not_ringing: 4043,
    not_room_owner: 4032,
    rate_limited: 4029,
    room_closed: 4091,
    room_full: 4092,
    room_not_found: 4046,
    unknown_type: 4002,
    user_not_found: 4040,
    wrong_password: 4033,
  },
  close: {
    rate_limited: 4429,
    unauthorized: 4401,
  },
  end_codes: {
    busy: 100103,
    cancel: 100101,
    denied: 100107,
    disconnect: 100106,
    forced: 100108,
    hangup: 0,
    offline: 100102,
    reject: 100104,
    timeout: 100105,
  },
  flags: {
    audio: 1,
    forbid_callee_audio: 64,
    forbid_callee_video: 128,
    forbid_caller_audio: 16,
    forbid_caller_video: 32,
    video: 2,
  },
});

export const PROTOCOL_VERSION = SPEC.version;
export const MAX_FRAME_BYTES = SPEC.max_frame_bytes;
export const ERRORS = SPEC.errors;
export const CLOSE = SPEC.close;
export const END_CODES = SPEC.end_codes;
export const FLAGS = SPEC.flags;

/** An `error` frame the server sent, as a rejection value. */
export class ProtocolError extends Error {
  /**
   * @param {string} error  stable slug, e.g. "unknown_type"
   * @param {number} code   stable number, e.g. 4002
   * @param {string} message human-readable text from the server
   * @param {string} [field] the offending field, when there is one
   */
  constructor(error, code, message, field) {
    super(message);
    this.name = "ProtocolError";
    this.error = error;
    this.code = code;
    this.field = field;
  }
}

/**
 * Build a client frame, checking it against SPEC so a typo fails here, not on the server.
 * @param {string} type
 * @param {Record<string, unknown>} [fields]
 * @returns {Record<string, unknown>}
 */
export function clientFrame(type, fields = {}) {
  const shape = /** @type {Record<string, {required: string[], optional: string[]}>} */ (SPEC.client)[type];
  if (!shape) throw new TypeError(`unknown client frame type ${type}`);
  for (const name of shape.required) {
    if (fields[name] === undefined) throw new TypeError(`${type} needs ${name}`);
  }
  return { type, ...fields };
}
