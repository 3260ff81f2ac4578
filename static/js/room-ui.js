// @ts-check
/**
 * The room page: a video tile per member (name and microphone state), the chat with
 * its history, Leave, and the owner's controls. DOM only: RoomController holds the room.
 */

import { RoomController } from "./room.js";
import { SignalingClient, socketUrl } from "./signaling.js";

/** @param {string} id */
const byId = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

const page = byId("room");
/** @type {Record<string, string>} */
const STRINGS = JSON.parse(byId("room-strings").textContent ?? "{}");
const say = (/** @type {string} */ key, /** @type {Record<string, string>} */ values = {}) =>
  (STRINGS[key] ?? key).replace(/%\((\w+)\)s/g, (_, name) => values[name] ?? "");

const roomId = page.dataset.roomId ?? "";
const isOwner = page.dataset.owner === "true";
const grid = byId("room-grid");
const status = byId("room-status");
const chat = byId("chat-log");
const chatForm = /** @type {HTMLFormElement} */ (byId("chat-form"));
const joinForm = /** @type {HTMLFormElement} */ (byId("join-form"));
const controls = byId("room-controls");

const client = new SignalingClient(socketUrl(window.location));
const room = new RoomController(client, roomId);
Object.assign(window, { parley: { client, room } });

/** @type {Map<string, MediaStream>} */
const streams = new Map();

/** @param {string} text */
function showStatus(text) {
  status.textContent = text;
  status.hidden = !text;
}

/**
 * The tile of one member (made on first need).
 * @param {string} memberId
 */
function tile(memberId) {
  let element = /** @type {HTMLElement | null} */ (grid.querySelector(`[data-member-id="${CSS.escape(memberId)}"]`));
  if (!element) {
    const template = /** @type {HTMLTemplateElement} */ (byId("tile-template"));
    element = /** @type {HTMLElement} */ (
      /** @type {HTMLElement} */ (template.content.firstElementChild).cloneNode(true)
    );
    element.dataset.memberId = memberId;
    const kick = /** @type {HTMLButtonElement} */ (element.querySelector(".kick"));
    kick.hidden = !isOwner || memberId === room.memberId;
    kick.addEventListener("click", () => room.kick(memberId).catch(report));
    grid.append(element);
  }
  return element;
}

function render() {
  const inRoom = room.phase === "in";
  page.dataset.phase = room.phase;
  controls.hidden = !inRoom;
  chatForm.hidden = !inRoom;
  joinForm.hidden = room.phase !== "idle";
  for (const owner of document.querySelectorAll("[data-owner-only]")) {
    /** @type {HTMLElement} */ (owner).hidden = !inRoom || !isOwner;
  }
  const present = new Set(inRoom ? room.members.keys() : []);
  for (const element of grid.querySelectorAll("[data-member-id]")) {
    if (!present.has(/** @type {HTMLElement} */ (element).dataset.memberId ?? "")) element.remove();
  }
  for (const member of room.members.values()) {
    const element = tile(member.member_id);
    const self = member.member_id === room.memberId;
    const audio = self ? room.mic : member.audio;
    const video = self ? room.camera : member.video;
    /** @type {HTMLElement} */ (element.querySelector(".name")).textContent = self
      ? say("you", { name: member.user.display_name })
      : member.user.display_name;
    element.dataset.self = String(self);
    element.dataset.audio = String(audio);
    element.dataset.video = String(video);
    const mark = /** @type {HTMLElement} */ (element.querySelector(".mic-off"));
    mark.hidden = audio;
    mark.textContent = say("mic_off");
    const videoElement = /** @type {HTMLVideoElement} */ (element.querySelector("video"));
    const stream = self ? room.localStream : streams.get(member.member_id);
    if (stream && videoElement.srcObject !== stream) videoElement.srcObject = stream;
    videoElement.muted = self;
  }
  byId("room-mic").textContent = say(room.mic ? "mute" : "unmute");
  byId("room-mic").setAttribute("aria-pressed", String(!room.mic));
  byId("room-camera").textContent = say(room.camera ? "camera_stop" : "camera_start");
  byId("room-camera").setAttribute("aria-pressed", String(!room.camera));
  byId("member-count").textContent = inRoom ? String(room.members.size) : "";
}

/** @param {any} frame */
function addMessage(frame) {
  const item = document.createElement("li");
  item.className = "chat-message";
  item.dataset.messageId = String(frame.id);
  const who = document.createElement("strong");
  who.textContent = frame.from.display_name;
  const text = document.createElement("span");
  text.textContent = frame.kind === "text" ? frame.text : JSON.stringify(frame.data);
  if (frame.kind !== "text") item.classList.add("custom");
  item.append(who, " ", text);
  chat.append(item);
  chat.scrollTop = chat.scrollHeight;
}

