// Calm corner: breathing pacer, countdown timer and 5-4-3-2-1 grounding. Browser half
// of activities/calm/__init__.py.
//
// Everything timed is rendered from the confirmed state and the *server's* time, which
// this page estimates through its clock offset (clock.js, CLK1): the phase is a pure
// function of (pattern, start, pauses, now) (phase.js), so every screen in the
// room shows the same phase, late joiners included. Per frame only the pacer visual,
// its cue and the timer disc change; the rest is rebuilt when the state changes.
//
// Test hooks: #pacer [data-phase inhale|hold|exhale|hold2|idle|done, data-progress
// (0..1 in the phase, 3 decimals), data-round, data-running, data-synced];
// #timer [data-remaining-ms, data-running]; grounding [data-sense], [data-count].
import {activeSenses, apply as reduce, findPattern, initialState, totalRounds} from "./model.js";
import {elapsed, fullness, pacerPhase, timerRemaining} from "./phase.js";
import {CalmSound} from "./sound.js";
import {button, calmIcon, loadStyle, stepper} from "../room/ui.js";
import {makeVisual, visualLabel} from "./visuals.js";
import {ServerClock} from "../room/clock.js";
import {icon} from "../room/icons.js";
import {el, picture, randomId} from "../room/util.js";
import {t, tn, tp} from "../room/i18n.js";
import {TimerCue} from "../room/cues.js";

const CARD_PICTURE = {pacer: "balloon", timer: "calm-timer", grounding: "sense-see"};
// Words in the reader's language, looked up when shown (the page's language is known then).
const cardLabel = (c) => ({pacer: t("Breathing"), timer: t("Timer"), grounding: t("5-4-3-2-1")})[c] || c;
const TIMER_CHOICES = [1, 2, 3, 5, 10, 15, 20, 30, 45, 60];
// The 5-4-3-2-1 steps, said to the child: what to do with each sense.
const senseLabel = (sense) => ({see: tp("sense", "See"), touch: tp("sense", "Touch"), hear: tp("sense", "Hear"),
  smell: tp("sense", "Smell"), taste: tp("sense", "Taste")})[sense] || sense;
const PHASE_COLOR = {inhale: "#2f6fde", hold: "#7c3aed", exhale: "#0f9d58", hold2: "#7c3aed"};
const CHIME_WINDOW_S = 3;     // a timer that ran out this recently still chimes on arrival

export function create(spec, app) {
  return new CalmActivity(spec, app);
}

class CalmActivity {
  constructor(spec, app) {
    this.spec = spec;
    this.cfg = spec.config;
    this.app = app;
    this.presets = this.cfg.presets;
    this.state = initialState(this.cfg);
    this.sound = new CalmSound();
    // ServerClock, created at the first mount and kept sampling (a burst per 30 s) after
    // unmount, so the timer still chimes here while another activity is on screen.
    this.clock = null;
    this.ctx = null;
    // The therapist's choices before pressing start (local until sent).
    this.choice = "balloon";
    this.lengthMode = "rounds";
    this.rounds = this.presets.balloon.rounds;
    this.minutes = 2;
    this.timerMinutes = 5;
    this.showNumbers = false;
    this.editor = null;           // pattern being edited: {id, name, inhale, hold, exhale, hold2, visual}
    this.chimeTimer = null;
    this.chimedFor = null;
    // Issue 14: a guest is told (picture, tone, voice) when the timer starts and ends;
    // after the chime, without a second tone.
    this.timerCue = new TimerCue("calm", (kind, opts) => app?.cue?.(kind, opts));
  }

  // ================================================================ state (works unmounted)
  reset(state) {
    this.state = state && state.pacer && state.timer && state.grounding ? state : initialState(this.cfg);
    this.stateChanged();
  }

  apply(op) {
    const [next] = reduce(this.state, op.t, op.d, this.presets);
    if (next !== this.state) {
      this.state = next;
      this.stateChanged();
    }
  }

  ephemeral() { /* the calm corner has no ephemeral signals */ }

  changed(what) {
    if (what === "conn" && this.clock && this.ctx && this.ctx.connected()) this.clock.refresh();
    if (!this.ctx) return;
    if (what === "pending" || what === "settings" || what === "conn") this.refresh();
  }

  stateChanged() {
    this.viewCache = null;
    this.scheduleChime();
    if (this.ctx) this.refresh();
  }

  /** Confirmed state plus my unconfirmed ops that need no server time (optimistic). */
  view() {
    if (this.viewCache) return this.viewCache;
    let s = this.state;
    if (this.ctx) {
      for (const m of this.ctx.unconfirmed()) {
        if (!m.d || this.cfg.stamped.includes(m.t)) continue;   // needs the server's time
        try { s = reduce(s, m.t, m.d, this.presets)[0]; } catch { /* a bad stored op: skip */ }
      }
    }
    this.viewCache = s;
    return s;
  }

