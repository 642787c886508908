// seqgen studio: the transport. Plays the selected item, looping, scheduling a little ahead of the audio clock;
// tempo and swing changes are heard at once, and choosing another take (A/B) carries on from the same step.
import { hooks, selectedItem, state } from "./state.js";
import { $, swing } from "./page.js";
import { soundsAt, stepSeconds, synth } from "./sound.js";

export const transport = {
  playing: false, bus: null, timer: null, step: 0, next: 0, queue: [], shown: -1, loops: 0, host: null,
  toggle() {
    return this.playing ? this.stop() : this.start();
  },
  start() {
    if (!selectedItem() || !selectedItem().steps) return;
    this.bus = synth.output();
    Object.assign(this, { playing: true, step: hooks.range(selectedItem())[0], next: synth.ctx.currentTime + 0.06, queue: [], shown: -1, loops: 0 });
    this.timer = setInterval(() => this.tick(), 20);
    $("play").innerHTML = "&#9632; Stop";
    $("play").classList.add("on");
    this.tick();
  },
  stop() {
    if (!this.playing) return;
    clearInterval(this.timer);
    this.bus.disconnect();
    this.playing = false;
    this.showStep(-1);
    $("play").innerHTML = "&#9654; Play";
    $("play").classList.remove("on");
  },
  tick() {
    const item = selectedItem();
    if (!item || !item.steps) return this.stop();
    const now = synth.ctx.currentTime;
    const seconds = stepSeconds(item);
    const [first, end] = hooks.range(item);
    while (this.next < now + 0.12) {
      if (this.step >= end || this.step < first) {
        if (this.step >= end && !$("loop").checked) {
          if (now >= this.next) this.stop();
          return;
        }
        if (this.step >= end) this.loops++;
        this.step = first;
      }
      const late = this.step % 2 ? (swing() / 50 - 1) * seconds : 0;
      for (const sound of soundsAt(item, this.step)) {
        synth.play(this.bus, { ...sound, length: sound.length * seconds }, this.next + late + sound.offset * seconds);
      }
      this.queue.push([this.next, this.step]);
      this.next += seconds;
      this.step++;
    }
    while (this.queue.length && this.queue[0][0] <= now) this.shown = this.queue.shift()[1];
    this.showStep(this.shown);
  },
  showStep(step) {
    const host = state.selected === "primer" ? $("primer-panel") : $("take");
    if (this.host && this.host !== host) this.host.classList.remove("playing");
    this.host = host;
    host.classList.toggle("playing", step >= 0);
    host.dataset.step = step;
    hooks.step(step);
    const board = host.querySelector(".cells");
    const item = selectedItem();
    if (!board || step < 0 || !item || !item.rows.length) return;
    const cell = board.children[step * item.rows.length];
    const playhead = board.querySelector(".playhead");
    if (cell && playhead) {
      playhead.style.left = `${cell.offsetLeft}px`;
      playhead.style.width = `${cell.offsetWidth}px`;
    }
  },
};
