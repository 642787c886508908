// seqgen studio: Regenerate, chosen bars (and rows) of the chosen take made anew as new takes, the take kept.
import { selectedItem, state } from "./state.js";
import { $, numberField, say, tempo } from "./page.js";
import { postJson } from "./api.js";
import { controlValues } from "./controls.js";
import { cellsOf } from "./primer.js";
import { addTakes, takeOf } from "./takes.js";

export async function regenerate() {
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
    addTakes(takes);
    say(`${takes.length} new take${takes.length > 1 ? "s" : ""} from take ${take.n} (${takes[0].from})`);
  } catch (error) {
    say(error.message, true);
  } finally {
    $("infill").disabled = false;
  }
}

export function showInfillRows(take) {
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
