// @ts-check
/**
 * The home page: keeps the people list's online dots live from `presence` frames and
 * carries the call screens (call-ui.js).
 */

import { mountCallUi } from "./call-ui.js";
import { SignalingClient, socketUrl } from "./signaling.js";

const list = /** @type {HTMLElement} */ (document.getElementById("people"));
const template = /** @type {HTMLTemplateElement} */ (document.getElementById("person-template"));
const nobody = /** @type {HTMLElement} */ (document.getElementById("nobody"));
const status = /** @type {HTMLElement} */ (document.getElementById("connection"));

/** @param {HTMLElement} element @param {string} state */
function label(element, state) {
  return element.dataset[`label${state[0].toUpperCase()}${state.slice(1)}`] ?? state;
}

/** @param {{username: string, display_name: string}} user */
function personRow(user) {
  const row = /** @type {HTMLElement} */ (
    /** @type {HTMLElement} */ (template.content.firstElementChild).cloneNode(true)
  );
  row.dataset.username = user.username;
  /** @type {HTMLElement} */ (row.querySelector(".name")).textContent = user.display_name;
  list.append(row);
  nobody.hidden = true;
  return row;
}

const client = new SignalingClient(socketUrl(window.location));

client.addEventListener("state", (event) => {
  const { state } = /** @type {CustomEvent} */ (event).detail;
  status.dataset.state = state;
  status.textContent = label(status, state);
});

client.addEventListener("presence", (event) => {
  const { user, state } = /** @type {CustomEvent} */ (event).detail;
  if (user.username === client.hello?.user.username) return;
  const row =
    /** @type {HTMLElement | null} */ (list.querySelector(`li[data-username="${CSS.escape(user.username)}"]`)) ??
    personRow(user);
  row.dataset.state = state;
  const text = /** @type {HTMLElement} */ (row.querySelector(".state"));
  text.textContent = label(text, state);
});

client.addEventListener("unauthorized", () => window.location.reload());

const calls = mountCallUi(client);
// For the browser tests and the curious: the page's connection and its calls.
Object.assign(window, { parley: { client, calls } });

client.connect();
