// Pre-reader cues (issue 14): a child who cannot read learns what is happening from
// a picture (the screens show one), a short tone and, where the device has one, its
// own local voice — never from text alone. Tones are made in the page with WebAudio
// and speech uses only a voice on the device (`localService`), so nothing is
// fetched from another host.
//
// Test hook: body[data-cue] is the last cue given, body[data-cues] how many so far.
import {N_, language, t} from "./i18n.js";

/** A speech voice that runs on this device (none that sends text to a server) and
 *  speaks `lang` (the reader's language unless told), or null: a voice of another
 *  language would say the words wrongly, so then nothing is said (the tone and the
 *  picture still tell it). Prefers the region asked for, then the browser's. */
export function localVoice(lang = language()) {
  if (typeof window === "undefined" || !("speechSynthesis" in window)) return null;
  const norm = (tag) => String(tag || "").toLowerCase().replace("_", "-");
  const base = (tag) => norm(tag).split("-")[0];
  const voices = window.speechSynthesis.getVoices()
    .filter((v) => v.localService === true && base(v.lang) === base(lang));
  const prefs = [lang, ...((typeof navigator !== "undefined" && navigator.languages) || [])];
  for (const pref of prefs) {
    const hit = voices.find((v) => norm(v.lang) === norm(pref));
    if (hit) return hit;
  }
  return voices[0] || null;
}

// kind -> notes (Hz, rising = hello, falling = pause/goodbye) and a few plain words,
// marked with N_() and said in the reader's language (t() when given).
const CUES = {
  waiting: {notes: [440, 554], say: N_("Please wait. Your therapist will let you in soon.")},
  let_in: {notes: [523, 659, 784], say: N_("Come in! Let's play.")},
  your_turn: {notes: [659, 880], say: N_("Your turn!")},
  frozen: {notes: [494, 392], say: N_("Let's pause for a moment.")},
  private_time: {notes: [494, 392], say: N_("Private time. Please wait here.")},
  goodbye: {notes: [784, 659, 523], say: N_("Goodbye! See you next time.")},
  reconnecting: {notes: [330, 330], say: null},
  back: {notes: [523, 784], say: null},
};

export class Cues {
  /** `enabled`: only guests get cues; the therapist's own screen stays quiet. */
  constructor(enabled) {
    this.enabled = enabled;
    this.audio = null;
    this.count = 0;
    // Browsers start audio only after a tap: wake the context on the first one.
    if (enabled) document.addEventListener("pointerdown", () => this.wake(), {once: true, capture: true});
  }

  wake() {
    try {
      this.audio = this.audio || new (window.AudioContext || window.webkitAudioContext)();
      if (this.audio.state === "suspended") this.audio.resume().catch(() => {});
    } catch {
      this.audio = null;    // no WebAudio here: the picture still says it
    }
  }

  /** Say `kind` with a tone and the local voice; the picture is the caller's. */
  give(kind) {
    const cue = CUES[kind];
    if (!this.enabled || !cue) return;
    this.count += 1;
    document.body.dataset.cue = kind;
    document.body.dataset.cues = String(this.count);
    this.tone(cue.notes);
    if (cue.say) this.speak(t(cue.say));
  }

  tone(notes) {
    if (!this.audio) this.wake();
    const ctx = this.audio;
    if (!ctx || ctx.state !== "running") return;
    const t0 = ctx.currentTime + 0.02;
    notes.forEach((hz, i) => {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = "sine";
      osc.frequency.value = hz;
      const at = t0 + i * 0.18;
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.12, at + 0.03);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.3);
      osc.connect(gain).connect(ctx.destination);
      osc.start(at);
      osc.stop(at + 0.32);
    });
  }

  speak(text) {
    const voice = localVoice();
    if (!voice) return;     // no voice of the reader's language here
    window.speechSynthesis.cancel();
    const u = new SpeechSynthesisUtterance(text);
    u.voice = voice;
    u.lang = voice.lang;
    u.rate = 0.9;
    window.speechSynthesis.speak(u);
  }
}
