// seqgen studio: Generate, new takes after the primer with the settings on the left.
import { selectedItem, state } from "./state.js";
import { $, numberField, say } from "./page.js";
import { postJson } from "./api.js";
import { controlValues } from "./controls.js";
import { cellsOf } from "./primer.js";
import { addTakes, takeOf } from "./takes.js";

export async function generate() {
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
    const takes = found.results.map((result) => takeOf(result, job, primer));
    addTakes(takes);
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