  serverNow() {
    return this.clock ? this.clock.nowS() : null;
  }

  /** The timer's end chimes on this device even while another activity is shown;
   *  its start and end are cues for a guest (once each per run: TimerCue). */
  scheduleChime() {
    clearTimeout(this.chimeTimer);
    this.chimeTimer = null;
    const tm = this.state.timer;
    const now = this.serverNow();
    if (!tm.running || now === null) return;
    const left = timerRemaining(tm, now);
    const key = `${tm.started_at}/${tm.paused_total}`;
    let chimed = false;
    if (left <= 0 && left > -CHIME_WINDOW_S && this.chimedFor !== key) {
      this.chimedFor = key;
      chimed = Boolean(this.sound.ready());    // it sounds only when it can
      this.sound.chime();
    }
    this.timerCue.see(String(tm.started_at), elapsed(tm, now), tm.minutes * 60, {tone: !chimed});
    if (left <= 0) return;
    this.chimeTimer = setTimeout(() => this.scheduleChime(), Math.min(left * 1000 + 30, 60000));
  }

  // ================================================================ mounting
  mount(root, ctx) {
    this.ctx = ctx;
    loadStyle("calm/calm.css");
    if (!this.clock) {
      this.clock = new ServerClock(() => ctx.clockSample());
      this.clock.onChange = () => { this.scheduleChime(); this.invalidate(); };
    }
    this.clock.start();
    this.motion = window.matchMedia("(prefers-reduced-motion: reduce)");
    this.onMotion = () => this.invalidate();
    this.motion.addEventListener("change", this.onMotion);
    this.onTap = () => { if (this.sound.on) this.sound.unlock(); };
    document.addEventListener("pointerdown", this.onTap, true);
    this.isTherapist = ctx.me.role === "therapist";
    this.root = el("div", {class: "calm", dataset: {role: ctx.me.role}});
    this.build();
    root.append(this.root);
    this.sig = {};
    this.refresh();
  }

  unmount() {
    if (this.raf) cancelAnimationFrame(this.raf);
    this.raf = 0;
    this.motion?.removeEventListener("change", this.onMotion);
    document.removeEventListener("pointerdown", this.onTap, true);
    this.root?.remove();
    this.root = null;
    this.ctx = null;
    this.visual = null;
  }

  submit(t, d) {
    if (!this.ctx) return;
    this.ctx.submit(t, d);
  }

  // ================================================================ building
  build() {
    const pics = this.ctx.pictures;
    this.soundBtn = button({class: "calm-btn calm-sound", dataset: {action: "sound"}, "aria-label": t("Sound"),
      onclick: () => { this.sound.setOn(!this.sound.on); this.refresh(); }});
    const top = el("div", {class: "calm-top"});
    if (this.isTherapist) {
      this.cardTabs = this.cfg.cards.map((c) => button({class: "calm-tab", role: "tab", dataset: {card: c},
        "aria-label": cardLabel(c), title: cardLabel(c), onclick: () => this.showCard(c)},
      picture(pics, CARD_PICTURE[c], "calm-tab-pic"), el("span", {}, cardLabel(c))));
      top.append(el("div", {class: "calm-tabs", role: "tablist"}, this.cardTabs));
    }
    top.append(el("span", {class: "spacer"}), this.soundBtn);

    // Pacer card.
    this.visualBox = el("div", {class: "calm-visual-box"});
    this.doneBadge = picture(pics, "calm-well-done", "calm-done-pic", t("Well done"));
    this.cue = el("div", {class: "calm-cue", "aria-live": "polite"});
    this.roundsEl = el("div", {class: "calm-rounds", "aria-hidden": "true"});
    // Issue 14: time left beside the breathing shape as a slice that shrinks, so a
    // child who cannot count dots or read minutes sees how much is left.
    this.pacerLeft = new TimerDisc("pacer-left", this.ctx.pictures["calm-timer"]?.url || "");
    this.pacerLeft.svg.setAttribute("aria-label", t("Breathing time left"));
    this.pacerEl = el("section", {id: "pacer", class: "calm-pacer",
      dataset: {phase: "idle", progress: "0.000", round: "0", running: "false", synced: "false"}},
    this.visualBox, this.doneBadge, this.cue, el("div", {class: "calm-progress"}, this.pacerLeft.el, this.roundsEl));
    // Timer card (the big disc) and the small one shown on the other cards; a bell in
    // the middle when time is up (the same picture as the guest's cue).
    const bell = this.ctx.pictures.bell?.url || "";
    this.bigDisc = new TimerDisc("big", bell);
    this.timerCard = el("section", {class: "calm-timer-card"}, this.bigDisc.el);
    this.miniDisc = new TimerDisc("mini", bell);
    // Grounding card.
    this.groundEl = el("section", {class: "calm-ground"});

    this.main = el("div", {class: "calm-main"}, top,
      el("div", {class: "calm-card"}, this.pacerEl, this.timerCard, this.groundEl), this.miniDisc.el);
    this.root.append(this.main);
    if (this.isTherapist) {
      this.panel = el("aside", {class: "calm-panel", "aria-label": t("Calm corner controls")});
      this.root.append(this.panel);
    }
  }

