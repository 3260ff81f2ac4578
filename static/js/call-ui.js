// @ts-check
/**
 * The call screens of the home page: Call buttons, the outgoing panel, the incoming
 * dialog with its ringtone, the in-call view, and a sentence for how the call ended.
 * DOM only: CallController (call.js) holds the call.
 */

import { CallController } from "./call.js";

/** @param {string} id */
const byId = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

/** @type {Record<string, string>} */
const STRINGS = JSON.parse(byId("call-strings").textContent ?? "{}");

/**
 * @param {string} key
 * @param {Record<string, string>} [values]
 */
function say(key, values = {}) {
  return (STRINGS[key] ?? key).replace(/%\((\w+)\)s/g, (_, name) => values[name] ?? "");
}

/** @param {number} seconds */
export function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/**
 * The sentence for an ended call, from this side's point of view.
 * @param {import("./call.js").CallSnapshot} call
 */
function endSentence(call) {
  const ended = call.ended ?? { reason: "hangup", duration_s: 0 };
  const values = { name: call.peer.display_name, duration: clock(ended.duration_s) };
  const sided = `ended_${ended.reason}_${call.role}`;
  return say(sided in STRINGS ? sided : `ended_${ended.reason}`, values);
}

/** A ringtone made on the spot (no audio file): two tones, twice a second. */
class Ringtone {
  constructor() {
    /** @type {AudioContext | null} */
    this.context = null;
    this.timer = 0;
  }

  start() {
    if (this.timer) return;
    try {
      this.context ??= new AudioContext();
      void this.context.resume();
    } catch {
      return; // no audio output: the dialog still shows
    }
    const ring = () => {
      const context = /** @type {AudioContext} */ (this.context);
      for (const [offset, frequency] of [[0, 440], [0.45, 480]]) {
        const oscillator = context.createOscillator();
        const gain = context.createGain();
        oscillator.frequency.value = frequency;
        gain.gain.value = 0.08;
        oscillator.connect(gain).connect(context.destination);
        oscillator.start(context.currentTime + offset);
        oscillator.stop(context.currentTime + offset + 0.4);
      }
    };
    ring();
    this.timer = window.setInterval(ring, 2000);
    document.body.dataset.ringing = "true";
  }

  stop() {
    window.clearInterval(this.timer);
    this.timer = 0;
    delete document.body.dataset.ringing;
  }
}

/**
 * Wire the call screens to a signalling client.
 * @param {import("./signaling.js").SignalingClient} client
 */
