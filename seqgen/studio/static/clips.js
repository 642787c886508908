// seqgen studio: MIDI clips of takes as they play (painted velocities, swing, timing), for downloading and
// dragging into a DAW, and the takes' WAV downloads.
import { selectedItem, state } from "./state.js";
import { $, downloadLink, say, swing, tempo } from "./page.js";
import { api } from "./api.js";

function clipRequest(take) {
  const hits = Object.entries(take.hits).map(([k, [velocity, offset]]) => [...k.split(":").map(Number),
                                                                            velocity, offset]);
  return { model: take.model, qpm: tempo(), swing: swing(), steps: take.steps, hits };
}

async function clipId(take) {
  if (!take.rows.length) return take.resultId;  // a take without a grid downloads as generated
  const request = JSON.stringify(clipRequest(take));
  if (!take.clip || take.clip.request !== request) {
    const found = await api("/api/clip", { method: "POST", body: request,
                                           headers: { "Content-Type": "application/json" } });
    take.clip = { request, id: found.id };
  }
  return take.clip.id;
}

let clipTimer = null;

export function refreshClip() {
  $("midi").classList.add("stale");
  clearTimeout(clipTimer);
  clipTimer = setTimeout(async () => {
    const take = selectedItem();
    if (!take || state.selected === "primer") return;
    try {
      const id = await clipId(take);
      if (take !== selectedItem()) return;
      $("midi").href = `/api/files/${id}.mid`;
      $("wav").href = `/api/files/${id}.wav`;
      $("midi").classList.remove("stale");
    } catch (error) {
      say(error.message, true);
    }
  }, 250);
}

async function download(suffix, event) {
  event.preventDefault();
  const take = selectedItem();
  try {
    const id = await clipId(take);
    downloadLink(`/api/files/${id}.${suffix}`);
  } catch (error) {
    say(error.message, true);
  }
}

export function wireDownloads() {
  $("midi").addEventListener("click", (event) => download("mid", event));
  $("wav").addEventListener("click", (event) => download("wav", event));
  $("midi").addEventListener("dragstart", (event) => {
    const take = selectedItem();
    if ($("midi").classList.contains("stale")) return event.preventDefault();
    event.dataTransfer.setData("DownloadURL", `audio/midi:${take.model.replace(/\.\w+$/, "")}_take_${take.n}.mid:` +
                                              new URL($("midi").getAttribute("href"), location.href));
  });
}