  showCard(card) {
    if (this.view().card !== card) this.submit("show", {card});
  }

  /** Rebuild what depends on the state (not on time); cheap and only when changed. */
  refresh() {
    if (!this.root) return;
    this.viewCache = null;
    const s = this.view();
    const card = s.card;
    this.root.dataset.card = card;
    this.pacerEl.hidden = card !== "pacer";
    this.timerCard.hidden = card !== "timer";
    this.groundEl.hidden = card !== "grounding";
    for (const b of this.cardTabs || []) b.setAttribute("aria-selected", String(b.dataset.card === card));
    this.soundBtn.replaceChildren(picture(this.ctx.pictures, this.sound.on ? "calm-sound-on" : "calm-sound-off", "calm-btn-pic"));
    this.soundBtn.setAttribute("aria-pressed", String(this.sound.on));
    this.soundBtn.title = this.sound.on ? t("Sound on") : t("Silent");
    // The disc with id="timer" is the one on screen.
    const big = card === "timer";
    this.bigDisc.el.id = big ? "timer" : "";
    this.miniDisc.el.id = big ? "" : "timer";
    // Pacer visual: rebuilt when the visual kind changes.
    const kind = s.pacer.visual;
    if (kind !== this.visualKind || !this.visual) {
      this.visualKind = kind;
      this.visual = makeVisual(kind, this.ctx.pictures);
      this.visualBox.replaceChildren(this.visual.root);
    }
    this.pacerEl.dataset.pattern = s.pacer.pattern;
    this.pacerEl.dataset.visual = kind;
    this.buildRounds(s.pacer);
    this.renderGrounding(s);
    if (this.panel) this.renderPanel(s);
    this.invalidate();
  }

  buildRounds(p) {
    const sig = `${p.total}`;
    if (this.roundsSig === sig) return;
    this.roundsSig = sig;
    if (p.total <= 12) {
      this.roundDots = Array.from({length: p.total}, () => el("span", {class: "calm-dot"}));
      this.roundBar = null;
      this.roundsEl.replaceChildren(...this.roundDots);
    } else {
      this.roundDots = null;
      this.roundBar = el("span", {class: "calm-bar-fill"});
      this.roundsEl.replaceChildren(el("span", {class: "calm-bar"}, this.roundBar));
    }
  }

  // ================================================================ per frame
  invalidate() {
    if (!this.raf && this.ctx) this.raf = requestAnimationFrame(() => this.frame());
  }

  frame() {
    this.raf = 0;
    if (!this.ctx || !this.root) return;
    const s = this.view();
    const now = this.serverNow();
    const reduced = Boolean(this.motion && this.motion.matches);
    const moving = this.renderPacer(s.pacer, now, reduced);
    const ticking = this.renderTimer(s.timer, now);
    // The pacer finishing or the timer running out changes which controls make sense.
    const ended = `${this.finished(s.pacer, now)}/${this.ranOut(s.timer, now)}`;   // i18n-ok
    if (ended !== this.ended) {
      this.ended = ended;
      this.panelSig = null;
      if (this.panel) this.renderPanel(s);
    }
    if (moving || ticking) this.invalidate();
  }

  finished(p, now) {
    return now !== null && p.started_at !== null && pacerPhase(p, now).phase === "done";
  }

  ranOut(tm, now) {
    return now !== null && tm.started_at !== null && timerRemaining(tm, now) <= 0;
  }

