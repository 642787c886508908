// seqgen studio: sounds. Drums synthesized by General MIDI pitch, other notes as tones, with Web Audio.
import { key } from "./state.js";
import { tempo } from "./page.js";

const KINDS = { 35: "kick", 36: "kick", 37: "snare", 38: "snare", 40: "snare", 39: "clap", 42: "closed",
                44: "closed", 46: "open", 49: "crash", 52: "crash", 55: "crash", 57: "crash", 51: "ride",
                53: "ride", 59: "ride", 41: "tom", 43: "tom", 45: "tom", 47: "tom", 48: "tom", 50: "tom" };

export const synth = {
  ctx: null,
  noise: null,
  count: 0,  // sounds started (the browser test reads it)
  output() {
    if (!this.ctx) {
      this.ctx = new AudioContext();
      const length = this.ctx.sampleRate * 1.5;
      this.noise = this.ctx.createBuffer(1, length, this.ctx.sampleRate);
      const data = this.noise.getChannelData(0);
      for (let i = 0; i < length; i++) data[i] = Math.random() * 2 - 1;
      this.limiter = this.ctx.createDynamicsCompressor();
      this.limiter.connect(this.ctx.destination);
    }
    this.ctx.resume();
    const bus = this.ctx.createGain();
    bus.gain.value = 0.6;
    bus.connect(this.limiter);
    return bus;
  },
  envelope(out, time, peak, decay) {
    const gain = this.ctx.createGain();
    gain.gain.setValueAtTime(peak, time);
    gain.gain.exponentialRampToValueAtTime(0.001, time + decay);
    gain.connect(out);
    return gain;
  },
  tone(out, time, type, from, to, peak, decay) {
    const osc = this.ctx.createOscillator();
    osc.type = type;
    osc.frequency.setValueAtTime(from, time);
    osc.frequency.exponentialRampToValueAtTime(to, time + decay);
    osc.connect(this.envelope(out, time, peak, decay));
    osc.start(time);
    osc.stop(time + decay + 0.05);
  },
  hiss(out, time, filter, frequency, peak, decay) {
    const source = this.ctx.createBufferSource();
    source.buffer = this.noise;
    const shape = this.ctx.createBiquadFilter();
    shape.type = filter;
    shape.frequency.value = frequency;
    source.connect(shape).connect(this.envelope(out, time, peak, decay));
    source.start(time);
    source.stop(time + decay + 0.05);
  },
  // sound: {pitch, velocity, drum, length (seconds)}
  play(out, sound, time) {
    time = Math.max(time, this.ctx.currentTime);
    this.count++;
    const level = this.ctx.createGain();
    level.gain.value = sound.velocity / 100;
    level.connect(out);
    if (!sound.drum) {
      const f = 440 * 2 ** ((sound.pitch - 69) / 12);
      return this.tone(level, time, "triangle", f, f, 0.5, Math.max(0.05, sound.length));
    }
    this.hit(level, sound.pitch, time);
  },
  hit(out, pitch, time) {
    switch (KINDS[pitch]) {
      case "kick": return this.tone(out, time, "sine", 150, 45, 1.0, 0.35);
      case "snare": this.tone(out, time, "triangle", 190, 150, 0.5, 0.09);
        return this.hiss(out, time, "highpass", 1200, 0.7, 0.18);
      case "clap": return this.hiss(out, time, "bandpass", 1500, 0.9, 0.15);
      case "closed": return this.hiss(out, time, "highpass", 7000, 0.35, 0.05);
      case "open": return this.hiss(out, time, "highpass", 7000, 0.3, 0.35);
      case "crash": return this.hiss(out, time, "highpass", 4000, 0.4, 1.3);
      case "ride": return this.hiss(out, time, "bandpass", 6000, 0.3, 0.7);
      case "tom": { const f = 80 + (pitch - 41) * 14;
        return this.tone(out, time, "sine", f, f * 0.6, 0.8, 0.3); }
      default: { const f = 440 * 2 ** ((pitch - 69) / 12);
        return this.tone(out, time, "square", f, f, 0.2, 0.12); }
    }
  },
};

export function stepSeconds(item) {
  return 60 / tempo() / item.spq;
}

// What an item plays at a step: [{pitch, velocity, drum, offset (steps), length (steps)}].
export function soundsAt(item, step) {
  if (item.events) return item.events[step] || [];
  const sounds = [];
  item.rows.forEach((row, r) => {
    const hit = item.hits[key(step, r)];
    if (hit) sounds.push({ pitch: row.pitches[0], velocity: hit[0], drum: row.drum, offset: hit[1], length: 1 });
  });
  return sounds;
}

// Play the hit a grid cell was just given.
export function preview(item, cell) {
  const [sound] = soundsAt(item, Number(cell.dataset.step)).filter(
    (s) => s.pitch === item.rows[Number(cell.dataset.row)].pitches[0]);
  if (sound) synth.play(synth.output(), { ...sound, length: stepSeconds(item) }, synth.ctx.currentTime + 0.005);
}
