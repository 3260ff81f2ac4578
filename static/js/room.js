// @ts-check
/**
 * One tab in one room: follows the room.* frames, keeps a PeerSession per other
 * member (a full mesh, the same perfect negotiation as 1:1 calls), and exposes the
 * room as plain data plus actions. No DOM: room-ui.js renders it.
 *
 * Roles per pair: the member who joins later offers (impolite); members already in
 * the room answer (polite).
 *
 * Events: "change" (members, phase), "message" {detail: frame}, "remotestream"
 * {detail: {memberId, stream}}, "localstream" {detail: MediaStream},
 * "ended" {detail: {reason: "kicked" | "closed" | "left", by?}}, "problem" {detail}.
 */

import { openMedia, setEnabled, stopMedia } from "./media.js";
import { PeerSession } from "./peer.js";

/**
 * @typedef {object} RoomMember
 * @property {string} member_id
 * @property {{id: number, username: string, display_name: string}} user
 * @property {boolean} audio
 * @property {boolean} video
 */

export class RoomController extends EventTarget {
  /**
   * @param {import("./signaling.js").SignalingClient} client
   * @param {string} roomId
   */
  constructor(client, roomId) {
    super();
    this.client = client;
    this.roomId = roomId;
    /** @type {"idle" | "joining" | "in" | "out"} */
    this.phase = "idle";
    /** @type {string | null} */
    this.memberId = null;
    /** @type {Record<string, any> | null} */
    this.room = null;
    /** @type {Map<string, RoomMember>} */
    this.members = new Map();
    /** @type {Map<string, PeerSession>} */
    this.peers = new Map();
    /** @type {MediaStream | null} */
    this.localStream = null;
    this.mic = true;
    this.camera = true;
    this.password = "";
    /**
     * Group call invitations this page sent, by call id: who, and how it went
     * (`ringing`, `accepted`, or the end reason: `reject`, `timeout`, `busy`, …).
     * @type {Map<string, {user: string, state: string}>}
     */
    this.invitations = new Map();
    /** @type {Map<string, string>} outcomes that arrived before their invitation's ok */
    this.earlyOutcomes = new Map();

    const on = (/** @type {string} */ type, /** @type {(frame: any) => void} */ handler) =>
      client.addEventListener(type, (event) => {
        const frame = /** @type {CustomEvent} */ (event).detail;
        if (frame.room_id === this.roomId) handler(frame);
      });
    on("room.joined", (f) => this.onJoined(f));
    on("room.member_joined", (f) => this.onMemberJoined(f));
    on("room.member_left", (f) => this.onMemberLeft(f));
    on("room.signal", (f) => this.peerFor(f.from, true)?.receive(f));
    on("room.message", (f) => this.dispatchEvent(new CustomEvent("message", { detail: f })));
    on("room.media", (f) => this.onMedia(f));
    on("room.muted", () => this.setMic(false));
    on("room.kicked", (f) => this.finish("kicked", f.by));
    on("room.closed", () => this.finish("closed"));
    const onInvitation = (/** @type {string} */ type, /** @type {(frame: any) => string} */ state) =>
      client.addEventListener(type, (event) => {
        const frame = /** @type {CustomEvent} */ (event).detail;
        const invitation = this.invitations.get(frame.call_id);
        if (invitation) {
          invitation.state = state(frame);
          this.dispatchEvent(new CustomEvent("invitations"));
        } else if (type === "call.ended") {
          this.earlyOutcomes.set(frame.call_id, frame.reason);
        }
      });
    onInvitation("call.started", () => "accepted");
    onInvitation("call.ended", (f) => f.reason);
    client.addEventListener("ice_servers", (event) => {
      const { iceServers } = /** @type {CustomEvent} */ (event).detail;
      for (const peer of this.peers.values()) peer.setIceServers(iceServers);
    });
    // After a reconnection the server has forgotten this socket: join again.
    client.addEventListener("hello", () => {
      if (this.phase === "in") this.join(this.password).catch(() => {});
    });
  }

