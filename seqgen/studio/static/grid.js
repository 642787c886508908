// seqgen studio: step grids, drawn and edited. Click a cell to add a hit (and hear it), drag across cells to
// paint or erase, drag a hit up or down for its velocity, click a hit to remove it.
import { key, state } from "./state.js";
import { say } from "./page.js";
import { remember } from "./history.js";
import { preview } from "./sound.js";

const ROW_COLORS = ["#e6503c", "#f0aa32", "#5ac8e6", "#3c8cf0", "#78c85a", "#5aaa46", "#3c8c3c", "#e66ec8",
                    "#b478f0"];

// Draw ``item`` in ``host``; ``onEdit(item)`` follows each stroke of editing.
export function drawGrid(host, item, { primerSteps = 0, onEdit }) {
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
  makeEditable(board, item, onEdit);
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

let stroke = null;  // the edit under way: its item, board, first cell and mode

function makeEditable(board, item, onEdit) {
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
    stroke = { item, board, set, onEdit, cell, y: event.clientY, velocity: hit ? hit[0] : state.brush,
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
  const { item, onEdit } = stroke;
  stroke = null;
  onEdit(item);
});

