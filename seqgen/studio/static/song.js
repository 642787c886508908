// seqgen studio: the arrangement lane. Sections are blocks (a name, a length in bars; controls by name);
// Generate song makes a take of them (POST /api/song) that plays with the playing section lit and can loop the
// chosen section; Regenerate section makes that section anew (POST /api/song/section); Song MIDI downloads the
// song as the server wrote it, with a marker naming each section. It follows the takes and the transport through
// the hooks of state.js.
import { hooks, selectedItem, state } from "./state.js";
import { $, capitalized, downloadLink, numberField, say, tempo } from "./page.js";
import { postJson } from "./api.js";
import { controlInput } from "./controls.js";
import { cellsOf } from "./primer.js";
import { addTakes, takeOf } from "./takes.js";
import { transport } from "./transport.js";

export const lane = {
  sections: [{ name: "intro", bars: 2 }, { name: "verse", bars: 4 }, { name: "chorus", bars: 4 }],
  controls: {},  // {section name: {control: value}}
  chosen: 0,  // the index of the chosen block
  take: null,  // the n of the song take whose sections the lane last took
  playing: -1,  // the index of the section playing
};
const SECTION_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,39}$/;

function songOf(item) {
  return item && item !== state.primer && item.song ? item.song : null;
}

// The chosen take, when it is a song of the lane's sections.
function shownSong() {
  const item = selectedItem();
  const song = songOf(item);
  return song && song.sections.length === lane.sections.length &&
    song.sections.every((s, i) => s.name === lane.sections[i].name && s.bars === lane.sections[i].bars) ? item : null;
}

function drawLane() {
  lane.chosen = Math.max(0, Math.min(lane.chosen, lane.sections.length - 1));
  $("lane").replaceChildren(...lane.sections.map((section, index) => {
    const block = document.createElement("div");
    block.className = "block";
    block.setAttribute("role", "option");
    block.classList.toggle("chosen", index === lane.chosen);
    block.style.setProperty("--bars", section.bars);
    block.dataset.index = index;
    const name = document.createElement("input");
    Object.assign(name, { className: "name", value: section.name, title: "The section's name", spellcheck: false });
    name.addEventListener("change", () => renameSection(index, name.value.trim()));
    const bars = document.createElement("input");
    Object.assign(bars, { className: "bars", type: "number", min: 1, value: section.bars, title: "Its length in bars" });
    bars.addEventListener("change", () => resizeSection(index, Number(bars.value)));
    const remove = document.createElement("button");
    Object.assign(remove, { type: "button", className: "remove", textContent: "\u00d7", title: "Remove this section" });
    remove.addEventListener("click", (event) => {
      event.stopPropagation();
      removeSection(index);
    });
    const row = document.createElement("div");
    row.append(bars, "bars", remove);
    block.append(name, row);
    block.addEventListener("click", () => chooseSection(index));
    return block;
  }));
  lane.playing = -1;
  $("lane").dataset.playing = -1;
  showSection();
}

function chooseSection(index) {
  if (index === lane.chosen) return;
  lane.chosen = index;
  $("lane").querySelectorAll(".block").forEach((block, i) => block.classList.toggle("chosen", i === index));
  showSection();
}

function addSection() {
  const last = lane.sections[lane.sections.length - 1];
  lane.sections.push({ name: last ? last.name : "verse", bars: last ? last.bars : 4 });
  lane.chosen = lane.sections.length - 1;
  drawLane();
}

function removeSection(index) {
  if (lane.sections.length === 1) return say("A song needs a section; rename or resize this one", true);
  lane.sections.splice(index, 1);
  if (lane.chosen >= index && lane.chosen > 0) lane.chosen--;
  drawLane();
}

function renameSection(index, name) {
  if (!SECTION_NAME.test(name)) {
    say("A section's name is a letter then letters, digits, _ or - (at most 40)", true);
  } else {
    const old = lane.sections[index].name;
    lane.sections[index].name = name;
    if (!(name in lane.controls) && old in lane.controls) lane.controls[name] = { ...lane.controls[old] };
    say("");
  }
  lane.chosen = index;
  drawLane();
}

function resizeSection(index, bars) {
  if (!(Number.isInteger(bars) && bars >= 1)) say("A section lasts a whole number of bars, at least 1", true);
  else lane.sections[index].bars = bars;
  lane.chosen = index;
  drawLane();
}

