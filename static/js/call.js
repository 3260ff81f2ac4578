// @ts-check
/**
 * One tab's side of 1:1 calls: follows the call.* frames, owns the local media and the
 * PeerSession, and exposes the call as a plain snapshot plus actions. No DOM: the
 * page (call-ui.js) renders the snapshot.
 *
 * Events: "change" {detail: snapshot}, "localstream" / "remotestream" {detail: MediaStream},
 * "problem" {detail: {kind, message}} (media unavailable, a request refused).
 */

import { FLAGS } from "./protocol.js";
import { devicesAllowed, openMedia, setEnabled, stopMedia } from "./media.js";
import { PeerSession } from "./peer.js";

/**
 * @typedef {object} CallSnapshot
 * @property {string | null} id
 * @property {"caller" | "callee"} role
 * @property {"calling" | "ringing" | "incoming" | "connecting" | "active" | "ended"} phase
 * @property {{username: string, display_name: string}} peer
 * @property {"audio" | "video"} media
 * @property {number} flags
 * @property {number | null} startedAt   ms timestamp of call.started
 * @property {{reason: string, code: number, duration_s: number} | null} ended
 * @property {boolean} mic        my microphone is on
 * @property {boolean} camera     my camera is on
 * @property {boolean} canMic     this call lets me send audio
 * @property {boolean} canCamera  this call lets me send video
 * @property {boolean} remoteMic
 * @property {boolean} remoteCamera
 * @property {{room_id: string, name: string, members: number} | null} room
 *   a group call invitation: accepting it enters this room
 */

/**
 * What this side may send, from the media and the forbid flags (AnyChat's).
 * @param {"caller" | "callee"} role @param {string} media @param {number} flags
 */
export function allowedMedia(role, media, flags) {
  const forbidAudio = role === "caller" ? FLAGS.forbid_caller_audio : FLAGS.forbid_callee_audio;
  const forbidVideo = role === "caller" ? FLAGS.forbid_caller_video : FLAGS.forbid_callee_video;
  return {
    audio: (flags & forbidAudio) === 0,
    video: media === "video" && (flags & forbidVideo) === 0,
  };
}

export class CallController extends EventTarget {
  /**
   * @param {import("./signaling.js").SignalingClient} client
   * @param {{iceTransportPolicy?: RTCIceTransportPolicy}} [options]
   */
  constructor(client, options = {}) {
    super();
    this.client = client;
    this.options = options;
    /** @type {CallSnapshot | null} */
    this.call = null;
    /** @type {MediaStream | null} */
    this.localStream = null;
    /** @type {PeerSession | null} */
    this.peer = null;
    /** @type {{id: string | null, done: Promise<void>} | null} the devices being opened, for which call */
    this.opening = null;
    /** Signals that came before this side's PeerSession existed. */
    this.earlySignals = [];
    const on = (/** @type {string} */ type, /** @type {(frame: any) => void} */ handler) =>
      client.addEventListener(type, (event) => handler(/** @type {CustomEvent} */ (event).detail));
    on("call.ringing", (f) => this.onRinging(f));
    on("call.incoming", (f) => this.onIncoming(f));
    on("call.started", (f) => this.onStarted(f));
    on("call.answered_elsewhere", (f) => this.onAnsweredElsewhere(f));
    on("call.ended", (f) => this.onEnded(f));
    on("call.signal", (f) => this.onSignal(f));
    on("ice_servers", ({ iceServers }) => this.peer?.setIceServers(iceServers));
    on("call.media", (f) => this.isCurrent(f) && this.update({ remoteMic: f.audio, remoteCamera: f.video }));
  }

  get busy() {
    return this.call !== null && this.call.phase !== "ended";
  }

  /**
   * Call someone. Resolves with the call id, or rejects with the server's error.
   * @param {{username: string, display_name: string}} peer
   * @param {"audio" | "video"} media
   */
  async invite(peer, media, { flags = 0, userData = "" } = {}) {
    if (this.busy) throw new Error("already in a call");
    this.reset();
    this.call = this.snapshot({ role: "caller", phase: "calling", peer, media, flags });
    this.changed();
    try {
      const ok = await this.client.request("call.invite", {
        callee: peer.username,
        media,
        flags,
        user_data: userData,
      });
      if (this.call && this.call.id === null) this.update({ id: ok.call_id });
      await this.ensureMedia();
      return ok.call_id;
    } catch (error) {
      if (this.call?.id === null) {
        this.call = null;
        this.changed();
      }
      throw error;
    }
  }

  async accept() {
    const call = this.call;
    if (!call || call.phase !== "incoming") return;
    this.update({ phase: "connecting" });
    // A group call's media is the room page's: it opens camera and microphone there.
    if (!call.room) await this.ensureMedia();
    await this.client.request("call.accept", { call_id: call.id });
  }

