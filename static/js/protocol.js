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
    ping: {
      required: [],
      optional: ["req"],
    },
  },
  server: {
    error: {
      required: ["code", "error", "message"],
      optional: ["field", "req"],
    },
    hello: {
      required: ["device_id", "ice_servers", "protocol", "user"],
      optional: [],
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
  },
  errors: {
    already_authenticated: 4009,
    bad_frame: 4001,
    bad_json: 4000,
    frame_too_large: 4013,
    internal: 5000,
    invalid_field: 4004,
    missing_field: 4003,
    rate_limited: 4029,
    unknown_type: 4002,
  },
  close: {
    rate_limited: 4429,
    unauthorized: 4401,
  },
});

export const PROTOCOL_VERSION = SPEC.version;
export const MAX_FRAME_BYTES = SPEC.max_frame_bytes;
export const ERRORS = SPEC.errors;
export const CLOSE = SPEC.close;

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
