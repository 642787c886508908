// seqgen studio: takes, a list to choose from, the chosen one shown large; keep, delete, drop unkept, A/B.
import { hooks, key, selectedItem, state } from "./state.js";
import { $ } from "./page.js";
import { remember } from "./history.js";
import { drawGrid } from "./grid.js";
import { refreshClip } from "./clips.js";
import { showInfillRows } from "./infill.js";

// A take of a result; ``model`` describes what made it (id, noun, rows, steps_per_quarter).
export function takeOf(result, job, primer, model = state.model) {
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

// New takes, added after the others, the first chosen.
export function addTakes(takes) {
  remember();
  state.takes.push(...takes);
  select(takes[0].n);
}

export function select(which) {
  if (which !== state.selected) state.previous = state.selected;
  state.selected = which;
  $("primer-panel").classList.toggle("selected-item", which === "primer");
  showTakes();
}

export function showTakes() {
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
    drawGrid($("take-grid"), take, { primerSteps: take.primerSteps, onEdit: refreshClip });
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

export function keepTake() {
  changeTake((take) => { take.kept = !take.kept; });
}

export function deleteTake() {
  changeTake((take) => {
    state.takes = state.takes.filter((t) => t !== take);
    state.selected = state.previous !== null && state.previous !== take.n ? state.previous : "primer";
    state.previous = null;
  });
}

export function dropUnkept() {
  remember();
  state.takes = state.takes.filter((t) => t.kept);
  if (!state.takes.some((t) => t.n === state.selected)) state.selected = state.takes.length ? state.takes[0].n : "primer";
  state.previous = null;
  showTakes();
}

export function compare() {
  if (state.previous !== null) select(state.previous);
}