/** @param {any} error */
function report(error) {
  showStatus(say("problem", { error: error?.message ?? String(error) }));
}

room.addEventListener("change", render);
room.addEventListener("localstream", render);
room.addEventListener("remotestream", (event) => {
  const { memberId, stream } = /** @type {CustomEvent} */ (event).detail;
  streams.set(memberId, stream);
  render();
});
room.addEventListener("message", (event) => addMessage(/** @type {CustomEvent} */ (event).detail));
room.addEventListener("problem", (event) => {
  const { message } = /** @type {CustomEvent} */ (event).detail;
  console.warn(`room problem: ${message}`);
  showStatus(say("problem", { error: message }));
});
room.addEventListener("ended", (event) => {
  const { reason, by } = /** @type {CustomEvent} */ (event).detail;
  streams.clear();
  grid.replaceChildren();
  showStatus(
    reason === "kicked"
      ? say("kicked", { name: by?.display_name ?? "" })
      : reason === "closed"
        ? say("closed")
        : say("left"),
  );
  render();
});
client.addEventListener("room.muted", (event) => {
  if (/** @type {CustomEvent} */ (event).detail.room_id === roomId) showStatus(say("muted"));
});

chatForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const input = /** @type {HTMLInputElement} */ (chatForm.elements.namedItem("text"));
  const text = input.value.trim();
  if (!text) return;
  room.say(text).then(() => (input.value = ""), report);
});
joinForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const password = /** @type {HTMLInputElement | null} */ (joinForm.elements.namedItem("password"));
  showStatus("");
  room.join(password?.value ?? "").catch(report);
});
byId("room-leave").addEventListener("click", () => room.leave().catch(report));
byId("room-mic").addEventListener("click", () => room.setMic(!room.mic));
byId("room-camera").addEventListener("click", () => room.setCamera(!room.camera));
byId("room-mute-all").addEventListener("click", () => room.muteAll().catch(report));
byId("room-close").addEventListener("click", () => room.close().catch(report));

// --- group call invitations -------------------------------------------------------

const inviteButton = /** @type {HTMLButtonElement | null} */ (document.getElementById("room-invite"));
const inviteDialog = /** @type {HTMLDialogElement | null} */ (document.getElementById("invite-dialog"));
const inviteForm = /** @type {HTMLFormElement | null} */ (document.getElementById("invite-form"));
const invitationList = byId("invitations");

/** @param {string} username */
function nameOf(username) {
  const box = inviteForm?.querySelector(`input[value="${CSS.escape(username)}"]`);
  return /** @type {HTMLElement | null} */ (box)?.dataset.name ?? username;
}

/** @param {string[]} users */
function ring(users) {
  if (users.length) room.invite(users).catch(report);
}

function renderInvitations() {
  invitationList.replaceChildren(
    ...[...room.invitations.values()].map(({ user, state }) => {
      const item = document.createElement("li");
      item.dataset.user = user;
      item.dataset.state = state;
      item.textContent = say(`invite_${state}`, { name: nameOf(user) });
      return item;
    }),
  );
}
room.addEventListener("invitations", renderInvitations);

inviteButton?.addEventListener("click", () => inviteDialog?.showModal());
inviteForm?.addEventListener("submit", (event) => {
  const submitter = /** @type {SubmitEvent} */ (event).submitter;
  if (/** @type {HTMLButtonElement | null} */ (submitter)?.value !== "ring") return;
  const picked = [...inviteForm.querySelectorAll("input[name=invite]:checked")].map(
    (box) => /** @type {HTMLInputElement} */ (box).value,
  );
  for (const box of inviteForm.querySelectorAll("input[name=invite]")) {
    /** @type {HTMLInputElement} */ (box).checked = false;
  }
  ring(picked);
});

// A group call started from the home page: ring its people once this page is in.
const toInvite = new URLSearchParams(window.location.search).get("invite");
if (toInvite) {
  const ringOnce = () => {
    if (room.phase !== "in") return;
    room.removeEventListener("change", ringOnce);
    window.history.replaceState(null, "", window.location.pathname);
    ring(toInvite.split(",").filter(Boolean));
  };
  room.addEventListener("change", ringOnce);
}

client.addEventListener("hello", () => {
  // Rooms without a password are entered at once; others wait for the form.
  if (room.phase === "idle" && page.dataset.password !== "true") room.join().catch(report);
});
render();
client.connect();
