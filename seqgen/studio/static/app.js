// seqgen studio: the page. Plain JavaScript, no libraries; sounds are synthesized with Web Audio.
"use strict";

const $ = (id) => document.getElementById(id);
const ROW_COLORS = ["#e6503c", "#f0aa32", "#5ac8e6", "#3c8cf0", "#78c85a", "#5aaa46", "#3c8c3c", "#e66ec8",
                    "#b478f0"];
const state = { limits: {}, wav: false, model: null, cells: [], stepsPerBar: 16, job: null };

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

// Step grids

function drawGrid(container, rows, cells, { editable = false, primerSteps = 0 } = {}) {
  const spq = state.model.steps_per_quarter;
  container.replaceChildren();
  const grid = document.createElement("div");
  grid.className = "grid" + (editable ? " editable" : "");
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
  cells.forEach((step, s) => {
    for (let r = rows.length - 1; r >= 0; r--) {
      const cell = document.createElement("div");
      cell.className = "cell";
      if (Math.floor(s / spq) % 2 === 0) cell.classList.add("beat");
      if (s > 0 && s % state.stepsPerBar === 0) cell.classList.add("bar");
      if (s < primerSteps) cell.classList.add("primer");
      if (step.includes(r)) cell.classList.add("on");
      cell.style.setProperty("--color", ROW_COLORS[r % ROW_COLORS.length]);
      cell.dataset.step = s;
      cell.dataset.row = r;
      board.append(cell);
    }
  });
  const playhead = document.createElement("div");
  playhead.className = "playhead";
  board.append(playhead);
  scroll.append(board);
  grid.append(labels, scroll);
  container.append(grid);
  if (editable) makeEditable(board);
  return playhead;
}

let painting = null;  // while the pointer is down on the primer grid: true switches cells on, false off

function makeEditable(board) {
  const paint = (cell) => {
    const step = state.cells[cell.dataset.step], row = Number(cell.dataset.row);
    const index = step.indexOf(row);
    if (painting && index < 0) step.push(row);
    if (!painting && index >= 0) step.splice(index, 1);
    step.sort((a, b) => a - b);
    cell.classList.toggle("on", painting);
  };
  board.addEventListener("pointerdown", (event) => {
    const cell = event.target.closest(".cell");
    if (!cell) return;
    event.preventDefault();
    painting = !cell.classList.contains("on");
    paint(cell);
  });
  board.addEventListener("pointerover", (event) => {
    const cell = event.target.closest(".cell");
    if (cell && painting !== null && event.buttons) paint(cell);
  });
}

// The primer

function showPrimer() {
  const rows = state.model.rows;
  $("primer-grid").hidden = !rows.length;
  $("primer-text").hidden = rows.length > 0;
  $("primer-play").disabled = !rows.length;
  if (rows.length) drawGrid($("primer-grid"), rows, state.cells, { editable: true });
  $("primer_steps").value = rows.length ? state.cells.length : "";
  $("primer_steps").disabled = !rows.length;
}

function setPrimer(cells, text = null) {
  state.cells = cells ? cells.map((step) => [...step]) : [];
  if (text !== null) $("primer-text").value = text;
  showPrimer();
}

function resizePrimer() {
  const steps = Math.round(Number($("primer_steps").value));
  if (!(steps >= 1 && steps <= state.limits.num_steps)) {
    say(`the primer length must be from 1 to ${state.limits.num_steps} steps`, true);
    return;
  }
  setPrimer(Array.from({ length: steps }, (_, s) => state.cells[s] || []));
}

async function uploadPrimer(file) {
  if (!file) return;
  if (file.size > state.limits.upload_bytes) {
    say(`${file.name} is larger than ${state.limits.upload_bytes / 1024} KiB; drop a shorter MIDI file`, true);
    return;
  }
  say(`Reading ${file.name}…`);
  try {
    const found = await api(`/api/primer?model=${encodeURIComponent(state.model.id)}`,
                            { method: "POST", body: file, headers: { "Content-Type": "audio/midi" } });
    state.stepsPerBar = found.steps_per_bar;
    setPrimer(found.cells, found.text);
    $("qpm").value = Math.round(found.qpm * 100) / 100;
    if (Number($("num_steps").value) <= found.steps) {
      $("num_steps").value = Math.min(state.limits.num_steps, found.steps + 4 * found.steps_per_bar);
    }
    $("primer-notice").textContent = `${file.name}: ${found.steps} steps at ${$("qpm").value} qpm` +
      (found.notice ? ` (${found.notice})` : "");
    say("");
  } catch (error) {
    say(error.message, true);
  }
}

