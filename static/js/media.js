// @ts-check
/** Local camera and microphone: open them, switch them on and off. No DOM. */

/** A readable reason why the camera or microphone could not be used. */
export class MediaUnavailable extends Error {
  /** @param {string} reason  "denied" | "not_found" | "busy" | "unsupported" | "failed" */
  constructor(reason, message) {
    super(message);
    this.name = "MediaUnavailable";
    this.reason = reason;
  }
}

/**
 * Open the local devices the call may use.
 * @param {{audio: boolean, video: boolean}} want
 * @param {MediaTrackConstraints} [videoConstraints]  e.g. smaller for a many-way mesh
 * @returns {Promise<MediaStream>} an empty stream when nothing is wanted
 */
export async function openMedia(want, videoConstraints = { width: { ideal: 1280 }, height: { ideal: 720 } }) {
  if (!want.audio && !want.video) return new MediaStream();
  if (!globalThis.navigator?.mediaDevices?.getUserMedia) {
    throw new MediaUnavailable("unsupported", "This browser cannot use a camera or microphone here.");
  }
  try {
    return await navigator.mediaDevices.getUserMedia({
      audio: want.audio,
      video: want.video ? videoConstraints : false,
    });
  } catch (error) {
    const name = /** @type {Error} */ (error).name;
    const reason =
      name === "NotAllowedError" || name === "SecurityError"
        ? "denied"
        : name === "NotFoundError" || name === "OverconstrainedError"
          ? "not_found"
          : name === "NotReadableError"
            ? "busy"
            : "failed";
    throw new MediaUnavailable(reason, /** @type {Error} */ (error).message);
  }
}

/**
 * Whether this page may open the devices without asking: the person allowed them
 * before. False where the browser cannot tell.
 * @param {{audio: boolean, video: boolean}} want
 * @returns {Promise<boolean>}
 */
export async function devicesAllowed(want) {
  const names = [want.audio && "microphone", want.video && "camera"].filter(Boolean);
  try {
    const states = await Promise.all(
      names.map((name) => navigator.permissions.query({ name: /** @type {PermissionName} */ (name) })),
    );
    return states.length > 0 && states.every((status) => status.state === "granted");
  } catch {
    return false;
  }
}

/**
 * Turn the stream's tracks of one kind on or off (off sends silence / black frames).
 * @param {MediaStream | null} stream
 * @param {"audio" | "video"} kind
 * @param {boolean} on
 */
export function setEnabled(stream, kind, on) {
  for (const track of stream?.getTracks() ?? []) {
    if (track.kind === kind) track.enabled = on;
  }
}

/** @param {MediaStream | null} stream */
export function stopMedia(stream) {
  for (const track of stream?.getTracks() ?? []) track.stop();
}