  reject() {
    return this.move("call.reject");
  }

  cancel() {
    return this.move("call.cancel");
  }

  hangup() {
    return this.move("call.hangup");
  }

  /** Forget a call that has ended (the page closed its message). */
  dismiss() {
    if (this.call?.phase === "ended") {
      this.call = null;
      this.changed();
    }
  }

  /** @param {boolean} on */
  setMic(on) {
    if (!this.call || !this.call.canMic) return;
    setEnabled(this.localStream, "audio", on);
    this.update({ mic: on });
    this.announceMedia();
  }

  /** @param {boolean} on */
  setCamera(on) {
    if (!this.call || !this.call.canCamera) return;
    setEnabled(this.localStream, "video", on);
    this.update({ camera: on });
    this.announceMedia();
  }

  /** Media statistics of the current call (for tests and a future stats panel). */
  async stats() {
    return this.peer ? this.peer.stats() : null;
  }

  // --- frames ------------------------------------------------------------------

  /** @param {{call_id: string, callee: any, media: "audio" | "video", flags: number, room?: any}} frame */
  onRinging(frame) {
    if (frame.room) return; // an invitation this tab sent from a room page
    if (this.call?.role === "caller" && (this.call.id === null || this.call.id === frame.call_id)) {
      this.update({ id: frame.call_id, phase: "ringing" });
    } else if (!this.busy) {
      // This tab was reloaded while its call rang: show it again, with its Cancel.
      this.reset();
      this.call = this.snapshot({
        id: frame.call_id,
        role: "caller",
        phase: "ringing",
        peer: frame.callee,
        media: frame.media,
        flags: frame.flags,
      });
      this.changed();
    }
  }

  /** @param {{call_id: string, caller: any, media: "audio" | "video", flags: number, room?: any}} frame */
  onIncoming(frame) {
    if (this.busy && this.call?.id !== frame.call_id) return; // the server keeps this from happening
    this.reset();
    this.call = this.snapshot({
      id: frame.call_id,
      role: "callee",
      phase: "incoming",
      peer: frame.caller,
      media: frame.media,
      flags: frame.flags,
      room: frame.room ?? null,
    });
    this.changed();
    if (frame.media === "video" && !frame.room) this.preview();
  }

  /** @param {{call_id: string, room_id: string, peer: any, polite: boolean, media: "audio" | "video", flags: number, group?: boolean}} frame */
  async onStarted(frame) {
    if (frame.group) {
      // An invitation this tab accepted: the call goes on in the room.
      if (this.call?.id === frame.call_id) {
        this.dispatchEvent(new CustomEvent("group", { detail: { roomId: frame.room_id } }));
      }
      return;
    }
    if (!this.call || (this.call.id !== null && this.call.id !== frame.call_id)) {
      // A call taken back after this tab reloaded: pick it up.
      this.reset();
      this.call = this.snapshot({
        id: frame.call_id,
        role: frame.polite ? "callee" : "caller",
        phase: "connecting",
        peer: frame.peer,
        media: frame.media,
        flags: frame.flags,
      });
    }
    // The server's word on this side's role, media and flags wins (after glare, the
    // tab that invited may be the one that answers).
    const role = frame.polite ? "callee" : "caller";
    const allowed = allowedMedia(role, frame.media, frame.flags);
    this.update({
      id: frame.call_id,
      phase: "connecting",
      peer: frame.peer,
      startedAt: Date.now(),
      role,
      media: frame.media,
      flags: frame.flags,
      canMic: allowed.audio,
      canCamera: allowed.video,
      mic: this.call.mic && allowed.audio,
      camera: this.call.camera && allowed.video,
    });
    await this.ensureMedia();
    for (const track of this.localStream?.getTracks() ?? []) {
      // Media this call does not allow is not sent, even if it was opened before.
      if ((track.kind === "audio" && !allowed.audio) || (track.kind === "video" && !allowed.video)) {
        track.stop();
        this.localStream?.removeTrack(track);
      }
    }
    this.peer?.close();
    const peer = new PeerSession({
      polite: frame.polite,
      iceServers: this.client.iceServers,
      iceTransportPolicy: this.options.iceTransportPolicy,
      localStream: this.localStream ?? undefined,
      send: (signal) => this.client.send("call.signal", { call_id: frame.call_id, ...signal }),
    });
    this.peer = peer;
    for (const signal of this.earlySignals.splice(0)) peer.receive(signal);
    peer.addEventListener("remotestream", (event) =>
      this.dispatchEvent(new CustomEvent("remotestream", { detail: /** @type {CustomEvent} */ (event).detail })),
    );
    peer.addEventListener("state", (event) => {
      if (/** @type {CustomEvent} */ (event).detail === "connected") this.update({ phase: "active" });
    });
    peer.addEventListener("error", (event) =>
      this.problem("negotiation", String(/** @type {CustomEvent} */ (event).detail)),
    );
    this.announceMedia();
  }