  /** Enter the room: opens camera and microphone, then joins. */
  async join(password = "") {
    this.password = password;
    this.phase = "joining";
    this.changed();
    if (!this.localStream) {
      try {
        // Every member sends to every other one (a mesh): keep each stream modest.
        this.localStream = await openMedia(
          { audio: true, video: true },
          { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 15 } },
        );
      } catch (error) {
        this.localStream = new MediaStream();
        this.mic = this.camera = false;
        this.problem("media", /** @type {Error} */ (error).message);
      }
      this.dispatchEvent(new CustomEvent("localstream", { detail: this.localStream }));
    }
    try {
      await this.client.request("room.join", { room_id: this.roomId, password });
    } catch (error) {
      this.phase = "idle";
      this.changed();
      throw error;
    }
  }

  async leave() {
    if (this.phase !== "in") return;
    try {
      await this.client.request("room.leave", { room_id: this.roomId });
    } finally {
      this.finish("left");
    }
  }

  /** @param {string} text */
  say(text) {
    return this.client.request("room.message", { room_id: this.roomId, text });
  }

  /** @param {unknown} data */
  sendCustom(data) {
    return this.client.request("room.custom", { room_id: this.roomId, data });
  }

  /** @param {string} memberId */
  kick(memberId) {
    return this.client.request("room.kick", { room_id: this.roomId, member_id: memberId });
  }

  /**
   * Ring people into the room; each invitation's fate arrives as `invitations` events.
   * @param {string[]} users usernames
   */
  async invite(users) {
    const { invitations } = await this.client.request("room.invite", {
      room_id: this.roomId,
      users,
    });
    for (const { user, call_id } of invitations) {
      this.invitations.set(call_id, { user, state: this.earlyOutcomes.get(call_id) ?? "ringing" });
      this.earlyOutcomes.delete(call_id);
    }
    this.dispatchEvent(new CustomEvent("invitations"));
    return invitations;
  }

  muteAll() {
    return this.client.request("room.mute_all", { room_id: this.roomId });
  }

  close() {
    return this.client.request("room.close", { room_id: this.roomId });
  }

  /** @param {boolean} on */
  setMic(on) {
    this.mic = on;
    setEnabled(this.localStream, "audio", on);
    this.announceMedia();
    this.changed();
  }

  /** @param {boolean} on */
  setCamera(on) {
    this.camera = on;
    setEnabled(this.localStream, "video", on);
    this.announceMedia();
    this.changed();
  }

  /** Per other member: what their connection receives (for tests and diagnostics). */
  async stats() {
    /** @type {Record<string, any>} */
    const result = {};
    for (const [memberId, peer] of this.peers) result[memberId] = await peer.stats();
    return result;
  }

  // --- frames --------------------------------------------------------------------

  /** @param {any} frame */
  onJoined(frame) {
    const rejoin = this.memberId !== null && this.memberId !== frame.member_id;
    if (rejoin) this.closePeers(); // a new socket: every connection starts over
    this.phase = "in";
    this.memberId = frame.member_id;
    this.room = frame.room;
    this.members = new Map(frame.members.map((/** @type {RoomMember} */ m) => [m.member_id, m]));
    for (const member of frame.members) {
      if (member.member_id !== this.memberId) this.peerFor(member.member_id, false);
    }
    this.announceMedia();
    this.changed();
  }

  /** @param {{member: RoomMember}} frame */
  onMemberJoined({ member }) {
    this.members.set(member.member_id, member);
    this.peerFor(member.member_id, true);
    this.changed();
  }

  /** @param {{member_id: string}} frame */
  onMemberLeft({ member_id }) {
    this.members.delete(member_id);
    this.peers.get(member_id)?.close();
    this.peers.delete(member_id);
    this.changed();
  }

  /** @param {{member_id: string, audio: boolean, video: boolean}} frame */
  onMedia({ member_id, audio, video }) {
    const member = this.members.get(member_id);
    if (member) {
      this.members.set(member_id, { ...member, audio, video });
      this.changed();
    }
  }

  // --- internals ----------------------------------------------------------------

  /**
   * The connection to one member, made on first need.
   * @param {string} memberId
   * @param {boolean} polite  the side that was in the room first
   */
  peerFor(memberId, polite) {
    if (this.phase !== "in" || memberId === this.memberId) return null;
    let peer = this.peers.get(memberId);
    if (peer) return peer;
    peer = new PeerSession({
      polite,
      iceServers: this.client.iceServers,
      localStream: this.localStream ?? undefined,
      send: (signal) =>
        this.client.send("room.signal", { room_id: this.roomId, to: memberId, ...signal }),
    });
    peer.addEventListener("remotestream", (event) =>
      this.dispatchEvent(
        new CustomEvent("remotestream", {
          detail: { memberId, stream: /** @type {CustomEvent} */ (event).detail },
        }),
      ),
    );
    peer.addEventListener("error", (event) =>
      this.problem("negotiation", String(/** @type {CustomEvent} */ (event).detail)),
    );
    this.peers.set(memberId, peer);
    return peer;
  }

  announceMedia() {
    if (this.phase !== "in") return;
    this.client.send("room.media", { room_id: this.roomId, audio: this.mic, video: this.camera });
  }

  closePeers() {
    for (const peer of this.peers.values()) peer.close();
    this.peers.clear();
  }

  /**
   * @param {"kicked" | "closed" | "left"} reason
   * @param {any} [by]
   */
  finish(reason, by) {
    if (this.phase === "out") return;
    this.phase = "out";
    this.closePeers();
    stopMedia(this.localStream);
    this.localStream = null;
    this.members.clear();
    this.changed();
    this.dispatchEvent(new CustomEvent("ended", { detail: { reason, by } }));
  }

  changed() {
    this.dispatchEvent(new CustomEvent("change"));
  }

  /** @param {string} kind @param {string} message */
  problem(kind, message) {
    this.dispatchEvent(new CustomEvent("problem", { detail: { kind, message } }));
  }
}
