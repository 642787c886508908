// seqgen studio: what the page's modules share. A primer or a take: {steps, hits: {"step:row": [velocity,
// offset]}, rows, spq, ...}; takes also have n, model, primerSteps, kept, resultId and text (and events, by
// step, for models without a grid).
export const state = {
  limits: {}, wav: false, model: null, primer: null, takes: [], selected: "primer", previous: null, nextTake: 1,
  history: [], brush: 100, stepsPerBar: 16, infillRows: new Set(),  // rows chosen to regenerate
};

// What the song lane (song.js) changes: the steps [first, end) of an item the transport plays, and what follows
// the step being played and the take being shown.
export const hooks = { range: (item) => [0, item.steps], step: () => {}, shown: () => {} };

export const key = (step, row) => `${step}:${row}`;

export function selectedItem() {
  return state.selected === "primer" ? state.primer : state.takes.find((take) => take.n === state.selected);
}
