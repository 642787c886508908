// seqgen studio: the page. Plain JavaScript modules, no libraries; this one wires the page's buttons, keys and
// dropped files to the modules that do the work, then loads the models.
import { selectedItem, state } from "./state.js";
import { $, say, swing, typing } from "./page.js";
import { restore } from "./history.js";
import { synth } from "./sound.js";
import { transport } from "./transport.js";
import { loadModels, selectModel } from "./models.js";
import { clearPrimer, cellsOf, resizePrimer, showPrimer, uploadPrimer, useAsPrimer } from "./primer.js";
import { generate } from "./generate.js";
import { compare, deleteTake, dropUnkept, keepTake, select, showTakes } from "./takes.js";
import { regenerate } from "./infill.js";
import { refreshClip, wireDownloads } from "./clips.js";
import { tap, taps, wireTaps } from "./tap.js";
import { pollLive, wireLive } from "./live.js";
import { lane, wireSong } from "./song.js";

function undo() {
  if (!restore()) return;
  showPrimer();
  showTakes();
  say("Undone.");
}

function wireButtons() {
  $("model").addEventListener("change", selectModel);
  $("generate").addEventListener("click", generate);
  $("play").addEventListener("click", () => transport.toggle());
  $("ab").addEventListener("click", compare);
  $("undo").addEventListener("click", undo);
  $("keep").addEventListener("click", keepTake);
  $("delete").addEventListener("click", deleteTake);
  $("drop-unkept").addEventListener("click", dropUnkept);
  $("use-as-primer").addEventListener("click", useAsPrimer);
  $("infill").addEventListener("click", regenerate);
  $("select-primer").addEventListener("click", () => select("primer"));
  $("swing").addEventListener("input", () => {
    $("swing-value").textContent = `${swing()}%`;
    refreshClip();
  });
  $("qpm").addEventListener("change", refreshClip);
  $("primer_steps").addEventListener("change", resizePrimer);
  $("primer-clear").addEventListener("click", clearPrimer);
  $("primer-file").addEventListener("change", async (event) => {
    await uploadPrimer(event.target.files[0]);
    event.target.value = "";  // choosing the same file again reads it again
  });
}

// T (or any key on the pad) taps, the space bar plays or stops, Ctrl+Z undoes.
function onKey(event) {
  const plain = !event.repeat && !event.ctrlKey && !event.metaKey && !event.altKey && event.key !== "Tab";
  if (plain && !$("tap-panel").hidden && (event.target === $("tap-pad") ||
                                           (event.key.toLowerCase() === "t" && !typing(event.target)))) {
    event.preventDefault();
    tap(event);
  } else if (event.code === "Space" && !typing(event.target) && !event.repeat) {
    event.preventDefault();
    transport.toggle();
  } else if ((event.ctrlKey || event.metaKey) && event.key === "z" && !typing(event.target)) {
    event.preventDefault();
    undo();
  }
}

// A MIDI file dropped anywhere on the page but the Tap panel becomes the primer.
function wireDrops() {
  document.addEventListener("dragover", (event) => { event.preventDefault(); $("drop").classList.add("over"); });
  document.addEventListener("dragleave", () => $("drop").classList.remove("over"));
  document.addEventListener("drop", (event) => {
    event.preventDefault();
    $("drop").classList.remove("over");
    if (event.dataTransfer.files.length) uploadPrimer(event.dataTransfer.files[0]);
  });
}

// What the browser tests (and a curious console) read of the page.
Object.assign(window, { state, synth, transport, taps, lane, cellsOf, selectedItem });

wireButtons();
wireDownloads();
wireTaps();
wireLive();
wireSong();
document.addEventListener("keydown", onKey);
wireDrops();
loadModels().then(pollLive).catch((error) => say(error.message, true));
