// seqgen studio: the primer, drawn on a grid (or as text for models without one), resized, cleared, read from
// a MIDI file or taken from a take.
import { key, selectedItem, state } from "./state.js";
import { $, say } from "./page.js";
import { postMidi } from "./api.js";
import { remember } from "./history.js";
import { drawGrid } from "./grid.js";
import { select, showTakes } from "./takes.js";

function emptyPrimer(steps) {
  return { steps, hits: {}, rows: state.model.rows, spq: state.model.steps_per_quarter };
}

export function primerFromCells(cells) {
  const primer = emptyPrimer(cells.length);
  cells.forEach((step, s) => step.forEach((r) => { primer.hits[key(s, r)] = [100, 0]; }));
  return primer;
}

// Per step, the sorted rows of an item's hits.
export function cellsOf(item) {
  const cells = Array.from({ length: item.steps }, () => []);
  for (const k of Object.keys(item.hits)) {
    const [s, r] = k.split(":").map(Number);
    if (s < item.steps) cells[s].push(r);
  }
  return cells.map((step) => step.sort((a, b) => a - b));
}

export function showPrimer() {
  const grid = state.model.rows.length > 0;
  $("primer-grid").hidden = !grid;
  $("primer-text").hidden = grid;
  $("primer_steps").disabled = !grid;
  if (grid) drawGrid($("primer-grid"), state.primer, { onEdit: showPrimerLength });
  $("primer-panel").classList.toggle("selected-item", state.selected === "primer");
  showPrimerLength();
}

function showPrimerLength() {
  const grid = state.model.rows.length > 0;
  $("primer_steps").value = grid ? state.primer.steps : "";
  const bars = Number((state.primer.steps / state.stepsPerBar).toFixed(2));
  $("primer-bars").textContent = grid ? `${bars} bar${bars === 1 ? "" : "s"}` : "";
}

export function resizePrimer() {
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

export function clearPrimer() {
  remember();
  state.primer.hits = {};
  showPrimer();
}

export async function uploadPrimer(file) {
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

export function useAsPrimer() {
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