  /** @param {{call_id: string, description?: any, candidate?: any}} frame */
  onSignal(frame) {
    if (!this.isCurrent(frame)) return;
    if (this.peer) this.peer.receive(frame);
    else this.earlySignals.push(frame);
  }

  /** @param {{call_id: string}} frame */
  onAnsweredElsewhere(frame) {
    if (this.isCurrent(frame)) this.finish({ reason: "answered_elsewhere", code: 0, duration_s: 0 });
  }

  /** @param {{call_id: string, reason: string, code: number, duration_s: number}} frame */
  onEnded(frame) {
    // A tab told "answered elsewhere" keeps that message when the call later ends.
    if (this.isCurrent(frame) && this.call?.phase !== "ended") this.finish(frame);
  }

  // --- internals --------------------------------------------------------------

  /** @param {string} type */
  async move(type) {
    const call = this.call;
    if (!call || call.id === null || call.phase === "ended") return;
    await this.client.request(type, { call_id: call.id });
  }

  /** @param {{reason: string, code: number, duration_s: number}} ended */
  finish(ended) {
    this.peer?.close();
    this.peer = null;
    stopMedia(this.localStream);
    this.localStream = null;
    this.update({ phase: "ended", ended: { reason: ended.reason, code: ended.code, duration_s: ended.duration_s } });
  }

  /**
   * A self-view while a video call rings, where the devices are allowed already (never
   * a permission prompt for a call not answered): answering then waits for no device.
   * Any end of the call (declined, cancelled, answered elsewhere) closes them.
   */
  async preview() {
    const call = this.call;
    if (!call || !(await devicesAllowed({ audio: call.canMic, video: call.canCamera }))) return;
    if (this.call?.id === call.id && this.call.phase === "incoming") await this.ensureMedia();
  }

  /** Open the call's devices once, however many steps of the call ask at a time. */
  ensureMedia() {
    const id = this.call?.id ?? null;
    if (this.opening?.id !== id || id === null) {
      const opening = { id, done: this.openLocalMedia() };
      const forget = () => this.opening === opening && (this.opening = null);
      opening.done.then(forget, forget);
      this.opening = opening;
    }
    return this.opening.done;
  }

  async openLocalMedia() {
    const call = this.call;
    if (!call || this.localStream) return;
    const want = { audio: call.canMic, video: call.canCamera };
    let stream;
    try {
      stream = await openMedia(want);
    } catch (error) {
      stream = new MediaStream();
      this.update({ mic: false, camera: false });
      this.problem("media", /** @type {Error} */ (error).message);
    }
    if (this.call !== null && this.call.id !== call.id) {
      stopMedia(stream); // the call changed while the devices were opening
      return;
    }
    if (this.call === null || this.call.phase === "ended" || this.localStream) {
      stopMedia(stream);
      return;
    }
    this.localStream = stream;
    setEnabled(this.localStream, "audio", call.mic);
    setEnabled(this.localStream, "video", call.camera);
    this.dispatchEvent(new CustomEvent("localstream", { detail: this.localStream }));
  }

  announceMedia() {
    const call = this.call;
    if (!call || call.id === null || !this.peer) return;
    this.client.send("call.media", {
      call_id: call.id,
      audio: call.canMic && call.mic,
      video: call.canCamera && call.camera,
    });
  }

  /** @param {{call_id: string}} frame */
  isCurrent(frame) {
    return this.call !== null && this.call.id === frame.call_id;
  }

  reset() {
    this.peer?.close();
    this.peer = null;
    this.earlySignals = [];
    stopMedia(this.localStream);
    this.localStream = null;
    this.call = null;
  }

  /**
   * @param {Partial<CallSnapshot> & {role: "caller" | "callee", phase: CallSnapshot["phase"], peer: any, media: "audio" | "video", flags: number}} fields
   * @returns {CallSnapshot}
   */
  snapshot(fields) {
    const allowed = allowedMedia(fields.role, fields.media, fields.flags);
    return {
      id: null,
      startedAt: null,
      ended: null,
      mic: allowed.audio,
      camera: allowed.video,
      canMic: allowed.audio,
      canCamera: allowed.video,
      remoteMic: true,
      remoteCamera: fields.media === "video",
      room: null,
      ...fields,
    };
  }

  /** @param {Partial<CallSnapshot>} fields */
  update(fields) {
    if (!this.call) return;
    this.call = { ...this.call, ...fields };
    this.changed();
  }

  changed() {
    this.dispatchEvent(new CustomEvent("change", { detail: this.call }));
  }

  /** @param {string} kind @param {string} message */
  problem(kind, message) {
    this.dispatchEvent(new CustomEvent("problem", { detail: { kind, message } }));
  }
}
