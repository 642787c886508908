// seqgen studio: undo. Every change first saves what it changes (remember); restore brings the last back.
import { state } from "./state.js";
import { $ } from "./page.js";

const HISTORY = 60;  // undo steps kept

export function remember() {
  state.history.push(structuredClone({ primer: state.primer, takes: state.takes, selected: state.selected,
                                       previous: state.previous, primerText: $("primer-text").value }));
  if (state.history.length > HISTORY) state.history.shift();
  $("undo").disabled = false;
}

// The state before the last change, back; false when there is nothing to undo.
export function restore() {
  const saved = state.history.pop();
  $("undo").disabled = !state.history.length;
  if (!saved) return false;
  Object.assign(state, { primer: saved.primer, takes: saved.takes, selected: saved.selected,
                         previous: saved.previous });
  $("primer-text").value = saved.primerText;
  return true;
}
