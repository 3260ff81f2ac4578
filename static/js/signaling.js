// @ts-check
/**
 * The signalling connection: one WebSocket to /ws/, its hello, promise-based requests
 * over the req / ok / error envelope, keep-alive pings, and reconnection with jittered
 * exponential backoff, and the ICE servers: the hello's, refreshed from
 * GET /api/ice-servers before their TURN credentials expire. No DOM access; pages
 * listen to its events.
 *
 * Events (CustomEvent, `detail` as noted):
 *   "state"        {state: "connecting" | "online" | "offline" | "closed", code?}
 *   "hello"        the hello frame (after every (re)connection)
 *   "ice_servers"  {iceServers, ttl} after a refresh gave new TURN credentials
 *   "frame"        every server frame
 *   <frame type>   each server frame also under its own type, e.g. "presence"
 *   "unauthorized" the server refused our credentials (4401); no reconnection
 */

import { CLOSE, ProtocolError, clientFrame } from "./protocol.js";

/**
 * @typedef {object} SignalingOptions
 * @property {string} [userSig]        authenticate with a token (first frame) instead of the session
 * @property {number} [pingInterval]   ms between pings (default 25 000)
 * @property {number} [pongTimeout]    ms to wait for a pong before reconnecting (default 10 000)
 * @property {number} [requestTimeout] ms before a request is rejected (default 15 000)
 * @property {number} [backoffBase]    first reconnect delay cap in ms (default 500)
 * @property {number} [backoffMax]     largest reconnect delay cap in ms (default 30 000)
 * @property {string} [iceServersUrl]  where fresh ICE servers come from (default: /api/ice-servers of the socket's host)
 * @property {typeof WebSocket} [WebSocketImpl]
 * @property {typeof fetch} [fetchImpl]
 */

/** Close code this client uses when the server stopped answering pings. */
export const PONG_TIMEOUT = 4000;

/** Refresh TURN credentials when this share of their lifetime has passed. */
export const ICE_REFRESH_AT = 0.8;
/** A failed refresh is tried again this soon (ms), while the credentials last. */
const ICE_RETRY = 10000;
/** setTimeout's largest delay; a longer one would fire at once. */
const MAX_TIMER = 2 ** 31 - 1;

/** Rejections made by this client itself, not answers from the server. */
const LOCAL_FAILURES = new Set(["timeout", "offline", "disconnected", "closed"]);

/** Full jitter: a random delay in [0, min(max, base * 2^attempt)). */
export function backoffDelay(attempt, base = 500, max = 30000, random = Math.random) {
  return Math.floor(random() * Math.min(max, base * 2 ** attempt));
}

export class SignalingClient extends EventTarget {
  /**
   * @param {string} url  ws:// or wss:// URL of /ws/
   * @param {SignalingOptions} [options]
   */
  constructor(url, options = {}) {
    super();
    this.url = url;
    this.options = {
      pingInterval: 25000,
      pongTimeout: 10000,
      requestTimeout: 15000,
      backoffBase: 500,
      backoffMax: 30000,
      iceServersUrl: iceServersUrl(url),
      WebSocketImpl: globalThis.WebSocket,
      fetchImpl: globalThis.fetch?.bind(globalThis),
      ...options,
    };
    /** @type {"idle" | "connecting" | "online" | "offline" | "closed"} */
    this.state = "idle";
    /** @type {Record<string, any> | null} */
    this.hello = null;
    /** The ICE servers to give a new RTCPeerConnection: the hello's, or fresher. */
    /** @type {RTCIceServer[]} */
    this.iceServers = [];
    /** @type {WebSocket | null} */
    this.socket = null;
    this.attempt = 0;
    this.nextReq = 1;
    /** @type {Map<string, {resolve: Function, reject: Function, timer: any}>} */
    this.pending = new Map();
    this.timers = { reconnect: 0, ping: 0, pong: 0, ice: 0 };
  }