// Models

async function loadModels() {
  const found = await api("/api/models");
  state.limits = found.limits;
  state.wav = found.wav;
  for (const id of ["num_steps", "num_outputs", "beam_size", "branch_factor"]) $(id).max = found.limits[id];
  $("primer_steps").max = found.limits.num_steps;
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
    $("model-info").textContent = `${model.plugin} / ${model.config}: ${model.description}`;
    $("humanize").disabled = !model.humanize;
    if (!model.humanize) $("humanize").checked = false;
    $("humanize-note").textContent = model.humanize ? "(velocity and timing)" : "(not for this model)";
    $("humanize-label").title = model.humanize_note;
    const sameRows = previous && JSON.stringify(previous.rows) === JSON.stringify(model.rows);
    if (!sameRows) {
      state.stepsPerBar = 4 * model.steps_per_quarter;
      const primer = model.default_primer || { cells: [], text: "" };
      const cells = (primer.cells || []).slice(0, state.stepsPerBar);
      while (model.rows.length && cells.length < state.stepsPerBar) cells.push([]);
      setPrimer(cells, primer.text);
    }
    say("");
  } catch (error) {
    say(error.message, true);
  }
}

// Generating

async function generate() {
  const rows = state.model.rows;
  const job = {
    model: state.model.id, num_steps: numberField("num_steps"), num_outputs: numberField("num_outputs"),
    temperature: numberField("temperature"), seed: numberField("seed"), qpm: numberField("qpm"),
    beam_size: numberField("beam_size"), branch_factor: numberField("branch_factor"),
    humanize: $("humanize").checked,
  };
  if (rows.length) job.cells = state.cells;
  else job.primer = $("primer-text").value;
  $("generate").disabled = true;
  say("Generating…");
  const started = performance.now();
  try {
    const found = await api("/api/generate", {
      method: "POST", body: JSON.stringify(job), headers: { "Content-Type": "application/json" } });
    state.job = job;
    showResults(found.results, job);
    const noun = found.results.length > 1 ? state.model.plural : state.model.noun;
    say(`${found.results.length} ${noun} of ${job.num_steps} steps in ` +
        `${((performance.now() - started) / 1000).toFixed(2)} s`);
  } catch (error) {
    say(error.message, true);
  } finally {
    $("generate").disabled = false;
  }
}

function button(text, className, onClick) {
  const element = document.createElement("button");
  element.type = "button";
  element.className = className;
  element.textContent = text;
  element.addEventListener("click", onClick);
  return element;
}

function link(text, className, href) {
  const element = document.createElement("a");
  element.className = "button " + className;
  element.href = href;
  element.download = "";
  element.textContent = text;
  return element;
}

function showResults(results, job) {
  player.stop();
  const rows = state.model.rows;
  const stepSeconds = 60 / job.qpm / state.model.steps_per_quarter;
  $("results").replaceChildren(...results.map((result, i) => {
    const card = document.createElement("article");
    card.className = "panel result";
    const head = document.createElement("div");
    head.className = "head";
    const title = document.createElement("h3");
    title.textContent = `${capitalized(state.model.noun)} ${i + 1}`;
    const body = document.createElement("div");
    let playhead = null;
    if (rows.length) {
      playhead = drawGrid(body, rows, result.cells, { primerSteps: result.primer_steps });
      shadeByVelocity(body, rows, result.notes, stepSeconds);
    } else {
      const text = document.createElement("pre");
      text.textContent = result.text;
      body.append(text);
    }
    const play = button("\u25B6 Play", "play",
                        () => player.toggle(card, play, playhead, result.notes, stepSeconds, result.steps));
    const more = button("Continue", "continue", () => continueFrom(result, job, i));
    more.disabled = result.steps >= state.limits.num_steps;
    head.append(title, play, more, link("MIDI", "midi", `/api/files/${result.id}.mid`));
    if (state.wav) head.append(link("WAV", "wav", `/api/files/${result.id}.wav`));
    card.append(head, body);
    return card;
  }));
}