  /** Draw the pacer at server time `now`. Returns true while it keeps changing. */
  renderPacer(p, now, reduced) {
    const ds = this.pacerEl.dataset;
    const synced = now !== null;
    const ph = synced ? pacerPhase(p, now) : {phase: "idle", progress: 0, round: 0, running: false};
    const idle = ph.phase === "idle";
    const done = ph.phase === "done";
    const paused = !idle && !done && p.paused_at !== null;
    ds.synced = String(synced);
    ds.phase = ph.phase;
    ds.progress = ph.progress.toFixed(3);
    ds.round = String(ph.round);
    ds.running = String(ph.running);
    ds.paused = String(paused);
    ds.reduced = String(reduced);
    const fill = idle || done ? 0 : fullness(ph.phase, ph.progress);
    this.visual.render({phase: ph.phase, progress: ph.progress, round: ph.round, fill, reduced, idle: idle || done, done});
    // Word cue.
    const cues = this.cfg.cues[p.visual] || this.cfg.cues.default;
    let cue = "";
    if (done) cue = t("Well done!");
    else if (paused) cue = t("Paused");
    else if (!idle) cue = cues[ph.phase] || "";
    if (this.cue.textContent !== cue) this.cue.textContent = cue;
    this.cue.dataset.phase = ph.phase;
    this.cue.style.color = PHASE_COLOR[ph.phase] || "";
    // Rounds done so far.
    if (this.roundDots) {
      this.roundDots.forEach((d, i) => {
        d.classList.toggle("done", !idle && (done || i < ph.round));
        d.classList.toggle("now", !idle && !done && i === ph.round);
      });
    } else if (this.roundBar) {
      this.roundBar.style.width = `${idle ? 0 : Math.min(100, (100 * ph.round) / p.total)}%`;   // i18n-ok
    }
    this.pacerEl.classList.toggle("is-done", done);
    const cycle = p.timing.reduce((a, b) => a + b, 0);
    const total = cycle * p.total;
    const left = idle || !synced ? total : done ? 0 : Math.max(0, total - elapsed(p, now));
    this.pacerLeft.update({total, left, started: !idle, running: ph.running, paused, numbers: false});
    // A gentle tone at the start of each breath in and out.
    const key = `${ph.round}/${ph.phase}/${p.started_at}`;
    if (ph.running && key !== this.lastPhaseKey) {
      const i = this.cfg.phases.indexOf(ph.phase);
      if (i >= 0 && ph.progress < 0.15) this.sound.breath(ph.phase, (1 - ph.progress) * p.timing[i]);
    }
    this.lastPhaseKey = key;
    return synced ? ph.running : p.started_at !== null;
  }

  renderTimer(tm, now) {
    const total = tm.minutes * 60;
    const left = now === null || tm.started_at === null ? total : timerRemaining(tm, now);
    const running = tm.running && left > 0;
    const opts = {total, left: Math.max(0, left), started: tm.started_at !== null, running,
      paused: tm.paused_at !== null};
    this.bigDisc.update({...opts, numbers: this.showNumbers});
    this.miniDisc.update({...opts, numbers: false});
    this.miniDisc.el.hidden = this.view().card === "timer" || tm.started_at === null;
    return running && now !== null;
  }

  // ================================================================ grounding card
  renderGrounding(s) {
    const g = s.grounding;
    const may = this.ctx.canDraw();
    const sig = JSON.stringify([g, may]);
    if (sig === this.groundSig) return;
    this.groundSig = sig;
    const pics = this.ctx.pictures;
    const targets = this.cfg.senses;
    const active = activeSenses(g);
    const strip = el("div", {class: "calm-senses"}, active.map((sense) => {
      const i = active.indexOf(sense), ci = active.indexOf(g.current);
      const state = g.current === "done" || (ci >= 0 && i < ci) ? "done" : sense === g.current ? "now" : "later";
      return el("div", {class: `calm-sense ${state}`, dataset: {sense, state}, title: senseLabel(sense)},
        picture(pics, this.cfg.sense_picture[sense], "calm-sense-pic", senseLabel(sense)),
        el("span", {class: "calm-sense-n"}, String(targets[sense])));
    }));
    let body;
    if (g.current === null) {
      body = el("div", {class: "calm-ground-intro"}, picture(pics, "calm-corner", "calm-big-pic", ""));
    } else if (g.current === "done") {
      body = el("div", {class: "calm-ground-done"}, picture(pics, "calm-well-done", "calm-big-pic", t("Well done")));
    } else {
      const sense = g.current;
      const n = g.counts[sense] || 0;
      const target = targets[sense];
      const spots = Array.from({length: target}, (_, i) => button({
        class: "calm-spot" + (i < n ? " found" : ""), dataset: {count: String(i + 1)},
        "aria-label": `${i + 1}`, "aria-pressed": String(i < n), disabled: !may,
        onclick: () => this.count(sense, i + 1 === n ? i : i + 1),
      }, i < n ? picture(pics, "star", "calm-spot-pic", "") : null));
      body = el("div", {class: "calm-ground-now" + (n >= target ? " complete" : ""), dataset: {current: sense}},
        picture(pics, this.cfg.sense_picture[sense], "calm-big-pic", senseLabel(sense)),
        el("div", {class: "calm-spots"}, spots));
    }
    this.groundEl.replaceChildren(strip, body);
  }

  count(sense, n) {
    if (!this.ctx.canDraw()) return;
    this.submit("grounding.count", {sense, n});
  }

  // ================================================================ therapist panel
  renderPanel(s) {
    const sig = JSON.stringify([s.card, s.pacer, s.patterns, s.timer, s.grounding, this.choice,
      this.lengthMode, this.rounds, this.minutes, this.timerMinutes, this.showNumbers, Boolean(this.editor),
      this.ctx.connected()]);
    if (sig === this.panelSig) return;
    this.panelSig = sig;
    const parts = s.card === "pacer" ? this.pacerPanel(s) : s.card === "timer" ? this.timerPanel(s) : this.groundingPanel(s);
    const undo = button({class: "calm-btn", dataset: {action: "undo"}, "aria-label": t("Undo"), title: t("Undo"),
      onclick: () => this.history("undo")}, icon("undo"));
    const redo = button({class: "calm-btn", dataset: {action: "redo"}, "aria-label": t("Redo"), title: t("Redo"),
      onclick: () => this.history("redo")}, icon("redo"));
    this.panel.replaceChildren(...parts, el("div", {class: "calm-row calm-history"}, undo, redo));
  }