  /** Open the connection (and keep it open until close()). */
  connect() {
    if (this.state === "closed") throw new Error("this client was closed");
    clearTimeout(this.timers.reconnect);
    if (this.socket) this.abandonQuietly(this.socket);
    this.setState("connecting");
    const socket = new this.options.WebSocketImpl(this.url);
    this.socket = socket;
    socket.onopen = () => {
      if (this.options.userSig) {
        socket.send(JSON.stringify(clientFrame("auth", { user_sig: this.options.userSig })));
      }
    };
    socket.onmessage = (event) => {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return; // not from a Parley server; nothing sensible to do with it
      }
      this.onFrame(frame);
    };
    socket.onclose = (event) => this.onClose(socket, event.code);
    return this;
  }

  /** Close for good: no reconnection; pending requests are rejected. */
  close() {
    if (this.state === "closed") return;
    this.setState("closed");
    this.stopTimers();
    clearTimeout(this.timers.ice);
    this.failPending(new ProtocolError("closed", 0, "The connection was closed."));
    this.socket?.close(1000);
  }

  /**
   * Send a frame and wait for its answer (ok, pong) or its error.
   * @param {string} type
   * @param {Record<string, unknown>} [fields]
   * @returns {Promise<Record<string, any>>}
   */
  request(type, fields = {}) {
    const req = String(this.nextReq++);
    const frame = clientFrame(type, { ...fields, req });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(req);
        reject(new ProtocolError("timeout", 0, `No answer to ${type}.`));
      }, this.options.requestTimeout);
      this.pending.set(req, { resolve, reject, timer });
      if (!this.sendRaw(frame)) {
        clearTimeout(timer);
        this.pending.delete(req);
        reject(new ProtocolError("offline", 0, "Not connected."));
      }
    });
  }

  /**
   * Send a frame without waiting for an answer. False when not connected.
   * @param {string} type
   * @param {Record<string, unknown>} [fields]
   */
  send(type, fields = {}) {
    return this.sendRaw(clientFrame(type, fields));
  }

  // --- internals -------------------------------------------------------------

  /** @param {WebSocket} socket */
  abandonQuietly(socket) {
    socket.onclose = null;
    socket.onmessage = null;
    if (socket.readyState <= 1) socket.close(1000);
  }

  /** @param {Record<string, unknown>} frame */
  sendRaw(frame) {
    if (!this.socket || this.socket.readyState !== 1 || this.state !== "online") {
      // Before hello only the auth frame (sent from onopen) may go out.
      return false;
    }
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  /** @param {Record<string, any>} frame */
  onFrame(frame) {
    if (frame.type === "hello") {
      this.hello = frame;
      this.attempt = 0;
      this.setState("online");
      this.schedulePing();
      this.iceServers = frame.ice_servers ?? [];
      this.scheduleIceRefresh(frame.ice_servers_ttl);
    }
    const waiting = frame.req !== undefined ? this.pending.get(frame.req) : undefined;
    if (waiting && (frame.type === "ok" || frame.type === "pong" || frame.type === "error")) {
      clearTimeout(waiting.timer);
      this.pending.delete(frame.req);
      if (frame.type === "error") {
        waiting.reject(new ProtocolError(frame.error, frame.code, frame.message, frame.field));
      } else {
        waiting.resolve(frame);
      }
    }
    this.dispatchEvent(new CustomEvent("frame", { detail: frame }));
    this.dispatchEvent(new CustomEvent(frame.type, { detail: frame }));
  }

  /**
   * @param {WebSocket} socket
   * @param {number} code
   */
  onClose(socket, code) {
    if (socket !== this.socket) return;
    this.stopTimers();
    this.failPending(new ProtocolError("disconnected", code, "The connection was lost."));
    if (this.state === "closed") return;
    if (code === CLOSE.unauthorized) {
      clearTimeout(this.timers.ice);
      this.setState("closed", code);
      this.dispatchEvent(new CustomEvent("unauthorized", { detail: { code } }));
      return;
    }
    this.setState("offline", code);
    const delay = backoffDelay(this.attempt++, this.options.backoffBase, this.options.backoffMax);
    this.timers.reconnect = setTimeout(() => this.connect(), delay);
  }

  schedulePing() {
    clearTimeout(this.timers.ping);
    this.timers.ping = setTimeout(() => {
      const socket = this.socket;
      this.timers.pong = setTimeout(() => this.abandon(socket), this.options.pongTimeout);
      const alive = () => {
        clearTimeout(this.timers.pong);
        this.schedulePing();
      };
      // Any answer from the server, even an error (say rate_limited), proves the link.
      this.request("ping").then(alive, (error) => {
        if (!LOCAL_FAILURES.has(error.error)) alive();
      });
    }, this.options.pingInterval);
  }

  /**
   * Give up on a socket that stopped answering. A dead link may take a browser tens
   * of seconds to report closed, so do not wait for its close event.
   * @param {WebSocket | null} socket
   */
  abandon(socket) {
    if (!socket || socket !== this.socket) return;
    socket.onclose = null;
    socket.onmessage = null;
    socket.close(PONG_TIMEOUT);
    this.onClose(socket, PONG_TIMEOUT);
  }

  /**
   * Fetch new TURN credentials before the ones we hold (valid `ttl` s) run out. A
   * call in progress keeps its relay; new peer connections and ICE restarts need
   * valid credentials.
   * @param {number | null | undefined} ttl
   */
  scheduleIceRefresh(ttl) {
    clearTimeout(this.timers.ice);
    if (!ttl || ttl <= 0) return;
    const expiresAt = Date.now() + ttl * 1000;
    const refresh = async () => {
      let fresh = null;
      try {
        fresh = await this.fetchIceServers();
      } catch {
        // network or server trouble: try again below while the old ones last
      }
      if (this.state === "closed") return;
      if (fresh) {
        this.iceServers = fresh.ice_servers;
        this.dispatchEvent(
          new CustomEvent("ice_servers", { detail: { iceServers: fresh.ice_servers, ttl: fresh.ice_servers_ttl } }),
        );
        this.scheduleIceRefresh(fresh.ice_servers_ttl);
      } else if (Date.now() + ICE_RETRY < expiresAt) {
        this.timers.ice = setTimeout(refresh, ICE_RETRY);
      }
    };
    this.timers.ice = setTimeout(refresh, Math.min(MAX_TIMER, ttl * 1000 * ICE_REFRESH_AT));
  }

  /** @returns {Promise<{ice_servers: RTCIceServer[], ice_servers_ttl: number | null} | null>} */
  async fetchIceServers() {
    /** @type {Record<string, string>} */
    const headers = { Accept: "application/json" };
    if (this.options.userSig) headers.Authorization = `Bearer ${this.options.userSig}`;
    const answer = await this.options.fetchImpl(this.options.iceServersUrl, {
      credentials: "same-origin",
      headers,
    });
    if (!answer.ok) return null;
    const body = await answer.json();
    return Array.isArray(body?.ice_servers) ? body : null;
  }

  stopTimers() {
    clearTimeout(this.timers.ping);
    clearTimeout(this.timers.pong);
    clearTimeout(this.timers.reconnect);
  }

  /** @param {ProtocolError} error */
  failPending(error) {
    for (const { reject, timer } of this.pending.values()) {
      clearTimeout(timer);
      reject(error);
    }
    this.pending.clear();
  }

  /**
   * @param {"connecting" | "online" | "offline" | "closed"} state
   * @param {number} [code]
   */
  setState(state, code) {
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", { detail: { state, code } }));
  }
}

/**
 * The /ws/ URL of the page's own server (ws: for http:, wss: for https:).
 * @param {{protocol: string, host: string}} location
 */
export function socketUrl(location) {
  return `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/ws/`;
}

/**
 * GET /api/ice-servers on the host of a /ws/ URL (http: for ws:, https: for wss:).
 * @param {string} url
 */
export function iceServersUrl(url) {
  const parsed = new URL(url);
  parsed.protocol = parsed.protocol === "wss:" ? "https:" : "http:";
  parsed.pathname = "/api/ice-servers";
  parsed.search = "";
  return parsed.toString();
}
