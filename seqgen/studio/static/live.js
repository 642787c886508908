// seqgen studio: the Live panel. The selected model playing bar by bar through the server (seqgen live),
// steered by the knobs below.
import { state } from "./state.js";
import { $, capitalized, say, tempo } from "./page.js";
import { api, postJson } from "./api.js";
import { controlValues } from "./controls.js";

const live = { timer: null };

// A knob per control of the model: a slider for a number, a button for a two-value control (a fill on the next
// bar), a menu for another category; each change steers the next bars.
export function showLiveControls(controls) {
  $("live-controls").replaceChildren(...controls.map((control) => {
    if (control.kind === "category" && control.values.length === 2) {
      const button = document.createElement("button");
      Object.assign(button, { type: "button", id: `live-${control.name}`, textContent: capitalized(control.name),
                              title: `${control.description}: ${control.values[1]} on the next bar` });
      button.addEventListener("click", () => steerLive({ [control.name]: control.values[1] }));
      return button;
    }
    const label = document.createElement("label");
    label.title = control.description;
    label.append(capitalized(control.name), " ");
    let input;
    if (control.kind === "category") {
      input = document.createElement("select");
      input.append(new Option("any", ""), ...control.values.map((value) => new Option(value, value)));
      input.addEventListener("change", () => steerLive({ [control.name]: input.value || null }));
      label.append(input);
    } else {
      input = document.createElement("input");
      Object.assign(input, { type: "range", min: control.low, max: control.high, step: "any",
                             value: (control.low + control.high) / 2 });
      const shown = document.createElement("output");
      shown.textContent = "any";
      input.addEventListener("input", () => { shown.textContent = Math.round(Number(input.value)); });
      input.addEventListener("change", () => steerLive({ [control.name]: Number(input.value) }));
      label.append(input, " ", shown);
    }
    input.id = `live-${control.name}`;
    return label;
  }));
}

function showLive(status) {
  $("live-start").textContent = status.playing ? "Restart" : "Start";
  $("live-stop").disabled = !status.playing;
  const where = status.to.join(" and ");
  $("live-status").textContent = status.error ? `stopped: ${status.error}` :
    status.playing ? `playing ${status.model}, bar ${status.bars}, to ${where}` +
                     (status.late_bars ? ` (${status.late_bars} bars late)` : "") :
    status.bars ? `stopped after ${status.bars} bars` : "stopped";
  $("live-status").classList.toggle("error", Boolean(status.error));
  clearTimeout(live.timer);
  if (status.playing) live.timer = setTimeout(pollLive, 500);
}

export async function pollLive() {
  try {
    showLive(await api("/api/live"));
  } catch (error) {
    say(error.message, true);
  }
}

async function startLive() {
  say("Starting…");
  try {
    showLive(await postJson("/api/live/start", { model: state.model.id, qpm: tempo(), controls: controlValues(),
                                                 midi: $("live-midi").checked, osc: $("live-osc").value }));
    say("");
  } catch (error) {
    say(error.message, true);
  }
}

async function steerLive(controls) {
  try {
    showLive(await postJson("/api/live/steer", { controls }));
  } catch (error) {
    say(error.message, true);
  }
}

async function stopLive() {
  try {
    showLive(await postJson("/api/live/stop", {}));
  } catch (error) {
    say(error.message, true);
  }
}

export function wireLive() {
  $("live-start").addEventListener("click", startLive);
  $("live-stop").addEventListener("click", stopLive);
}