  history(action) {
    if (this.ctx && this.ctx.history(action) === null) this.ctx.toast(t("Not connected right now."));
  }

  pickPattern(id) {
    this.choice = id;
    const p = this.presets[id];
    if (p) this.rounds = p.rounds;
    this.refresh();
  }

  pacerPanel(s) {
    const pics = this.ctx.pictures;
    const p = s.pacer;
    const started = p.started_at !== null;
    const saved = Object.entries(s.patterns).sort((a, b) => a[1].name.localeCompare(b[1].name));
    if (!this.presets[this.choice] && !s.patterns[this.choice]) this.choice = "balloon";
    const patternBtn = (id, name, pictureId, custom) => {
      const b = button({class: "calm-pattern", dataset: {pattern: id}, "aria-pressed": String(this.choice === id),
        title: name, onclick: () => this.pickPattern(id)},
      picture(pics, pictureId, "calm-pattern-pic", ""), el("span", {class: "calm-pattern-name"}, name));
      if (!custom) return b;
      return el("div", {class: "calm-pattern-wrap"}, b,
        button({class: "calm-mini-btn", dataset: {action: "pattern-edit", pattern: id}, "aria-label": t("Edit {name}", {name}),
          title: t("Edit"), onclick: () => this.editPattern(id, s.patterns[id])}, calmIcon("edit")),
        button({class: "calm-mini-btn danger", dataset: {action: "pattern-delete", pattern: id},
          "aria-label": t("Delete {name}", {name}), title: t("Delete"), onclick: () => this.deletePattern(id, name)}, calmIcon("cross")));
    };
    const grid = el("div", {class: "calm-patterns"},
      this.cfg.preset_order.map((id) => patternBtn(id, this.cfg.preset_names?.[id] || this.presets[id].name,
        this.presets[id].picture, false)),
      saved.map(([id, pt]) => patternBtn(id, pt.name, this.cfg.visual_picture[pt.visual], true)),
      button({class: "calm-pattern add", dataset: {action: "pattern-new"}, title: t("New pattern"),
        onclick: () => this.editPattern(null)}, calmIcon("plus", "icon calm-pattern-pic"),
      el("span", {class: "calm-pattern-name"}, t("Own pattern"))));
    const lim = this.cfg.limits;
    const len = this.lengthMode === "rounds"
      ? stepper({label: t("Rounds"), action: "rounds", get: () => this.rounds, min: lim.rounds[0], max: lim.rounds[1],
        set: (v) => { this.rounds = v; this.refresh(); }, fmt: (v) => `${v} ×`})
      : stepper({label: t("Minutes"), action: "minutes", get: () => this.minutes, min: lim.pacer_minutes[0],
        max: lim.pacer_minutes[1], set: (v) => { this.minutes = v; this.refresh(); }, fmt: (v) => t("{n} min", {n: v})});
    const modeBtn = (mode, label) => button({class: "calm-chip", dataset: {length: mode},
      "aria-pressed": String(this.lengthMode === mode), onclick: () => { this.lengthMode = mode; this.refresh(); }}, label);
    const chosen = findPattern(s, this.presets, this.choice);
    const timing = chosen ? chosen.timing : [4, 0, 6, 0];
    const controls = el("div", {class: "calm-row calm-controls"});
    const paused = started && p.paused_at !== null;
    const done = this.finished(p, this.serverNow());
    controls.append(button({class: "calm-btn go", dataset: {action: "pacer-start"}, title: started ? t("Start again") : t("Start"),
      "aria-label": t("Start"), onclick: () => this.startPacer()}, calmIcon("play")));
    if (started && !paused && !done) {
      controls.append(button({class: "calm-btn", dataset: {action: "pacer-pause"}, "aria-label": t("Pause"), title: t("Pause"),
        onclick: () => this.submit("pacer.pause", {})}, calmIcon("pause")));
    }
    if (paused) {
      controls.append(button({class: "calm-btn go", dataset: {action: "pacer-resume"}, "aria-label": t("Resume"),
        title: t("Resume"), onclick: () => this.submit("pacer.resume", {})}, calmIcon("play"), el("span", {}, t("Go on"))));
    }
    if (started) {
      controls.append(button({class: "calm-btn", dataset: {action: "pacer-stop"}, "aria-label": t("Stop"), title: t("Stop"),
        onclick: () => this.submit("pacer.stop", {})}, calmIcon("stop")));
    }
    const out = [
      el("h2", {class: "calm-h"}, t("Breathing")),
      grid,
      el("p", {class: "calm-timing"}, timingText(timing), chosen ? el("span", {}, " · " + tn("{n} breath", "{n} breaths",
        totalRounds(timing, this.lengthMode === "rounds" ? this.rounds : null,
          this.lengthMode === "minutes" ? this.minutes : null))) : null),
      el("div", {class: "calm-row"}, modeBtn("rounds", t("Rounds")), modeBtn("minutes", t("Minutes")), len.el),
      controls,
    ];
    if (this.editor) out.push(this.patternEditor());
    return out;
  }

