// Pre-reader cues (issue 14): a child who cannot read learns what is happening from
// a picture (the screens show one), a short tone and, where the device has one, its
// own local voice — never from text alone. Tones are made in the page with WebAudio
// and speech uses only a voice on the device (`localService`), so nothing is
// fetched from another host.
//
// A timer (schedule step, calm corner) is said when it starts and when it runs out,
// once per screen (TimerCue).
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
  // An activity's timer (schedule step, calm corner): its picture comes with it.
  timer_running: {notes: [523, 587], say: N_("The timer is on."), pic: "calm-timer"},
  timer_over: {notes: [880, 880, 1047], say: N_("Time is up!"), pic: "bell"},
};

/** The picture that says `kind` when the cue brings its own (a timer's), else null. */
export function cuePicture(kind) {
  return CUES[kind]?.pic || null;
}

// A timer is said only near the moment it starts or runs out: a screen that arrives
// later (a late joiner) is not told of an old one.
export const TIMER_WINDOW_S = 5;
const SAID_KEY = "playroom.timer-cues";
const SAID_KEEP = 40;

function sessionStore() {
  try {
    return window.sessionStorage || null;
  } catch {
    return null;      // storage switched off: remembered for this page only
  }
}

/**
 * A timer's start ("timer_running") and its end ("timer_over"), each said once on
 * this screen: not at every re-render, and not again after a reconnect or a reload
 * (what was said is kept in this tab's sessionStorage). `say(kind, opts)` gives the cue.
 */
export class TimerCue {
  constructor(name, say, store = sessionStore()) {
    this.name = name;
    this.say = say;
    this.store = store;
    this.said = new Set(this.load());
  }

  load() {
    try {
      const list = JSON.parse(this.store?.getItem(SAID_KEY) || "[]");
      return Array.isArray(list) ? list : [];
    } catch {
      return [];
    }
  }

  /** `run` names one run of the timer (it changes when the timer is started again),
   *  null when none runs; `ran` seconds it has run and `total` its length, by the
   *  server's clock (`ran` null while the clock is not known yet); `opts` go to
   *  `say`. Returns the cue given, or null. */
  see(run, ran, total, opts) {
    if (run === null || run === undefined || ran === null || ran === undefined || !(total > 0)) return null;
    const over = ran >= total;
    const late = over ? ran - total : ran;
    if (late >= TIMER_WINDOW_S) return null;
    const kind = over ? "timer_over" : "timer_running";
    const key = `${this.name}:${run}:${kind}`;
    if (this.said.has(key)) return null;
    // Also the shared list: another of this page's watchers (or the page before a
    // reload) may have said it.
    for (const k of this.load()) this.said.add(k);
    if (this.said.has(key)) return null;
    this.said.add(key);
    try {
      const list = [...this.load().filter((k) => k !== key), key].slice(-SAID_KEEP);
      this.store?.setItem(SAID_KEY, JSON.stringify(list));
    } catch { /* full or switched off: this page still remembers */ }
    this.say(kind, opts);
    return kind;
  }
}

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

  /** Say `kind` with a tone and the local voice; the picture is the caller's.
   *  `tone: false` when the activity just made its own sound (the calm chime). */
  give(kind, {tone = true} = {}) {
    const cue = CUES[kind];
    if (!this.enabled || !cue) return;
    this.count += 1;
    document.body.dataset.cue = kind;
    document.body.dataset.cues = String(this.count);
    if (tone) this.tone(cue.notes);
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
