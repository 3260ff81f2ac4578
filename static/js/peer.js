// @ts-check
/**
 * One RTCPeerConnection with perfect negotiation (W3C): the same routine on both ends,
 * `makingOffer` / `ignoreOffer` and a polite and an impolite side, argument-less
 * setLocalDescription(), remote candidates queued until a remote description exists,
 * and incoming signals handled strictly in order. Used by 1:1 calls and by rooms.
 * No DOM: the page decides where the remote stream is shown.
 *
 * The impolite side makes the first offer. The polite side adds its tracks when that
 * offer arrives, reusing the offered transceivers, so the first exchange never
 * collides (a collision while the polite side's own offer was still being set stalled
 * Chromium's ICE in our tests); perfect negotiation still settles later ones.
 */

export class PeerSession extends EventTarget {
  /**
   * @param {object} options
   * @param {boolean} options.polite        the polite side yields on offer collisions
   * @param {RTCIceServer[]} options.iceServers
   * @param {(signal: {description?: RTCSessionDescriptionInit, candidate?: RTCIceCandidateInit}) => void} options.send
   * @param {MediaStream} [options.localStream]
   * @param {RTCIceTransportPolicy} [options.iceTransportPolicy]
   *
   * Events: "remotestream" {detail: MediaStream}, "state" {detail: RTCPeerConnectionState},
   * "error" {detail: Error}.
   */
  constructor({ polite, iceServers, send, localStream, iceTransportPolicy = "all" }) {
    super();
    this.polite = polite;
    this.send = send;
    this.makingOffer = false;
    this.ignoreOffer = false;
    this.settingRemoteAnswer = false;
    /** @type {RTCIceCandidateInit[]} */
    this.pendingCandidates = [];
    this.incoming = Promise.resolve();
    /** @type {MediaStream | null} */
    this.remoteStream = null;
    const pc = new RTCPeerConnection({ iceServers, iceTransportPolicy });
    this.pc = pc;

    pc.onnegotiationneeded = async () => {
      try {
        this.makingOffer = true;
        await pc.setLocalDescription();
        if (pc.localDescription) this.send({ description: pc.localDescription.toJSON() });
      } catch (error) {
        this.fail(error);
      } finally {
        this.makingOffer = false;
      }
    };
    pc.onicecandidate = ({ candidate }) => {
      if (candidate && candidate.candidate) this.send({ candidate: candidate.toJSON() });
    };
    pc.ontrack = ({ track, streams }) => {
      const stream = streams[0] ?? this.remoteStream ?? new MediaStream();
      if (!stream.getTracks().includes(track)) stream.addTrack(track);
      if (stream !== this.remoteStream) {
        this.remoteStream = stream;
        this.dispatchEvent(new CustomEvent("remotestream", { detail: stream }));
      }
    };
    pc.onconnectionstatechange = () =>
      this.dispatchEvent(new CustomEvent("state", { detail: pc.connectionState }));

    this.localStream = localStream ?? null;
    this.attached = false;
    if (!polite) this.attachLocal();
  }

  /** Add the local tracks (once); on the offering side, ask to receive both kinds. */
  attachLocal() {
    if (this.attached) return;
    this.attached = true;
    const stream = this.localStream;
    for (const track of stream?.getTracks() ?? []) this.pc.addTrack(track, stream);
    if (this.polite) return; // the offer's transceivers already receive both kinds
    // So that a side sending nothing of a kind still receives it.
    const sending = new Set(stream?.getTracks().map((t) => t.kind) ?? []);
    for (const kind of ["audio", "video"]) {
      if (!sending.has(kind)) this.pc.addTransceiver(kind, { direction: "recvonly" });
    }
  }

  /**
   * A `call.signal` / `room.signal` from the peer. Handled strictly in order.
   * @param {{description?: RTCSessionDescriptionInit, candidate?: RTCIceCandidateInit}} signal
   */
  receive(signal) {
    this.incoming = this.incoming.then(() => this.handle(signal)).catch((error) => this.fail(error));
    return this.incoming;
  }