  startPacer() {
    const d = {pattern: this.choice};
    if (this.lengthMode === "rounds") d.rounds = this.rounds;
    else d.minutes = this.minutes;
    this.submit("pacer.start", d);
  }

  editPattern(id, pattern) {
    const tm = pattern ? pattern.timing : [4, 2, 4, 2];
    this.editor = {id: id || null, name: pattern ? pattern.name : "", inhale: tm[0], hold: tm[1], exhale: tm[2],
      hold2: tm[3], visual: pattern ? pattern.visual : "balloon"};
    this.refresh();
    const ed = this.panel.querySelector(".calm-editor");
    ed?.scrollIntoView({block: "nearest"});
    ed?.querySelector("input")?.focus();
  }

  async deletePattern(id, name) {
    if (await this.ctx.confirm(t("Delete “{name}”?", {name}), {yes: t("Delete"), no: t("Keep")})) {
      if (this.choice === id) this.choice = "balloon";
      this.submit("pattern.delete", {id});
    }
  }

  patternEditor() {
    const ed = this.editor;
    const lim = this.cfg.limits;
    const pics = this.ctx.pictures;
    const name = el("input", {type: "text", class: "calm-input", maxlength: String(lim.name_chars),
      placeholder: t("Name"), value: ed.name, "aria-label": t("Pattern name"), dataset: {field: "name"},
      oninput: (e) => { ed.name = e.target.value; }});
    const step = (key, label, range) => stepper({label, action: `edit-${key}`, get: () => ed[key],
      min: range[0], max: range[1], fmt: (v) => t("{n} s", {n: v}), set: (v) => { ed[key] = v; rows[key].update(); }});
    const label = {inhale: tp("breathing", "In"), hold: tp("breathing", "Hold"), exhale: tp("breathing", "Out"),
      hold2: tp("breathing", "Hold")};
    const rows = {inhale: step("inhale", label.inhale, lim.breath), hold: step("hold", label.hold, lim.hold),
      exhale: step("exhale", label.exhale, lim.breath), hold2: step("hold2", label.hold2, lim.hold)};
    const visuals = el("div", {class: "calm-row calm-visuals"}, this.cfg.visuals.map((v) => button({
      class: "calm-chip pic", dataset: {visual: v}, "aria-pressed": String(ed.visual === v), title: visualLabel(v), "aria-label": visualLabel(v),
      onclick: () => { ed.visual = v; for (const b of visuals.children) b.setAttribute("aria-pressed", String(b.dataset.visual === v)); },
    }, picture(pics, this.cfg.visual_picture[v], "calm-chip-pic", ""))));
    const save = button({class: "calm-btn go wide", dataset: {action: "pattern-save"}, onclick: () => this.savePattern()},
      calmIcon("save"), el("span", {}, t("Save")));
    const cancel = button({class: "calm-btn wide", dataset: {action: "pattern-cancel"},
      onclick: () => { this.editor = null; this.refresh(); }}, calmIcon("cross"), el("span", {}, t("Cancel")));
    return el("div", {class: "calm-editor", role: "group", "aria-label": t("Own breathing pattern")},
      name,
      ...["inhale", "hold", "exhale", "hold2"].map((k) =>
        el("div", {class: "calm-edit-row"}, el("span", {class: "calm-edit-label"}, label[k]), rows[k].el)),
      visuals, el("div", {class: "calm-row"}, cancel, save));
  }

  savePattern() {
    const ed = this.editor;
    const name = ed.name.trim();
    if (!name) {
      this.ctx.toast(t("Give the pattern a name."));
      return;
    }
    const max = this.cfg.limits.patterns;
    if (!ed.id && Object.keys(this.view().patterns).length >= max) {
      // Said here in the reader's language (the server's refusal would say it in English).
      this.ctx.toast(t("At most {max} saved patterns: delete one first.", {max}));
      return;
    }
    const id = ed.id || "p" + randomId(10);
    this.submit("pattern.save", {id, name, inhale: ed.inhale, hold: ed.hold, exhale: ed.exhale, hold2: ed.hold2,
      visual: ed.visual});
    this.editor = null;
    this.choice = id;
    this.refresh();
  }

