// Gentle sounds for the calm corner, made in the browser with the Web Audio API (no
// audio files). On by default; the speaker button is silent mode, kept per device
// (a parent at home may want quiet). Browsers only allow sound after a tap on the
// page, so `unlock()` runs on taps.

const KEY = "playroom:calm:sound";

export class CalmSound {
  constructor() {
    this.ac = null;
    let on = true;
    try { on = localStorage.getItem(KEY) !== "off"; } catch { /* private mode */ }
    this.on = on;
  }

  setOn(on) {
    this.on = Boolean(on);
    try { localStorage.setItem(KEY, this.on ? "on" : "off"); } catch { /* */ }
    if (this.on) this.unlock();
  }

  /** Create or wake the audio context (call from a tap). */
  unlock() {
    const AC = window.AudioContext || window.webkitAudioContext;
    if (!AC) return;
    if (!this.ac) {
      try { this.ac = new AC(); } catch { this.ac = null; return; }
    }
    if (this.ac.state === "suspended") this.ac.resume().catch(() => {});
  }

  ready() {
    return this.on && this.ac && this.ac.state === "running";
  }

  /** A soft tone for the breath phase that starts now and lasts `secs`: rising while
   *  breathing in, falling while breathing out, silent while holding. */
  breath(phase, secs) {
    if (!this.ready() || !(secs > 0.3) || (phase !== "inhale" && phase !== "exhale")) return;
    const ac = this.ac, t0 = ac.currentTime, t1 = t0 + secs;
    const [f0, f1] = phase === "inhale" ? [196, 262] : [262, 174];
    const osc = ac.createOscillator();
    const filter = ac.createBiquadFilter();
    const gain = ac.createGain();
    osc.type = "sine";
    osc.frequency.setValueAtTime(f0, t0);
    osc.frequency.linearRampToValueAtTime(f1, t1);
    filter.type = "lowpass";
    filter.frequency.value = 900;
    gain.gain.setValueAtTime(0.0001, t0);
    gain.gain.linearRampToValueAtTime(0.07, t0 + Math.min(0.6, secs / 3));
    gain.gain.setValueAtTime(0.07, Math.max(t0 + 0.6, t1 - 0.6));
    gain.gain.linearRampToValueAtTime(0.0001, t1);
    osc.connect(filter).connect(gain).connect(ac.destination);
    osc.start(t0);
    osc.stop(t1 + 0.05);
  }

  /** A soft bell: the timer has run out. */
  chime() {
    if (!this.ready()) return;
    const ac = this.ac, t0 = ac.currentTime;
    for (const [f, g, delay] of [[659, 0.12, 0], [988, 0.06, 0], [784, 0.1, 0.45], [1175, 0.05, 0.45]]) {
      const osc = ac.createOscillator();
      const gain = ac.createGain();
      osc.type = "sine";
      osc.frequency.value = f;
      gain.gain.setValueAtTime(0.0001, t0 + delay);
      gain.gain.exponentialRampToValueAtTime(g, t0 + delay + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t0 + delay + 2.4);
      osc.connect(gain).connect(ac.destination);
      osc.start(t0 + delay);
      osc.stop(t0 + delay + 2.5);
    }
  }

  close() {
    if (this.ac) this.ac.close().catch(() => {});
    this.ac = null;
  }
}