export function mountCallUi(client) {
  const calls = new CallController(client);
  const ringtone = new Ringtone();
  const panel = byId("call-panel");
  const status = byId("call-status");
  const timer = byId("call-timer");
  const problem = byId("call-problem");
  const remoteVideo = /** @type {HTMLVideoElement} */ (byId("remote-video"));
  const localVideo = /** @type {HTMLVideoElement} */ (byId("local-video"));
  const buttons = {
    accept: byId("call-accept"),
    reject: byId("call-reject"),
    cancel: byId("call-cancel"),
    mic: byId("call-mic"),
    camera: byId("call-camera"),
    hangup: byId("call-hangup"),
    close: byId("call-close"),
  };
  let tick = 0;
  let closeLater = 0;

  /** @param {Promise<unknown>} action */
  const attempt = (action) =>
    action.catch((error) => showProblem(say("request_problem", { error: error.message })));

  /** @param {string} text */
  const showProblem = (text) => {
    problem.textContent = text;
    problem.hidden = false;
  };

  // The Call buttons of the people list (rows added later included).
  document.getElementById("people")?.addEventListener("click", (event) => {
    const button = /** @type {HTMLElement} */ (event.target).closest("button[data-call-media]");
    if (!button || calls.busy) return;
    const row = /** @type {HTMLElement} */ (button.closest("li.person"));
    const peer = {
      username: row.dataset.username ?? "",
      display_name: row.querySelector(".name")?.textContent?.trim() || row.dataset.username || "",
    };
    problem.hidden = true;
    attempt(calls.invite(peer, /** @type {"audio" | "video"} */ (button.dataset.callMedia)));
  });

  buttons.accept.addEventListener("click", () => attempt(calls.accept()));
  buttons.reject.addEventListener("click", () => attempt(calls.reject()));
  buttons.cancel.addEventListener("click", () => attempt(calls.cancel()));
  buttons.hangup.addEventListener("click", () => attempt(calls.hangup()));
  buttons.close.addEventListener("click", () => calls.dismiss());
  buttons.mic.addEventListener("click", () => calls.setMic(!calls.call?.mic));
  buttons.camera.addEventListener("click", () => calls.setCamera(!calls.call?.camera));
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && calls.call?.phase === "incoming") attempt(calls.reject());
  });

  calls.addEventListener("localstream", (event) => {
    localVideo.srcObject = /** @type {CustomEvent} */ (event).detail;
  });
  calls.addEventListener("remotestream", (event) => {
    remoteVideo.srcObject = /** @type {CustomEvent} */ (event).detail;
  });
  calls.addEventListener("problem", (event) => {
    const { kind, message } = /** @type {CustomEvent} */ (event).detail;
    console.warn(`call problem (${kind}): ${message}`);
    showProblem(kind === "media" ? say("media_problem", { error: message }) : message);
  });
  calls.addEventListener("change", () => render(calls.call));
  // An accepted group call invitation: the call goes on in its room.
  calls.addEventListener("group", (event) => {
    const { roomId } = /** @type {CustomEvent} */ (event).detail;
    window.location.assign(`/rooms/${encodeURIComponent(roomId)}/`);
  });

  /** @param {import("./call.js").CallSnapshot | null} call */
  function render(call) {
    window.clearInterval(tick);
    window.clearTimeout(closeLater);
    if (!call) {
      panel.hidden = true;
      panel.dataset.phase = "";
      ringtone.stop();
      remoteVideo.srcObject = null;
      localVideo.srcObject = null;
      return;
    }
    const wasHidden = panel.hidden;
    panel.hidden = false;
    panel.dataset.phase = call.phase;
    panel.dataset.media = call.media;
    panel.dataset.group = String(call.room !== null);
    panel.setAttribute("role", call.phase === "incoming" ? "alertdialog" : "region");
    const name = call.peer.display_name;
    const phaseText = {
      calling: say("calling", { name }),
      ringing: say("ringing", { name }),
      incoming: call.room
        ? say("incoming_group", { name, room: call.room.name, count: String(call.room.members) })
        : say(call.media === "video" ? "incoming_video" : "incoming_audio", { name }),
      connecting: call.room ? say("joining_group", { room: call.room.name }) : say("connecting", { name }),
      active: say("active", { name }),
      ended: endSentence(call),
    };
    status.textContent = phaseText[call.phase];
    const show = /** @type {Record<keyof typeof buttons, boolean>} */ ({
      accept: call.phase === "incoming",
      reject: call.phase === "incoming",
      cancel: call.role === "caller" && (call.phase === "calling" || call.phase === "ringing"),
      mic: (call.phase === "connecting" || call.phase === "active") && call.canMic && !call.room,
      camera: (call.phase === "connecting" || call.phase === "active") && call.canCamera && !call.room,
      hangup: (call.phase === "connecting" || call.phase === "active") && !call.room,
      close: call.phase === "ended",
    });
    for (const [key, button] of Object.entries(buttons)) {
      button.hidden = !show[/** @type {keyof typeof buttons} */ (key)];
    }
    buttons.mic.textContent = say(call.mic ? "mute" : "unmute");
    buttons.mic.setAttribute("aria-pressed", String(!call.mic));
    buttons.camera.textContent = say(call.camera ? "camera_stop" : "camera_start");
    buttons.camera.setAttribute("aria-pressed", String(!call.camera));
    const peerMicOff = byId("peer-mic-off");
    const peerCameraOff = byId("peer-camera-off");
    peerMicOff.hidden = call.phase === "ended" || call.remoteMic;
    peerMicOff.textContent = say("peer_mic_off", { name });
    peerCameraOff.hidden = call.phase === "ended" || call.media !== "video" || call.remoteCamera;
    peerCameraOff.textContent = say("peer_camera_off", { name });

    if (call.phase === "incoming") {
      ringtone.start();
      if (wasHidden) buttons.accept.focus();
    } else {
      ringtone.stop();
    }
    timer.hidden = call.startedAt === null || call.phase === "ended";
    if (call.startedAt !== null && call.phase !== "ended") {
      const startedAt = call.startedAt;
      const show = () => (timer.textContent = clock((Date.now() - startedAt) / 1000));
      show();
      tick = window.setInterval(show, 1000);
    }
    if (call.phase === "ended") {
      buttons.close.focus();
      remoteVideo.srcObject = null;
      localVideo.srcObject = null;
      closeLater = window.setTimeout(() => calls.dismiss(), 8000);
    } else if (wasHidden && show.hangup) {
      buttons.hangup.focus();
    }
  }

  return calls;
}