  timerPanel(s) {
    const tm = s.timer;
    const started = tm.started_at !== null;
    const lim = this.cfg.limits.timer_minutes;
    const chips = el("div", {class: "calm-row calm-minutes"}, TIMER_CHOICES.map((m) => button({
      class: "calm-chip", dataset: {minutes: String(m)}, "aria-pressed": String(this.timerMinutes === m),
      onclick: () => { this.timerMinutes = m; this.refresh(); }}, String(m))));
    const st = stepper({label: t("Minutes"), action: "timer-minutes", get: () => this.timerMinutes, min: lim[0], max: lim[1],
      set: (v) => { this.timerMinutes = v; this.refresh(); }, fmt: (v) => t("{n} min", {n: v})});
    const controls = el("div", {class: "calm-row calm-controls"},
      button({class: "calm-btn go", dataset: {action: "timer-start"}, "aria-label": t("Start"), title: t("Start"),
        onclick: () => this.submit("timer.start", {minutes: this.timerMinutes})}, calmIcon("play")));
    if (tm.running && !this.ranOut(tm, this.serverNow())) {
      controls.append(button({class: "calm-btn", dataset: {action: "timer-pause"}, "aria-label": t("Pause"), title: t("Pause"),
        onclick: () => this.submit("timer.pause", {})}, calmIcon("pause")));
    }
    if (started && tm.paused_at !== null) {
      controls.append(button({class: "calm-btn go", dataset: {action: "timer-resume"}, "aria-label": t("Resume"),
        title: t("Resume"), onclick: () => this.submit("timer.resume", {})}, calmIcon("play"), el("span", {}, t("Go on"))));
    }
    if (started) {
      controls.append(button({class: "calm-btn", dataset: {action: "timer-reset"}, "aria-label": t("Reset"), title: t("Reset"),
        onclick: () => this.submit("timer.reset", {})}, calmIcon("reset")));
    }
    const numbers = button({class: "calm-chip", dataset: {action: "numbers"}, "aria-pressed": String(this.showNumbers),
      title: t("Show minutes on my screen"), onclick: () => { this.showNumbers = !this.showNumbers; this.refresh(); }},
    calmIcon("numbers", "icon calm-chip-icon"));
    return [el("h2", {class: "calm-h"}, t("Timer")), chips, el("div", {class: "calm-row"}, st.el, numbers), controls];
  }

  groundingPanel(s) {
    const g = s.grounding;
    const pics = this.ctx.pictures;
    const active = activeSenses(g);
    const started = g.current !== null;
    const move = (sense, dir) => {
      const order = g.order.slice();
      const i = order.indexOf(sense), j = i + dir;
      if (j < 0 || j >= order.length) return;
      [order[i], order[j]] = [order[j], order[i]];
      this.submit("grounding.order", {order, skipped: g.skipped});
    };
    const toggleSkip = (sense) => {
      const skipped = g.skipped.includes(sense) ? g.skipped.filter((x) => x !== sense) : [...g.skipped, sense];
      if (skipped.length >= g.order.length) return;
      this.submit("grounding.order", {order: g.order, skipped});
    };
    const rows = el("ol", {class: "calm-order"}, g.order.map((sense, i) => el("li", {
      class: "calm-order-row" + (g.skipped.includes(sense) ? " skipped" : "") + (g.current === sense ? " now" : ""),
      dataset: {sense}},
    picture(pics, this.cfg.sense_picture[sense], "calm-order-pic", ""),
    el("span", {class: "calm-order-name"}, t("{n} {sense}", {n: this.cfg.senses[sense], sense: senseLabel(sense)})),
    button({class: "calm-mini-btn", "aria-label": t("Move {sense} up", {sense: senseLabel(sense)}), disabled: i === 0,
      dataset: {action: "sense-up"}, onclick: () => move(sense, -1)}, calmIcon("up")),
    button({class: "calm-mini-btn", "aria-label": t("Move {sense} down", {sense: senseLabel(sense)}), disabled: i === g.order.length - 1,
      dataset: {action: "sense-down"}, onclick: () => move(sense, 1)}, calmIcon("down")),
    button({class: "calm-mini-btn", "aria-label": t("Skip {sense}", {sense: senseLabel(sense)}), title: t("Skip"),
      "aria-pressed": String(g.skipped.includes(sense)), dataset: {action: "sense-skip"},
      onclick: () => toggleSkip(sense)}, calmIcon("skip")))));
    const controls = el("div", {class: "calm-row calm-controls"});
    if (!started || g.current === "done") {
      controls.append(button({class: "calm-btn go", dataset: {action: "grounding-start"}, "aria-label": t("Start"),
        title: t("Start"), onclick: () => this.submit("grounding.start", {})}, calmIcon("play")));
    }
    if (started && g.current !== "done") {
      const i = active.indexOf(g.current);
      controls.append(
        button({class: "calm-btn", dataset: {action: "grounding-back"}, "aria-label": t("Back"), title: t("Back"),
          disabled: i <= 0, onclick: () => this.submit("grounding.go", {to: active[i - 1]})}, calmIcon("back")),
        button({class: "calm-btn go", dataset: {action: "grounding-next"}, "aria-label": t("Next"), title: t("Next"),
          onclick: () => this.submit("grounding.go", {to: active[i + 1] || "done"})}, calmIcon("next")));
    }
    if (started) {
      controls.append(button({class: "calm-btn", dataset: {action: "grounding-stop"}, "aria-label": t("Stop"), title: t("Stop"),
        onclick: () => this.submit("grounding.stop", {})}, calmIcon("stop")));
    }
    return [el("h2", {class: "calm-h"}, "5-4-3-2-1"), rows, controls];
  }
}