// The chosen section: what it is, its controls (for every section of its name), and what can be done to it.
function showSection() {
  const section = lane.sections[lane.chosen];
  const song = shownSong();
  $("song-chosen").textContent = `Section ${lane.chosen + 1} (${section.name}, ${section.bars} ` +
    `bar${section.bars === 1 ? "" : "s"}):`;
  const values = lane.controls[section.name] || {};
  $("song-controls").replaceChildren(...(state.model ? state.model.controls : []).map((control) => {
    const label = document.createElement("label");
    label.title = control.description;
    label.append(capitalized(control.name), " ");
    const input = controlInput(control);
    input.value = values[control.name] ?? "";
    input.addEventListener("change", () => {
      const mine = lane.controls[section.name] = lane.controls[section.name] || {};
      if (input.value === "") delete mine[control.name];
      else mine[control.name] = input.type === "number" ? Number(input.value) : input.value;
    });
    label.append(input);
    return label;
  }));
  $("song-regenerate").disabled = !(song && song.rows.length);
  const shown = songOf(selectedItem());
  $("song-midi").hidden = !shown;
  if (shown) $("song-midi").href = `/api/files/${shown.id}.mid`;
}

// The request for a song of ``sections``: the settings, and the lane's controls the model has.
function songRequest(sections) {
  const request = { model: state.model.id, sections: sections.map(({ name, bars }) => ({ name, bars })),
                    temperature: numberField("temperature"), seed: numberField("seed"), qpm: tempo() };
  const known = new Set(state.model.controls.map((control) => control.name));
  const controls = {};
  for (const { name } of request.sections) {
    const values = Object.entries(lane.controls[name] || {}).filter(([control]) => known.has(control));
    if (values.length) controls[name] = Object.fromEntries(values);
  }
  if (Object.keys(controls).length) request.controls = controls;
  if ($("song-fills").value) request.fills = $("song-fills").value === "yes";
  return request;
}

// A take of a song the server made, chosen.
function songTake(result, request, from) {
  const take = takeOf(result, { options: [], qpm: request.qpm }, { hits: {} });
  take.song = { sections: result.sections, id: result.id };
  take.from = from;
  addTakes([take]);
  return take;
}

async function songWork(button, path, request, from) {
  $(button).disabled = true;
  const started = performance.now();
  try {
    const found = await postJson(path, request);
    const take = songTake(found.results[0], request, from);
    say(`Take ${take.n}: ${from}, in ${((performance.now() - started) / 1000).toFixed(2)} s`);
  } catch (error) {
    say(error.message, true);
  } finally {
    $(button).disabled = false;
    showSection();
  }
}

function generateSong() {
  const request = songRequest(lane.sections);
  request.variation = numberField("song-variation");
  say("Making the song…");
  return songWork("song-generate", "/api/song", request,
                  `song: ${lane.sections.map((s) => `${s.name} ${s.bars}`).join(", ")} bars`);
}

function regenerateSection() {
  const take = shownSong();
  if (!take) return;
  const index = lane.chosen;
  const request = { ...songRequest(take.song.sections), model: take.model, cells: cellsOf(take), section: index + 1 };
  say(`Making section ${index + 1} anew…`);
  return songWork("song-regenerate", "/api/song/section", request,
                  `section ${index + 1} (${take.song.sections[index].name}) of take ${take.n} made anew`);
}

// A song take chosen brings its sections into the lane (once, so that the lane can then be changed).
function showSong(take) {
  const song = songOf(take);
  if (song && take.n !== lane.take) lane.sections = song.sections.map(({ name, bars }) => ({ name, bars }));
  lane.take = take ? take.n : null;
  drawLane();
}

// The chosen section, when Loop section is ticked and the chosen take is a song of the lane's sections.
function songRange(item) {
  const take = shownSong();
  if (!$("song-loop").checked || !take || take !== item) return [0, item.steps];
  const section = take.song.sections[lane.chosen];
  return [section.first, section.first + section.bars * 4 * take.spq];
}

// The playing section lit, and scrolled into view on the take's grid.
function showPlaying(step) {
  const take = shownSong();
  const index = take && step >= 0 && transport.playing ? take.song.sections.findIndex(
    (s) => step >= s.first && step < s.first + s.bars * 4 * take.spq) : -1;
  if (index === lane.playing) return;
  lane.playing = index;
  $("lane").dataset.playing = index;
  $("lane").querySelectorAll(".block").forEach((block, i) => block.classList.toggle("playing", i === index));
  const scroll = $("take-grid").querySelector(".scroll");
  const cell = index >= 0 && scroll && scroll.querySelector(`.cell[data-step="${take.song.sections[index].first}"]`);
  if (cell) scroll.scrollLeft = cell.offsetLeft;
}

export function wireSong() {
  Object.assign(hooks, { shown: showSong, range: songRange, step: showPlaying });
  $("song-add").addEventListener("click", addSection);
  $("song-generate").addEventListener("click", generateSong);
  $("song-regenerate").addEventListener("click", regenerateSection);
  $("song-midi").addEventListener("click", (event) => {  // a download (the answer's name), not a page to open
    event.preventDefault();
    downloadLink($("song-midi").href);
  });
  drawLane();
}