  /** @param {{description?: RTCSessionDescriptionInit, candidate?: RTCIceCandidateInit}} signal */
  async handle({ description, candidate }) {
    const pc = this.pc;
    if (description) {
      const readyForOffer =
        !this.makingOffer && (pc.signalingState === "stable" || this.settingRemoteAnswer);
      const offerCollision = description.type === "offer" && !readyForOffer;
      this.ignoreOffer = !this.polite && offerCollision;
      if (this.ignoreOffer) return;
      this.settingRemoteAnswer = description.type === "answer";
      await pc.setRemoteDescription(description);
      this.settingRemoteAnswer = false;
      if (description.type === "offer") this.attachLocal();
      for (const queued of this.pendingCandidates.splice(0)) await this.addCandidate(queued);
      if (description.type === "offer") {
        await pc.setLocalDescription();
        if (pc.localDescription) this.send({ description: pc.localDescription.toJSON() });
      }
    } else if (candidate) {
      if (!pc.remoteDescription) {
        this.pendingCandidates.push(candidate);
        return;
      }
      await this.addCandidate(candidate);
    }
  }

  /** @param {RTCIceCandidateInit} candidate */
  async addCandidate(candidate) {
    try {
      await this.pc.addIceCandidate(candidate);
    } catch (error) {
      if (!this.ignoreOffer) throw error; // candidates of an ignored offer may fail
    }
  }

  /**
   * What is flowing, from getStats(): inbound video frames decoded and audio bytes
   * received, outbound too, and the selected candidate pair.
   */
  async stats() {
    const report = await this.pc.getStats();
    const result = {
      video: { framesDecoded: 0, framesReceived: 0, framesSent: 0 },
      audio: { bytesReceived: 0, bytesSent: 0 },
      candidatePair: /** @type {Record<string, any> | null} */ (null),
    };
    /** @type {Map<string, any>} */
    const byId = new Map();
    report.forEach((entry) => byId.set(entry.id, entry));
    report.forEach((entry) => {
      if (entry.type === "inbound-rtp" && entry.kind === "video") {
        result.video.framesDecoded += entry.framesDecoded ?? 0;
        result.video.framesReceived += entry.framesReceived ?? 0;
      } else if (entry.type === "inbound-rtp" && entry.kind === "audio") {
        result.audio.bytesReceived += entry.bytesReceived ?? 0;
      } else if (entry.type === "outbound-rtp" && entry.kind === "video") {
        result.video.framesSent += entry.framesSent ?? 0;
      } else if (entry.type === "outbound-rtp" && entry.kind === "audio") {
        result.audio.bytesSent += entry.bytesSent ?? 0;
      } else if (entry.type === "transport" && entry.selectedCandidatePairId) {
        const pair = byId.get(entry.selectedCandidatePairId);
        if (pair) {
          result.candidatePair = {
            local: byId.get(pair.localCandidateId)?.candidateType,
            remote: byId.get(pair.remoteCandidateId)?.candidateType,
          };
        }
      }
    });
    return result;
  }

  /**
   * New TURN credentials (SignalingClient's "ice_servers"): an ICE restart in this
   * connection would fail with expired ones.
   * @param {RTCIceServer[]} iceServers
   */
  setIceServers(iceServers) {
    if (this.pc.signalingState === "closed") return;
    this.pc.setConfiguration({ ...this.pc.getConfiguration(), iceServers });
  }

  close() {
    this.pc.onnegotiationneeded = null;
    this.pc.onicecandidate = null;
    this.pc.ontrack = null;
    this.pc.onconnectionstatechange = null;
    this.pc.close();
  }

  /** @param {unknown} error */
  fail(error) {
    this.dispatchEvent(new CustomEvent("error", { detail: error }));
  }
}
