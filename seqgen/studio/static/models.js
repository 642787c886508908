// seqgen studio: the models to choose from; choosing one shows its controls and, when its grid differs, its
// default primer.
import { state } from "./state.js";
import { $, say } from "./page.js";
import { api } from "./api.js";
import { showControls, showOptions } from "./controls.js";
import { showLiveControls } from "./live.js";
import { primerFromCells, showPrimer } from "./primer.js";
import { showTakes } from "./takes.js";

export async function loadModels() {
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

export async function selectModel() {
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
