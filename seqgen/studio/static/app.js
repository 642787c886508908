// seqgen studio: the page. Plain JavaScript, no libraries; sounds are synthesized with Web Audio.
"use strict";

const $ = (id) => document.getElementById(id);
const ROW_COLORS = ["#e6503c", "#f0aa32", "#5ac8e6", "#3c8cf0", "#78c85a", "#5aaa46", "#3c8c3c", "#e66ec8",
                    "#b478f0"];
const HISTORY = 60;  // undo steps kept
// What other scripts of the page (song.js) change: the steps [first, end) of an item the transport plays,
// and what follows the step being played and the take being shown.
const hooks = { range: (item) => [0, item.steps], step: () => {}, shown: () => {} };
// A primer or a take: {steps, hits: {"step:row": [velocity, offset]}, rows, spq, ...}; takes also have
// n, model, primerSteps, kept, resultId and text (and events, by step, for models without a grid).
const state = {
  limits: {}, wav: false, model: null, primer: null, takes: [], selected: "primer", previous: null, nextTake: 1,
  history: [], brush: 100, stepsPerBar: 16, infillRows: new Set(),  // rows chosen to regenerate
};

// Talking to the server

async function api(path, options = {}) {
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

function postJson(path, body) {
  return api(path, { method: "POST", body: JSON.stringify(body), headers: { "Content-Type": "application/json" } });
}

function say(text, isError = false) {
  const message = $("message");
  message.textContent = text;
  message.classList.toggle("error", isError);
}

function numberField(id) {
  const text = $(id).value.trim();
  if (text === "") return null;
  return Number.isFinite(Number(text)) ? Number(text) : text;  // the server explains bad values
}

function tempo() {
  const qpm = Number($("qpm").value);
  return qpm >= state.limits.qpm[0] && qpm <= state.limits.qpm[1] ? qpm : 120;
}

function swing() {
  return Number($("swing").value);
}

// Undo: every change first saves what it changes

function remember() {
  state.history.push(structuredClone({ primer: state.primer, takes: state.takes, selected: state.selected,
                                       previous: state.previous, primerText: $("primer-text").value }));
  if (state.history.length > HISTORY) state.history.shift();
  $("undo").disabled = false;
}

function undo() {
  const saved = state.history.pop();
  $("undo").disabled = !state.history.length;
  if (!saved) return;
  Object.assign(state, { primer: saved.primer, takes: saved.takes, selected: saved.selected,
                         previous: saved.previous });
  $("primer-text").value = saved.primerText;
  showPrimer();
  showTakes();
  say("Undone.");
}

// Step grids

const key = (step, row) => `${step}:${row}`;

function drawGrid(host, item, { primerSteps = 0 } = {}) {
  host.replaceChildren();
  const rows = item.rows;
  const grid = document.createElement("div");
  grid.className = "grid editable";
  const labels = document.createElement("div");
  labels.className = "labels";
  for (const row of rows) {
    const label = document.createElement("div");
    label.textContent = row.label;
    labels.append(label);
  }
  const scroll = document.createElement("div");
  scroll.className = "scroll";
  const board = document.createElement("div");
  board.className = "cells";
  board.style.setProperty("--rows", rows.length);
  board.style.setProperty("--steps", item.steps);
  for (let s = 0; s < item.steps; s++) {
    for (let r = rows.length - 1; r >= 0; r--) {
      const cell = document.createElement("div");
      cell.className = "cell";
      if (Math.floor(s / item.spq) % 2 === 0) cell.classList.add("beat");
      if (s > 0 && s % state.stepsPerBar === 0) cell.classList.add("bar");
      if (s < primerSteps) cell.classList.add("primer");
      cell.style.setProperty("--color", ROW_COLORS[r % ROW_COLORS.length]);
      cell.dataset.step = s;
      cell.dataset.row = r;
      showHit(cell, item.hits[key(s, r)]);
      board.append(cell);
    }
  }
  const playhead = document.createElement("div");
  playhead.className = "playhead";
  board.append(playhead);
  scroll.append(board);
  grid.append(labels, scroll);
  host.append(grid);
  makeEditable(board, item);
}

function showHit(cell, hit) {
  cell.classList.toggle("on", Boolean(hit));
  if (hit) {
    cell.style.setProperty("--v", (0.15 + 0.85 * hit[0] / 127).toFixed(3));
    cell.dataset.velocity = hit[0];
    cell.title = `velocity ${hit[0]}`;
  } else {
    delete cell.dataset.velocity;
    cell.removeAttribute("title");
  }
}

// Editing: click a cell to add a hit (and hear it), drag across cells to paint or erase, drag a hit up or
// down for its velocity, click a hit to remove it.
let stroke = null;

function makeEditable(board, item) {
  const set = (cell, hit) => {
    const k = key(cell.dataset.step, cell.dataset.row);
    if (hit) item.hits[k] = hit;
    else delete item.hits[k];
    showHit(cell, hit);
  };
  board.addEventListener("pointerdown", (event) => {
    const cell = event.target.closest(".cell");
    if (!cell || event.button !== 0) return;
    event.preventDefault();
    remember();
    const hit = item.hits[key(cell.dataset.step, cell.dataset.row)];
    stroke = { item, board, set, cell, y: event.clientY, velocity: hit ? hit[0] : state.brush,
               mode: hit ? "pending" : "on" };
    if (!hit) {
      set(cell, [state.brush, 0]);
      preview(item, cell);
    }
  });
  board.addEventListener("pointerover", (event) => {
    const cell = event.target.closest(".cell");
    if (!stroke || stroke.board !== board || !cell || cell === stroke.cell || !event.buttons) return;
    if (stroke.mode === "velocity") return;
    const sameStep = cell.dataset.step === stroke.cell.dataset.step;
    if (sameStep && (stroke.mode === "pending" || stroke.mode === "on")) return;  // a velocity drag, maybe
    if (stroke.mode === "pending") {
      set(stroke.cell, null);
      stroke.mode = "erase";
    }
    if (stroke.mode === "on") stroke.mode = "paint";
    const had = item.hits[key(cell.dataset.step, cell.dataset.row)];
    if (stroke.mode === "erase") set(cell, null);
    else if (!had) {
      set(cell, [state.brush, 0]);
      preview(item, cell);
    }
  });
}

window.addEventListener("pointermove", (event) => {
  if (!stroke || !event.buttons) return;
  const dy = event.clientY - stroke.y;
  if ((stroke.mode === "pending" || stroke.mode === "on") && Math.abs(dy) > 4) stroke.mode = "velocity";
  if (stroke.mode !== "velocity") return;
  const velocity = Math.max(1, Math.min(127, Math.round(stroke.velocity - dy)));
  const hit = stroke.item.hits[key(stroke.cell.dataset.step, stroke.cell.dataset.row)];
  stroke.set(stroke.cell, [velocity, hit ? hit[1] : 0]);
  state.brush = velocity;
  say(`Velocity ${velocity} (new hits get it too)`);
});

window.addEventListener("pointerup", () => {
  if (!stroke) return;
  if (stroke.mode === "pending") stroke.set(stroke.cell, null);
  if (stroke.mode === "velocity") preview(stroke.item, stroke.cell);
  const item = stroke.item;
  stroke = null;
  edited(item);
});

function edited(item) {
  if (item === state.primer) showPrimerLength();
  else refreshClip();
}

// The primer

function emptyPrimer(steps) {
  return { steps, hits: {}, rows: state.model.rows, spq: state.model.steps_per_quarter };
}

function primerFromCells(cells) {
  const primer = emptyPrimer(cells.length);
  cells.forEach((step, s) => step.forEach((r) => { primer.hits[key(s, r)] = [100, 0]; }));
  return primer;
}

// Per step, the sorted rows of an item's hits.
function cellsOf(item) {
  const cells = Array.from({ length: item.steps }, () => []);
  for (const k of Object.keys(item.hits)) {
    const [s, r] = k.split(":").map(Number);
    if (s < item.steps) cells[s].push(r);
  }
  return cells.map((step) => step.sort((a, b) => a - b));
}

function showPrimer() {
  const grid = state.model.rows.length > 0;
  $("primer-grid").hidden = !grid;
  $("primer-text").hidden = grid;
  $("primer_steps").disabled = !grid;
  if (grid) drawGrid($("primer-grid"), state.primer);
  $("primer-panel").classList.toggle("selected-item", state.selected === "primer");
  showPrimerLength();
}

function showPrimerLength() {
  const grid = state.model.rows.length > 0;
  $("primer_steps").value = grid ? state.primer.steps : "";
  const bars = Number((state.primer.steps / state.stepsPerBar).toFixed(2));
  $("primer-bars").textContent = grid ? `${bars} bar${bars === 1 ? "" : "s"}` : "";
}

function resizePrimer() {
  const steps = Math.round(Number($("primer_steps").value));
  const most = state.limits.steps - 1;
  if (!(steps >= 1 && steps <= most)) {
    say(`Length must be from 1 to ${most} steps`, true);
    return;
  }
  remember();
  state.primer.steps = steps;
  for (const k of Object.keys(state.primer.hits)) if (Number(k.split(":")[0]) >= steps) delete state.primer.hits[k];
  showPrimer();
}

// Send a chosen or dropped MIDI file to ``path``: the answer, or null (and the page says why) when it fails.
async function postMidi(path, file) {
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

async function uploadPrimer(file) {
  const found = await postMidi(`/api/primer?model=${encodeURIComponent(state.model.id)}`, file);
  if (!found) return;
  remember();
  state.stepsPerBar = found.steps_per_bar;
  if (found.cells) state.primer = primerFromCells(found.cells);
  $("primer-text").value = found.text;
  $("qpm").value = Math.round(found.qpm * 100) / 100;
  state.selected = "primer";
  showPrimer();
  showTakes();
  $("primer-notice").textContent = `${file.name}: ${found.steps} steps at ${$("qpm").value} BPM` +
    (found.notice ? ` (${found.notice})` : "");
}

// Models

async function loadModels() {
  const found = await api("/api/models");
  state.limits = found.limits;
  state.wav = found.wav;
  $("new_steps").max = found.limits.steps - 1;
  for (const id of ["num_outputs", "beam_size", "branch_factor"]) $(id).max = found.limits[id];
  $("primer_steps").max = found.limits.steps - 1;
  [$("temperature").min, $("temperature").max] = found.limits.temperature;
  [$("qpm").min, $("qpm").max] = found.limits.qpm;
  $("tap-panel").hidden = !found.rhythm_models.length;
  $("tap-model").replaceChildren(...found.rhythm_models.map((name) => new Option(name, name)));
  $("model").replaceChildren(...found.models.map((model) => {
    const option = document.createElement("option");
    option.value = model.id;
    option.textContent = model.shipped ? `${model.id} (shipped)` : model.id;
    return option;
  }));
  await selectModel();
}

let modelRequests = 0;  // only the answer to the latest choice counts (an earlier one may arrive after it)

async function selectModel() {
  say("Loading the model…");
  const request = ++modelRequests;
  try {
    const previous = state.model;
    const model = await api(`/api/models/${encodeURIComponent($("model").value)}`).catch((error) => {
      if (previous && request === modelRequests) $("model").value = previous.id;
      throw error;
    });
    if (request !== modelRequests) return;
    state.model = model;
    $("model-summary").textContent = model.summary;
    $("model-info").textContent = `${model.plugin} / ${model.config}: ${model.description}`;
    $("new-steps-hint").textContent = `new steps after the primer; ${4 * model.steps_per_quarter} make one bar`;
    showOptions(model.options);
    showControls(model.controls);
    showLiveControls(model.controls);
    state.infillRows = new Set();
    if (!previous || JSON.stringify(previous.rows) !== JSON.stringify(model.rows)) {
      state.stepsPerBar = 4 * model.steps_per_quarter;
      const primer = model.default_primer || { cells: [], text: "" };
      const cells = (primer.cells || []).slice(0, state.stepsPerBar);
      while (model.rows.length && cells.length < state.stepsPerBar) cells.push([]);
      state.primer = primerFromCells(cells);
      $("primer-text").value = primer.text;
      if (previous) state.selected = "primer";
    }
    showPrimer();
    showTakes();
    say("");
  } catch (error) {
    say(error.message, true);
  }
}

function showOptions(options) {
  const ticked = new Set([...$("options").querySelectorAll("input:checked")].map((input) => input.value));
  $("options").replaceChildren(...options.map((option) => {
    const label = document.createElement("label");
    label.className = "switch";
    const input = document.createElement("input");
    input.type = "checkbox";
    input.value = option.flag;
    input.disabled = Boolean(option.unavailable);
    input.checked = !option.unavailable && ticked.has(option.flag);
    const text = document.createElement("span");
    text.textContent = option.label;
    const help = document.createElement("small");
    help.textContent = option.unavailable ? `not for this model: ${option.unavailable}` : option.help;
    text.append(help);
    label.append(input, text);
    return label;
  }));
}

// A control's field: a menu of its values or a number in its range, "any" (empty) when unset.
function controlInput(control) {
  let input;
  if (control.kind === "category") {
    input = document.createElement("select");
    input.append(new Option("any", ""), ...control.values.map((value) => new Option(value, value)));
  } else {
    input = document.createElement("input");
    Object.assign(input, { type: "number", min: control.low, max: control.high, step: "any", placeholder: "any" });
  }
  input.dataset.control = control.name;
  return input;
}

// Controls a model is steered by (a style, a density...): a menu or a number each, "any" when unset.
function showControls(controls) {
  $("controls").replaceChildren(...controls.map((control) => {
    const label = document.createElement("label");
    label.className = "field";
    label.append(capitalized(control.name));
    const input = controlInput(control);
    const help = document.createElement("small");
    help.textContent = control.description;
    label.append(input, help);
    return label;
  }));
}

function controlValues() {
  const values = {};
  for (const input of $("controls").querySelectorAll("[data-control]")) {
    if (input.value !== "") values[input.dataset.control] = input.type === "number" ? Number(input.value) : input.value;
  }
  return values;
}

function capitalized(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

// Generating

async function generate() {
  const model = state.model;
  const job = {
    model: model.id, new_steps: numberField("new_steps"), num_outputs: numberField("num_outputs"),
    temperature: numberField("temperature"), seed: numberField("seed"), qpm: numberField("qpm"),
    beam_size: numberField("beam_size"), branch_factor: numberField("branch_factor"),
    steps_per_iteration: numberField("steps_per_iteration"),
    options: [...$("options").querySelectorAll("input:checked")].map((input) => input.value),
  };
  const controls = controlValues();
  if (Object.keys(controls).length) job.controls = controls;
  if (model.rows.length) job.cells = cellsOf(state.primer);
  else job.primer = $("primer-text").value;
  const primer = structuredClone(state.primer);
  $("generate").disabled = true;
  say("Generating…");
  const started = performance.now();
  try {
    const found = await postJson("/api/generate", job);
    remember();
    const takes = found.results.map((result) => takeOf(result, job, primer));
    state.takes.push(...takes);
    select(takes[0].n);
    $("take").scrollIntoView({ block: "nearest" });
    showFrom(takes[0].primerSteps);
    const noun = takes.length > 1 ? model.plural : model.noun;
    say(`${takes.length} ${noun} (takes ${takes[0].n}-${takes[takes.length - 1].n}) in ` +
        `${((performance.now() - started) / 1000).toFixed(2)} s`);
  } catch (error) {
    say(error.message, true);
  } finally {
    $("generate").disabled = false;
  }
}

// Scroll the chosen take's grid so that its step ``step`` (the first generated one) is in view.
function showFrom(step) {
  const scroll = $("take-grid").querySelector(".scroll");
  const take = selectedItem();
  const cell = scroll && take.rows.length && scroll.querySelector(`.cell[data-step="${step}"]`);
  if (cell && cell.offsetLeft + cell.offsetWidth > scroll.clientWidth) {
    scroll.scrollLeft = cell.offsetLeft - scroll.clientWidth / 4;
  }
}

// A take of a result; ``model`` describes what made it (id, noun, rows, steps_per_quarter).
function takeOf(result, job, primer, model = state.model) {
  const take = { n: state.nextTake++, model: model.id, noun: model.noun, rows: model.rows,
                 spq: model.steps_per_quarter, steps: result.steps, primerSteps: result.primer_steps, hits: {},
                 kept: false, resultId: result.id, text: result.text, events: null };
  if (result.hits) {
    for (const [s, r, velocity, offset] of result.hits) {
      // The primer's painted velocities carry over, unless a switch (such as a plugin's) played the take.
      const painted = s < result.primer_steps && !job.options.length && primer.hits[key(s, r)];
      take.hits[key(s, r)] = [painted ? painted[0] : velocity, offset];
    }
  } else {
    const stepSeconds = 60 / job.qpm / take.spq;
    take.events = {};
    for (const [start, end, pitch, velocity, drum] of result.notes) {
      const step = Math.round(start / stepSeconds);
      (take.events[step] = take.events[step] || []).push(
        { pitch, velocity, drum, offset: start / stepSeconds - step, length: (end - start) / stepSeconds });
    }
  }
  return take;
}

// Takes: a list to choose from, the chosen one shown large

function selectedItem() {
  return state.selected === "primer" ? state.primer : state.takes.find((take) => take.n === state.selected);
}

function select(which) {
  if (which !== state.selected) state.previous = state.selected;
  state.selected = which;
  $("primer-panel").classList.toggle("selected-item", which === "primer");
  showTakes();
}

function showTakes() {
  const take = state.takes.find((t) => t.n === state.selected);
  $("take-list").replaceChildren(...state.takes.map((t) => {
    const chip = document.createElement("button");
    chip.type = "button";
    chip.textContent = `Take ${t.n}`;
    chip.dataset.take = t.n;
    chip.classList.toggle("selected", t.n === state.selected);
    chip.classList.toggle("compare", t.n === state.previous);
    chip.classList.toggle("kept", t.kept);
    chip.addEventListener("click", () => select(t.n));
    return chip;
  }));
  $("no-takes").hidden = state.takes.length > 0;
  $("drop-unkept").disabled = !state.takes.some((t) => !t.kept);
  $("ab").disabled = !(state.previous !== null && (state.previous === "primer" ||
                                                   state.takes.some((t) => t.n === state.previous)));
  $("primer-panel").classList.toggle("selected-item", state.selected === "primer");
  $("take").hidden = !take;
  hooks.shown(take);
  if (!take) return;
  $("take-title").textContent = `Take ${take.n}: ${take.steps} steps ` + (take.from ? `(${take.from})` :
    `(${take.primerSteps} primer + ${take.steps - take.primerSteps} new)`);
  $("keep").classList.toggle("kept", take.kept);
  $("keep").innerHTML = take.kept ? "&#9733; Kept" : "&#9734; Keep";
  $("wav").hidden = !state.wav;
  $("take-grid").hidden = !take.rows.length;
  $("take-text").hidden = take.rows.length > 0;
  $("infill-group").hidden = !take.rows.length;
  $("use-as-primer").hidden = Boolean(take.tapped);
  if (take.rows.length) {
    drawGrid($("take-grid"), take, { primerSteps: take.primerSteps });
    showInfillRows(take);
  } else $("take-text").textContent = take.text;
  refreshClip();
}

function changeTake(change) {
  const take = selectedItem();
  if (!take || state.selected === "primer") return;
  remember();
  change(take);
  showTakes();
}

function keepTake() {
  changeTake((take) => { take.kept = !take.kept; });
}

function deleteTake() {
  changeTake((take) => {
    state.takes = state.takes.filter((t) => t !== take);
    state.selected = state.previous !== null && state.previous !== take.n ? state.previous : "primer";
    state.previous = null;
  });
}

function dropUnkept() {
  remember();
  state.takes = state.takes.filter((t) => t.kept);
  if (!state.takes.some((t) => t.n === state.selected)) state.selected = state.takes.length ? state.takes[0].n : "primer";
  state.previous = null;
  showTakes();
}

function useAsPrimer() {
  const take = selectedItem();
  if (!take || state.selected === "primer") return;
  if (take.steps >= state.limits.steps) {
    say(`Take ${take.n} has ${take.steps} steps: as a primer it leaves no room under ${state.limits.steps}`, true);
    return;
  }
  remember();
  state.primer = { steps: take.steps, hits: {}, rows: take.rows, spq: take.spq };
  for (const [k, [velocity]] of Object.entries(take.hits)) state.primer.hits[k] = [velocity, 0];
  $("primer-text").value = take.text;
  $("primer-notice").textContent = `The primer is take ${take.n} (${take.steps} steps).`;
  select("primer");
  showPrimer();
}

// Regenerate chosen bars (and rows) of the chosen take: new takes, the take itself kept.
async function regenerate() {
  const take = selectedItem();
  if (!take || state.selected === "primer") return;
  const bars = [numberField("infill_from"), numberField("infill_to")];
  const request = {
    model: take.model, cells: cellsOf(take), bars, rows: [...state.infillRows], num_outputs: numberField("num_outputs"),
    temperature: numberField("temperature"), seed: numberField("seed"), qpm: tempo(),
  };
  const controls = controlValues();
  if (Object.keys(controls).length) request.controls = controls;
  $("infill").disabled = true;
  say("Regenerating…");
  try {
    const found = await postJson("/api/infill", request);
    remember();
    const bar = 4 * take.spq;
    const takes = found.results.map((result) => {
      const made = takeOf(result, { options: [] }, { hits: {} });
      made.from = `bars ${bars[0]}-${bars[1]} of take ${take.n} regenerated`;
      for (const [k, hit] of Object.entries(made.hits)) {  // kept hits keep their velocity and timing
        const step = Number(k.split(":")[0]);
        const kept = (step < (bars[0] - 1) * bar || step >= bars[1] * bar) || (state.infillRows.size &&
                      !state.infillRows.has(Number(k.split(":")[1])));
        if (kept && take.hits[k]) made.hits[k] = [...take.hits[k]];
        else made.hits[k] = hit;
      }
      return made;
    });
    state.takes.push(...takes);
    select(takes[0].n);
    say(`${takes.length} new take${takes.length > 1 ? "s" : ""} from take ${take.n} (${takes[0].from})`);
  } catch (error) {
    say(error.message, true);
  } finally {
    $("infill").disabled = false;
  }
}

function showInfillRows(take) {
  const model = state.model;
  const choosable = model.infill_rows && take.model === model.id;
  $("infill-rows").textContent = !choosable ? "" : state.infillRows.size ?
    `rows: ${[...state.infillRows].map((r) => take.rows[r].label).join(", ")}` : "rows: all (click names)";
  $("take-grid").querySelectorAll(".labels div").forEach((label, r) => {
    label.classList.toggle("choosable", choosable);
    label.classList.toggle("chosen", state.infillRows.has(r));
    label.onclick = choosable ? () => {
      if (state.infillRows.has(r)) state.infillRows.delete(r);
      else state.infillRows.add(r);
      showInfillRows(take);
    } : null;
  });
}

// Tapping: a rhythm tapped on a key or the pad becomes a take, played to it by a model a plugin offers.
// A MIDI file's notes are taps too (with their velocities); tapping after one starts again.
const taps = { times: [], velocities: null, first: 0 };

function tap(event) {
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
    remember();
    const takes = found.results.map((result) => {
      const made = takeOf({ ...result, hits: null }, { qpm: request.qpm, options: [] }, null,
                          { id: request.model, noun: "take", rows: [], steps_per_quarter: result.steps_per_quarter });
      made.from = `${request.model} played to ${request.times.length} taps`;
      made.tapped = true;
      return made;
    });
    state.takes.push(...takes);
    select(takes[0].n);
    $("take").scrollIntoView({ block: "nearest" });
    say(`Take ${takes[0].n}: ${takes[0].from}`);
  } catch (error) {
    say(error.message, true);
  } finally {
    $("tap-make").disabled = !taps.times.length;
  }
}

function compare() {
  if (state.previous !== null) select(state.previous);
}

// MIDI clips of takes as they play (painted velocities, swing, timing), for downloading and dragging into a DAW

function clipRequest(take) {
  const hits = Object.entries(take.hits).map(([k, [velocity, offset]]) => [...k.split(":").map(Number),
                                                                            velocity, offset]);
  return { model: take.model, qpm: tempo(), swing: swing(), steps: take.steps, hits };
}

async function clipId(take) {
  if (!take.rows.length) return take.resultId;  // a take without a grid downloads as generated
  const request = JSON.stringify(clipRequest(take));
  if (!take.clip || take.clip.request !== request) {
    const found = await api("/api/clip", { method: "POST", body: request,
                                           headers: { "Content-Type": "application/json" } });
    take.clip = { request, id: found.id };
  }
  return take.clip.id;
}

let clipTimer = null;

function refreshClip() {
  $("midi").classList.add("stale");
  clearTimeout(clipTimer);
  clipTimer = setTimeout(async () => {
    const take = selectedItem();
    if (!take || state.selected === "primer") return;
    try {
      const id = await clipId(take);
      if (take !== selectedItem()) return;
      $("midi").href = `/api/files/${id}.mid`;
      $("wav").href = `/api/files/${id}.wav`;
      $("midi").classList.remove("stale");
    } catch (error) {
      say(error.message, true);
    }
  }, 250);
}

async function download(suffix, event) {
  event.preventDefault();
  const take = selectedItem();
  try {
    const id = await clipId(take);
    const link = document.createElement("a");
    link.href = `/api/files/${id}.${suffix}`;
    link.download = "";
    document.body.append(link);
    link.click();
    link.remove();
  } catch (error) {
    say(error.message, true);
  }
}

// Sounds: drums synthesized by General MIDI pitch, other notes as tones

const KINDS = { 35: "kick", 36: "kick", 37: "snare", 38: "snare", 40: "snare", 39: "clap", 42: "closed",
                44: "closed", 46: "open", 49: "crash", 52: "crash", 55: "crash", 57: "crash", 51: "ride",
                53: "ride", 59: "ride", 41: "tom", 43: "tom", 45: "tom", 47: "tom", 48: "tom", 50: "tom" };

const synth = {
  ctx: null,
  noise: null,
  count: 0,  // sounds started (the browser test reads it)
  output() {
    if (!this.ctx) {
      this.ctx = new AudioContext();
      const length = this.ctx.sampleRate * 1.5;
      this.noise = this.ctx.createBuffer(1, length, this.ctx.sampleRate);
      const data = this.noise.getChannelData(0);
      for (let i = 0; i < length; i++) data[i] = Math.random() * 2 - 1;
      this.limiter = this.ctx.createDynamicsCompressor();
      this.limiter.connect(this.ctx.destination);
    }
    this.ctx.resume();
    const bus = this.ctx.createGain();
    bus.gain.value = 0.6;
    bus.connect(this.limiter);
    return bus;
  },
  envelope(out, time, peak, decay) {
    const gain = this.ctx.createGain();
    gain.gain.setValueAtTime(peak, time);
    gain.gain.exponentialRampToValueAtTime(0.001, time + decay);
    gain.connect(out);
    return gain;
  },
  tone(out, time, type, from, to, peak, decay) {
    const osc = this.ctx.createOscillator();
    osc.type = type;
    osc.frequency.setValueAtTime(from, time);
    osc.frequency.exponentialRampToValueAtTime(to, time + decay);
    osc.connect(this.envelope(out, time, peak, decay));
    osc.start(time);
    osc.stop(time + decay + 0.05);
  },
  hiss(out, time, filter, frequency, peak, decay) {
    const source = this.ctx.createBufferSource();
    source.buffer = this.noise;
    const shape = this.ctx.createBiquadFilter();
    shape.type = filter;
    shape.frequency.value = frequency;
    source.connect(shape).connect(this.envelope(out, time, peak, decay));
    source.start(time);
    source.stop(time + decay + 0.05);
  },
  // sound: {pitch, velocity, drum, length (seconds)}
  play(out, sound, time) {
    time = Math.max(time, this.ctx.currentTime);
    this.count++;
    const level = this.ctx.createGain();
    level.gain.value = sound.velocity / 100;
    level.connect(out);
    if (!sound.drum) {
      const f = 440 * 2 ** ((sound.pitch - 69) / 12);
      return this.tone(level, time, "triangle", f, f, 0.5, Math.max(0.05, sound.length));
    }
    this.hit(level, sound.pitch, time);
  },
  hit(out, pitch, time) {
    switch (KINDS[pitch]) {
      case "kick": return this.tone(out, time, "sine", 150, 45, 1.0, 0.35);
      case "snare": this.tone(out, time, "triangle", 190, 150, 0.5, 0.09);
        return this.hiss(out, time, "highpass", 1200, 0.7, 0.18);
      case "clap": return this.hiss(out, time, "bandpass", 1500, 0.9, 0.15);
      case "closed": return this.hiss(out, time, "highpass", 7000, 0.35, 0.05);
      case "open": return this.hiss(out, time, "highpass", 7000, 0.3, 0.35);
      case "crash": return this.hiss(out, time, "highpass", 4000, 0.4, 1.3);
      case "ride": return this.hiss(out, time, "bandpass", 6000, 0.3, 0.7);
      case "tom": { const f = 80 + (pitch - 41) * 14;
        return this.tone(out, time, "sine", f, f * 0.6, 0.8, 0.3); }
      default: { const f = 440 * 2 ** ((pitch - 69) / 12);
        return this.tone(out, time, "square", f, f, 0.2, 0.12); }
    }
  },
};

function stepSeconds(item) {
  return 60 / tempo() / item.spq;
}

// What an item plays at a step: [{pitch, velocity, drum, offset (steps), length (steps)}].
function soundsAt(item, step) {
  if (item.events) return item.events[step] || [];
  const sounds = [];
  item.rows.forEach((row, r) => {
    const hit = item.hits[key(step, r)];
    if (hit) sounds.push({ pitch: row.pitches[0], velocity: hit[0], drum: row.drum, offset: hit[1], length: 1 });
  });
  return sounds;
}

function preview(item, cell) {
  const [sound] = soundsAt(item, Number(cell.dataset.step)).filter(
    (s) => s.pitch === item.rows[Number(cell.dataset.row)].pitches[0]);
  if (sound) synth.play(synth.output(), { ...sound, length: stepSeconds(item) }, synth.ctx.currentTime + 0.005);
}

// The transport: plays the selected item, looping, scheduling a little ahead of the audio clock; tempo and
// swing changes are heard at once, and choosing another take (A/B) carries on from the same step.
const transport = {
  playing: false, bus: null, timer: null, step: 0, next: 0, queue: [], shown: -1, loops: 0, host: null,
  toggle() {
    return this.playing ? this.stop() : this.start();
  },
  start() {
    if (!selectedItem() || !selectedItem().steps) return;
    this.bus = synth.output();
    Object.assign(this, { playing: true, step: hooks.range(selectedItem())[0], next: synth.ctx.currentTime + 0.06, queue: [], shown: -1, loops: 0 });
    this.timer = setInterval(() => this.tick(), 20);
    $("play").innerHTML = "&#9632; Stop";
    $("play").classList.add("on");
    this.tick();
  },
  stop() {
    if (!this.playing) return;
    clearInterval(this.timer);
    this.bus.disconnect();
    this.playing = false;
    this.showStep(-1);
    $("play").innerHTML = "&#9654; Play";
    $("play").classList.remove("on");
  },
  tick() {
    const item = selectedItem();
    if (!item || !item.steps) return this.stop();
    const now = synth.ctx.currentTime;
    const seconds = stepSeconds(item);
    const [first, end] = hooks.range(item);
    while (this.next < now + 0.12) {
      if (this.step >= end || this.step < first) {
        if (this.step >= end && !$("loop").checked) {
          if (now >= this.next) this.stop();
          return;
        }
        if (this.step >= end) this.loops++;
        this.step = first;
      }
      const late = this.step % 2 ? (swing() / 50 - 1) * seconds : 0;
      for (const sound of soundsAt(item, this.step)) {
        synth.play(this.bus, { ...sound, length: sound.length * seconds }, this.next + late + sound.offset * seconds);
      }
      this.queue.push([this.next, this.step]);
      this.next += seconds;
      this.step++;
    }
    while (this.queue.length && this.queue[0][0] <= now) this.shown = this.queue.shift()[1];
    this.showStep(this.shown);
  },
  showStep(step) {
    const host = state.selected === "primer" ? $("primer-panel") : $("take");
    if (this.host && this.host !== host) this.host.classList.remove("playing");
    this.host = host;
    host.classList.toggle("playing", step >= 0);
    host.dataset.step = step;
    hooks.step(step);
    const board = host.querySelector(".cells");
    const item = selectedItem();
    if (!board || step < 0 || !item || !item.rows.length) return;
    const cell = board.children[step * item.rows.length];
    const playhead = board.querySelector(".playhead");
    if (cell && playhead) {
      playhead.style.left = `${cell.offsetLeft}px`;
      playhead.style.width = `${cell.offsetWidth}px`;
    }
  },
};

// Wiring

// Live: the selected model playing bar by bar through the server (seqgen live), steered by the knobs below.

const live = { timer: null };

// A knob per control of the model: a slider for a number, a button for a two-value control (a fill on the next
// bar), a menu for another category; each change steers the next bars.
function showLiveControls(controls) {
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

async function pollLive() {
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

function typing(target) {
  return target.matches("input:not([type=checkbox]):not([type=range]), textarea, select");
}

document.addEventListener("DOMContentLoaded", () => {
  $("model").addEventListener("change", selectModel);
  $("generate").addEventListener("click", generate);
  $("play").addEventListener("click", () => transport.toggle());
  $("ab").addEventListener("click", compare);
  $("undo").addEventListener("click", undo);
  $("keep").addEventListener("click", keepTake);
  $("delete").addEventListener("click", deleteTake);
  $("drop-unkept").addEventListener("click", dropUnkept);
  $("use-as-primer").addEventListener("click", useAsPrimer);
  $("infill").addEventListener("click", regenerate);
  $("select-primer").addEventListener("click", () => select("primer"));
  $("midi").addEventListener("click", (event) => download("mid", event));
  $("wav").addEventListener("click", (event) => download("wav", event));
  $("midi").addEventListener("dragstart", (event) => {
    const take = selectedItem();
    if ($("midi").classList.contains("stale")) return event.preventDefault();
    event.dataTransfer.setData("DownloadURL", `audio/midi:${take.model.replace(/\.\w+$/, "")}_take_${take.n}.mid:` +
                                              new URL($("midi").getAttribute("href"), location.href));
  });
  $("swing").addEventListener("input", () => {
    $("swing-value").textContent = `${swing()}%`;
    refreshClip();
  });
  $("qpm").addEventListener("change", refreshClip);
  $("primer_steps").addEventListener("change", resizePrimer);
  $("primer-clear").addEventListener("click", () => {
    remember();
    state.primer.hits = {};
    showPrimer();
  });
  $("primer-file").addEventListener("change", async (event) => {
    await uploadPrimer(event.target.files[0]);
    event.target.value = "";  // choosing the same file again reads it again
  });
  $("tap-pad").addEventListener("pointerdown", (event) => {
    if (event.button === 0) tap(event);
  });
  $("tap-clear").addEventListener("click", clearTaps);
  $("tap-file").addEventListener("change", async (event) => {
    await tapsFromMidi(event.target.files[0]);
    event.target.value = "";
  });
  // A MIDI file dropped on the Tap panel gives taps; anywhere else, the primer (below).
  $("tap-panel").addEventListener("drop", (event) => {
    event.preventDefault();
    event.stopPropagation();
    $("drop").classList.remove("over");
    if (event.dataTransfer.files.length) tapsFromMidi(event.dataTransfer.files[0]);
  });
  $("tap-make").addEventListener("click", takeFromTaps);
  $("live-start").addEventListener("click", startLive);
  $("live-stop").addEventListener("click", stopLive);
  document.addEventListener("keydown", (event) => {
    const plain = !event.repeat && !event.ctrlKey && !event.metaKey && !event.altKey && event.key !== "Tab";
    if (plain && !$("tap-panel").hidden && (event.target === $("tap-pad") ||
                                             (event.key.toLowerCase() === "t" && !typing(event.target)))) {
      event.preventDefault();
      tap(event);
    } else if (event.code === "Space" && !typing(event.target) && !event.repeat) {
      event.preventDefault();
      transport.toggle();
    } else if ((event.ctrlKey || event.metaKey) && event.key === "z" && !typing(event.target)) {
      event.preventDefault();
      undo();
    }
  });
  // A MIDI file dropped anywhere else on the page becomes the primer.
  document.addEventListener("dragover", (event) => { event.preventDefault(); $("drop").classList.add("over"); });
  document.addEventListener("dragleave", () => $("drop").classList.remove("over"));
  document.addEventListener("drop", (event) => {
    event.preventDefault();
    $("drop").classList.remove("over");
    if (event.dataTransfer.files.length) uploadPrimer(event.dataTransfer.files[0]);
  });
  loadModels().then(pollLive).catch((error) => say(error.message, true));
});