function capitalized(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function shadeByVelocity(container, rows, notes, stepSeconds) {
  const rowOf = new Map();
  rows.forEach((row, r) => row.pitches.forEach((pitch) => { if (!rowOf.has(pitch)) rowOf.set(pitch, r); }));
  for (const [start, , pitch, velocity] of notes) {
    const selector = `.cell[data-step="${Math.round(start / stepSeconds)}"][data-row="${rowOf.get(pitch)}"]`;
    const cell = container.querySelector(selector);
    if (cell) cell.style.opacity = 0.3 + 0.7 * velocity / 127;
  }
}

function continueFrom(result, job, i) {
  const added = job.num_steps - result.primer_steps;
  setPrimer(result.cells, result.text);
  $("num_steps").value = Math.min(state.limits.num_steps, result.steps + Math.max(added, 1));
  $("primer-notice").textContent = `The primer is ${state.model.noun} ${i + 1} (${result.steps} steps).`;
  $("primer-panel").scrollIntoView({ behavior: "smooth" });
}

// Playing: drum sounds synthesized by General MIDI pitch

const KINDS = { 35: "kick", 36: "kick", 37: "snare", 38: "snare", 40: "snare", 39: "clap", 42: "closed",
                44: "closed", 46: "open", 49: "crash", 52: "crash", 55: "crash", 57: "crash", 51: "ride",
                53: "ride", 59: "ride", 41: "tom", 43: "tom", 45: "tom", 47: "tom", 48: "tom", 50: "tom" };

const synth = {
  ctx: null,
  noise: null,
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
  play(out, [start, end, pitch, velocity, drum], at) {
    const level = this.ctx.createGain();
    level.gain.value = velocity / 100;
    level.connect(out);
    if (!drum) {
      const f = 440 * 2 ** ((pitch - 69) / 12);
      return this.tone(level, at + start, "triangle", f, f, 0.5, Math.max(0.05, end - start));
    }
    this.hit(level, pitch, at + start);
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

const player = {
  playing: null,  // { card, button, bus, timer }
  // notes: [[start, end, pitch, velocity, is drum]] in seconds; the playhead walks numSteps steps.
  toggle(card, playButton, playhead, notes, stepSeconds, numSteps) {
    const wasThis = this.playing && this.playing.card === card;
    this.stop();
    if (wasThis) return;
    const bus = synth.output();
    const start = synth.ctx.currentTime + 0.1;
    for (const note of notes) synth.play(bus, note, start);
    card.classList.add("playing");
    card.dataset.step = 0;
    playButton.textContent = "\u25A0 Stop";
    const timer = setInterval(() => {
      const step = Math.max(0, Math.floor((synth.ctx.currentTime - start) / stepSeconds));
      if (step >= numSteps) return this.stop();
      card.dataset.step = step;
      if (playhead) playhead.style.left = `calc(${step} * var(--cell))`;
    }, 20);
    this.playing = { card, button: playButton, bus, timer };
  },
  stop() {
    if (!this.playing) return;
    const { card, button: playButton, bus, timer } = this.playing;
    clearInterval(timer);
    bus.disconnect();
    card.classList.remove("playing");
    playButton.textContent = "\u25B6 Play";
    this.playing = null;
  },
};

function playPrimer() {
  const rows = state.model.rows;
  const stepSeconds = 60 / (Number(numberField("qpm")) || 120) / state.model.steps_per_quarter;
  const notes = state.cells.flatMap((step, s) => step.map(
    (r) => [s * stepSeconds, (s + 1) * stepSeconds, rows[r].pitches[0], 100, rows[r].drum]));
  player.toggle($("primer-panel"), $("primer-play"), $("primer-grid").querySelector(".playhead"), notes,
                stepSeconds, state.cells.length);
}

// Wiring

document.addEventListener("DOMContentLoaded", () => {
  $("model").addEventListener("change", selectModel);
  $("generate").addEventListener("click", generate);
  $("primer_steps").addEventListener("change", resizePrimer);
  $("primer-clear").addEventListener("click", () => setPrimer(state.cells.map(() => [])));
  $("primer-play").addEventListener("click", playPrimer);
  $("primer-file").addEventListener("change", async (event) => {
    await uploadPrimer(event.target.files[0]);
    event.target.value = "";  // choosing the same file again reads it again
  });
  window.addEventListener("pointerup", () => { painting = null; });
  // A MIDI file dropped anywhere on the page becomes the primer.
  document.addEventListener("dragover", (event) => { event.preventDefault(); $("drop").classList.add("over"); });
  document.addEventListener("dragleave", () => $("drop").classList.remove("over"));
  document.addEventListener("drop", (event) => {
    event.preventDefault();
    $("drop").classList.remove("over");
    uploadPrimer(event.dataTransfer.files[0]);
  });
  loadModels().catch((error) => say(error.message, true));
});
