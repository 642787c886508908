// seqgen studio: tapping. A rhythm tapped on a key or the pad becomes a take, played to it by a model a plugin
// offers. A MIDI file's notes are taps too (with their velocities); tapping after one starts again.
import { state } from "./state.js";
import { $, numberField, say, tempo } from "./page.js";
import { postJson, postMidi } from "./api.js";
import { synth } from "./sound.js";
import { addTakes, takeOf } from "./takes.js";

export const taps = { times: [], velocities: null, first: 0 };

export function tap(event) {
  const now = event.timeStamp / 1000;
  if (taps.velocities) clearTaps();
  if (!taps.times.length) taps.first = now;
  const time = now - taps.first;
  if (taps.times.length >= state.limits.taps || time > state.limits.tap_seconds) {
    say(`The studio takes up to ${state.limits.taps} taps over ${state.limits.tap_seconds} s; Clear to start again`,
        true);
    return;
  }
  taps.times.push(Math.round(time * 1e4) / 1e4);
  synth.play(synth.output(), { pitch: 76, velocity: 70, drum: false, length: 0.03 }, synth.ctx.currentTime);
  $("tap-pad").classList.add("hit");
  setTimeout(() => $("tap-pad").classList.remove("hit"), 80);
  showTaps();
}

function clearTaps() {
  Object.assign(taps, { times: [], velocities: null });
  $("tap-notice").textContent = "";
  showTaps();
}

async function tapsFromMidi(file) {
  const found = await postMidi("/api/taps", file);
  if (!found) return;
  Object.assign(taps, { times: found.times, velocities: found.velocities });
  $("qpm").value = found.qpm;
  showTaps();
  $("tap-notice").textContent = `${file.name}: its notes are the taps, at ${found.qpm} BPM` +
    (found.notice ? ` (${found.notice})` : "");
}

function showTaps() {
  const n = taps.times.length;
  $("tap-count").textContent = n ? `${n} tap${n > 1 ? "s" : ""} over ${taps.times[n - 1].toFixed(2)} s` : "no taps";
  $("tap-clear").disabled = $("tap-make").disabled = !n;
}

async function takeFromTaps() {
  const request = { model: $("tap-model").value, times: taps.times, qpm: tempo(),
                    temperature: numberField("temperature"), seed: numberField("seed") };
  if (taps.velocities) request.velocities = taps.velocities;
  $("tap-make").disabled = true;
  say(`${request.model} is playing to the taps…`);
  try {
    const found = await postJson("/api/rhythm", request);
    const takes = found.results.map((result) => {
      const made = takeOf({ ...result, hits: null }, { qpm: request.qpm, options: [] }, null,
                          { id: request.model, noun: "take", rows: [], steps_per_quarter: result.steps_per_quarter });
      made.from = `${request.model} played to ${request.times.length} taps`;
      made.tapped = true;
      return made;
    });
    addTakes(takes);
    $("take").scrollIntoView({ block: "nearest" });
    say(`Take ${takes[0].n}: ${takes[0].from}`);
  } catch (error) {
    say(error.message, true);
  } finally {
    $("tap-make").disabled = !taps.times.length;
  }
}

export function wireTaps() {
  $("tap-pad").addEventListener("pointerdown", (event) => {
    if (event.button === 0) tap(event);
  });
  $("tap-clear").addEventListener("click", clearTaps);
  $("tap-file").addEventListener("change", async (event) => {
    await tapsFromMidi(event.target.files[0]);
    event.target.value = "";
  });
  // A MIDI file dropped on the Tap panel gives taps; anywhere else, the primer (main.js).
  $("tap-panel").addEventListener("drop", (event) => {
    event.preventDefault();
    event.stopPropagation();
    $("drop").classList.remove("over");
    if (event.dataTransfer.files.length) tapsFromMidi(event.dataTransfer.files[0]);
  });
  $("tap-make").addEventListener("click", takeFromTaps);
}
