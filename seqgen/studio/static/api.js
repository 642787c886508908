// seqgen studio: talking to the server.
import { state } from "./state.js";
import { say } from "./page.js";

export async function api(path, options = {}) {
  let response;
  try {
    response = await fetch(path, options);
  } catch (error) {
    throw new Error("the studio server does not answer; is seqgen studio still running?");
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error || `the server answered ${response.status}`);
  return body;
}

export function postJson(path, body) {
  return api(path, { method: "POST", body: JSON.stringify(body), headers: { "Content-Type": "application/json" } });
}

// Send a chosen or dropped MIDI file to ``path``: the answer, or null (and the page says why) when it fails.
export async function postMidi(path, file) {
  if (!file) return null;
  if (file.size > state.limits.upload_bytes) {
    say(`${file.name} is larger than ${state.limits.upload_bytes / 1024} KiB; drop a shorter MIDI file`, true);
    return null;
  }
  say(`Reading ${file.name}…`);
  try {
    const found = await api(path, { method: "POST", body: file, headers: { "Content-Type": "audio/midi" } });
    say("");
    return found;
  } catch (error) {
    say(error.message, true);
    return null;
  }
}