function timingText(timing) {
  const say = [(n) => tp("timing", "in {n}", {n}), (n) => tp("timing", "hold {n}", {n}),
    (n) => tp("timing", "out {n}", {n}), (n) => tp("timing", "hold {n}", {n})];
  return timing.map((v, i) => (v ? say[i](v) : null)).filter(Boolean).join(" · ");
}

/** The countdown disc: a coloured slice that shrinks as the time runs out. */
class TimerDisc {
  constructor(kind, bellUrl) {
    const NS = "http://www.w3.org/2000/svg";
    const mk = (tag, attrs) => {
      const n = document.createElementNS(NS, tag);
      for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
      return n;
    };
    this.svg = mk("svg", {viewBox: "0 0 200 200", class: "calm-disc-svg", role: "img", "aria-label": t("Time left")});
    this.svg.append(mk("circle", {cx: 100, cy: 100, r: 96, fill: "#ffffff", stroke: "#d9dee8", "stroke-width": 4}));
    for (let i = 0; i < 12; i++) {
      const a = (i * 30 * Math.PI) / 180;
      this.svg.append(mk("line", {x1: 100 + 84 * Math.sin(a), y1: 100 - 84 * Math.cos(a), x2: 100 + 92 * Math.sin(a),
        y2: 100 - 92 * Math.cos(a), stroke: "#c3cad6", "stroke-width": 3, "stroke-linecap": "round"}));
    }
    this.slice = mk("path", {d: "", fill: "#26a69a"});
    this.full = mk("circle", {cx: 100, cy: 100, r: 80, fill: "#26a69a"});
    this.knob = mk("circle", {cx: 100, cy: 100, r: 10, fill: "#ffffff", stroke: "#9aa5b6", "stroke-width": 3});
    this.label = mk("rect", {x: 58, y: 126, width: 84, height: 36, rx: 18, fill: "#ffffff", opacity: 0.92,
      visibility: "hidden"});
    this.text = mk("text", {x: 100, y: 153, "text-anchor": "middle", "font-size": 26, "font-weight": 800,
      fill: "#1f2937", "font-family": "system-ui, sans-serif"});   // i18n-ok
    this.svg.append(this.full, this.slice, this.knob, this.label, this.text);
    this.bell = el("img", {class: "calm-disc-bell", src: bellUrl, alt: "", hidden: true});
    this.el = el("div", {class: `calm-disc ${kind}`, dataset: {remainingMs: "0", running: "false"}}, this.svg, this.bell);
  }

  update({total, left, started, running, paused, numbers}) {
    const ms = String(Math.round(left * 1000));
    const ds = this.el.dataset;
    if (ds.remainingMs === ms && ds.running === String(running) && this.lastNumbers === numbers) return;
    ds.remainingMs = ms;
    ds.running = String(running);
    ds.paused = String(paused);
    ds.started = String(started);
    this.lastNumbers = numbers;
    const frac = total > 0 ? Math.min(1, left / total) : 0;
    this.full.setAttribute("visibility", frac >= 0.9999 ? "visible" : "hidden");
    this.slice.setAttribute("d", frac >= 0.9999 || frac <= 0 ? "" : slicePath(frac));
    const out = started && left <= 0;
    this.el.classList.toggle("out", out);
    this.el.classList.toggle("paused", paused);
    this.bell.hidden = !out;
    const secs = Math.ceil(left);
    this.label.setAttribute("visibility", numbers ? "visible" : "hidden");
    this.text.textContent = numbers ? `${Math.floor(secs / 60)}:${String(secs % 60).padStart(2, "0")}` : "";   // m:ss // i18n-ok
  }
}

/** The remaining time as a slice from 12 o'clock, clockwise, of `frac` of the disc. */
function slicePath(frac) {
  const a = frac * 2 * Math.PI;
  const x = 100 + 80 * Math.sin(a), y = 100 - 80 * Math.cos(a);
  const large = frac > 0.5 ? 1 : 0;
  return `M100 100 L100 20 A80 80 0 ${large} 1 ${x.toFixed(2)} ${y.toFixed(2)} Z`;   // i18n-ok
}
