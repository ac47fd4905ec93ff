// Visual schedule and first–then board. Browser half of activities/schedule/__init__.py.
//
// Everyone sees the same board from the confirmed state. "First–then": the next two
// steps as two big cards; "List": every step in a row. The child taps a step, or drags
// it onto "All done"; a step with a timer shows a disc that shrinks as the time runs
// (the start is stamped by the server and read through this page's clock estimate,
// CLK1, so every screen shows the same time left) and a bell when it runs out; a
// guest is told of its start and its end by a cue (room/cues.js, issue 14). When every step is done the child
// picks one of the rewards the therapist offered. The therapist edits the steps in a
// side panel (pictures from the set or their own uploads). All text goes in as text.
//
// Test hooks: .schedule[data-layout][data-all-done][data-steps]; .sc-step[data-step=id][data-done]
// [data-slot="first"|"then"]; #sc-done (the "All done" area) with .sc-done-item;
// [data-action="timer"] (.sc-timer[data-left], .over, .sc-bell at the end); .sc-reward[data-reward=pic]
// [aria-pressed]; [data-action="undo"|"redo"]; editor .sc-editor with
// [data-action="layout-first-then"|"layout-list"|"example-<name>"|"reset"],
// picker [data-add=pic], rows [data-row=id], reward toggles [data-offer=pic],
// [data-action="upload"] + input[type=file][data-action="upload-file"].
import {button, calmIcon, loadStyle} from "../room/ui.js";
import {ServerClock} from "../room/clock.js";
import {icon} from "../room/icons.js";
import {allDone, apply as reduce, initialState, timeLeft} from "./model.js";
import {UploadClient, pictureOf} from "../room/uploads.js";
import {Drafts, el, picture, randomId} from "../room/util.js";
import {t} from "../room/i18n.js";
import {TimerCue} from "../room/cues.js";

// Seconds; short waits too ("wait 10 seconds"), from the protocol's shortest timer on
// (limits.min_secs: 10): the editor offered one minute at least (issue 14).
const TIMER_CHOICES = [0, 10, 20, 30, 60, 120, 300, 600, 900, 1800];
const PICKER_MAX = 48;
const DRAG_PX = 12;

export function create(spec, app) {
  return new ScheduleActivity(spec, app);
}


function fmtTime(secs) {
  const s = Math.max(0, Math.ceil(secs));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;   // a clock (m:ss), no words // i18n-ok
}

function timerLabel(secs) {
  if (!secs) return t("No timer");
  return secs % 60 ? t("{n} s", {n: secs}) : t("{n} min", {n: secs / 60});
}

/** A disc showing `frac` (0..1) of the time left, as a slice from 12 o'clock. */
function disc(frac) {
  const f = Math.max(0, Math.min(1, frac));
  const a = 2 * Math.PI * f;
  const x = 50 + 46 * Math.sin(a);
  const y = 50 - 46 * Math.cos(a);
  const large = f > 0.5 ? 1 : 0;
  const slice = f >= 0.999 ? '<circle cx="50" cy="50" r="46" class="sc-disc-left"/>'
    : f <= 0 ? "" : `<path d="M50 50 L50 4 A46 46 0 ${large} 1 ${x.toFixed(2)} ${y.toFixed(2)} Z" class="sc-disc-left"/>`;   // SVG markup // i18n-ok
  const span = document.createElement("span");
  span.className = "sc-disc";
  span.setAttribute("aria-hidden", "true");
  span.innerHTML = `<svg viewBox="0 0 100 100" width="100%" height="100%"><circle cx="50" cy="50" r="46" class="sc-disc-bg"/>${slice}</svg>`;
  return span;
}

class ScheduleActivity {
  constructor(spec, app) {
    this.spec = spec;
    this.cfg = spec.config;
    this.app = app;
    this.state = initialState();
    this.ctx = null;
    this.clock = null;
    this.query = "";
    this.status = "";
    this.statusKind = "";
    this.busy = false;
    this.drag = null;
    this.drafts = new Drafts();   // step words typed, not yet sent: survive the child's ticks
    this.timerCue = new TimerCue("schedule", (kind) => app?.cue?.(kind));
    this.timerWake = null;
  }

  // ================================================================ state (works unmounted)
  reset(state) {
    this.state = state && Array.isArray(state.steps) ? state : initialState();
    this.watchTimer();
    this.refresh();
  }

  apply(op) {
    const [next] = reduce(this.state, this.cfg, op.t, op.d);
    if (next !== this.state) {
      this.state = next;
      this.watchTimer();
      this.refresh();
    }
  }

  /** CTL7: the therapist's "Start again" starts the schedule: it brings a guest here,
   *  Follow me or not. Building it (steps, layout, prizes) pulls nobody away. */
  summons(t) {
    return t === "reset";
  }

  ephemeral() { /* no ephemeral signals */ }

  changed(what) {
    if (this.ctx && (what === "settings" || what === "conn" || what === "stacks" || what === "pending")) {
      if (what === "conn" && this.clock && this.ctx.connected()) this.clock.refresh();
      this.refresh();
    }
  }

  // ================================================================ mounting
  mount(root, ctx) {
    this.ctx = ctx;
    loadStyle("schedule/schedule.css");
    this.isTherapist = ctx.me.role === "therapist";
    if (!this.clock) {
      this.clock = new ServerClock(() => ctx.clockSample());
      this.clock.onChange = () => { this.watchTimer(); this.tick(); };
    }
    this.clock.start();
    if (this.isTherapist) this.uploads = this.uploads || new UploadClient(this.cfg);
    this.root = el("div", {class: "schedule", dataset: {role: ctx.me.role}});
    this.board = el("div", {class: "sc-board"});
    this.root.append(this.board);
    if (this.isTherapist) {
      this.panel = el("aside", {class: "sc-editor", "aria-label": t("Edit the schedule")});
      this.root.append(this.panel);
      this.root.classList.add("with-editor");
    }
    root.append(this.root);
    this.sig = null;
    this.refresh();
    this.ticker = setInterval(() => this.tick(), 250);
  }

  unmount() {
    clearInterval(this.ticker);
    this.clock?.stop();
    this.root?.remove();
    this.root = null;
    this.ctx = null;
  }

  submit(t, d) {
    if (this.ctx) this.ctx.submit(t, d);
  }

  canPlay() {
    return this.ctx ? this.ctx.canDraw() : false;
  }

  pic(ref, cls, thumb = false) {
    return pictureOf(this.ctx, this.cfg, ref, cls, "", thumb);
  }

  label(ref) {
    return this.ctx.pictures[ref]?.label || t("our picture");
  }

  /** A step's words as this reader reads them: a quick start's in their language. */
  words(text) {
    const words = this.cfg.words || {};
    return Object.hasOwn(words, text) ? words[text] : text;   // typed words ("constructor" too) as written
  }

  /** What a step card says: its words, else (a step made from a picture of the set, no
   *  words typed) the picture's name in this reader's language. */
  stepText(st) {
    return this.words(st.text) || this.ctx.pictures[st.pic]?.label || "";
  }

  // ================================================================ rendering
  refresh() {
    if (!this.root) return;
    const s = this.state;
    const sig = JSON.stringify([s, this.canPlay(), this.ctx.connected(), this.busy,
      this.ctx.canUndo(), this.ctx.canRedo()]);
    if (sig === this.sig) return;
    this.sig = sig;
    this.root.dataset.layout = s.layout;
    this.root.dataset.allDone = String(allDone(s));
    this.root.dataset.steps = String(s.steps.length);
    this.board.replaceChildren(this.topBar(), this.renderBoard());
    if (this.panel) this.renderEditor();
    this.tick();
  }

  topBar() {
    const off = !this.ctx.connected();
    // UNDO4 (issue 14): greyed out when the server says there is nothing to take back.
    const noUndo = off || !this.ctx.canUndo(), noRedo = off || !this.ctx.canRedo();
    const hist = this.canPlay() ? [
      button({class: "sc-btn sc-round", dataset: {action: "undo"}, "aria-label": t("Undo"), title: t("Undo"),
        disabled: noUndo, "aria-disabled": String(noUndo), onclick: () => this.history("undo")}, icon("undo")),
      button({class: "sc-btn sc-round", dataset: {action: "redo"}, "aria-label": t("Redo"), title: t("Redo"),
        disabled: noRedo, "aria-disabled": String(noRedo), onclick: () => this.history("redo")}, icon("redo")),
    ] : [];
    return el("div", {class: "sc-top"}, el("h2", {class: "sc-title"}, t("My plan")), el("span", {class: "spacer"}), ...hist);
  }

  history(action) {
    if (!this.ctx || !this.canPlay()) return;
    if (this.ctx.history(action) === null) this.ctx.toast(t("Not connected right now."));
  }

  renderBoard() {
    const s = this.state;
    if (!s.steps.length) {
      return el("div", {class: "sc-empty"}, picture(this.ctx.pictures, "hourglass", "sc-empty-pic", ""),
        el("p", {}, this.isTherapist ? t("Add steps with the panel on the right.") : t("The plan is coming soon")));
    }
    const todo = s.steps.filter((x) => !x.done);
    const main = allDone(s) ? this.renderReward()
      : s.layout === "first-then" ? this.renderFirstThen(todo) : this.renderList(todo);
    return el("div", {class: "sc-main"}, main, this.renderDone());
  }

  stepCard(st, slot, current) {
    const can = this.canPlay();
    const card = button({class: "sc-step" + (current ? " current" : ""), disabled: !can,
      dataset: {step: st.id, done: String(st.done), slot: slot || ""},
      "aria-label": t("{step}: tap when done", {step: this.stepText(st) || this.label(st.pic)})},
    slot ? el("span", {class: "sc-slot"}, slot === "first" ? t("First") : t("Then")) : null,
    this.pic(st.pic, "sc-step-pic"),
    el("span", {class: "sc-step-text"}, this.stepText(st)));
    card.addEventListener("pointerdown", (e) => this.dragStart(e, st, card));
    card.addEventListener("click", (e) => {
      if (this.dragged) { this.dragged = false; e.preventDefault(); return; }
      this.markDone(st.id, true);
    });
    const wrap = el("div", {class: "sc-step-wrap" + (slot ? ` sc-${slot}` : "")}, card);
    if (st.secs && current) wrap.append(this.timerButton(st));
    return wrap;
  }

  timerButton(st) {
    const running = this.state.timer && this.state.timer.step === st.id;
    const b = button({class: "sc-timer", dataset: {action: "timer", step: st.id, running: String(Boolean(running))},
      disabled: !this.canPlay(),
      "aria-label": running ? t("Stop the timer") : t("Start the timer ({time})", {time: timerLabel(st.secs)}),
      onclick: () => running ? this.submit("timer.stop", {}) : this.submit("timer.start", {step: st.id})},
    disc(1), el("span", {class: "sc-timer-text"}, running ? "" : timerLabel(st.secs)));
    return b;
  }

  renderFirstThen(todo) {
    const [first, then] = todo;
    return el("div", {class: "sc-ft"},
      this.stepCard(first, "first", true),
      el("div", {class: "sc-arrow", "aria-hidden": "true"}, calmIcon("next")),
      then ? this.stepCard(then, "then", false)
        : el("div", {class: "sc-step-wrap sc-then"}, el("div", {class: "sc-step sc-step-reward", dataset: {slot: "then"}},
          el("span", {class: "sc-slot"}, t("Then")),
          this.state.rewards.length ? this.pic("gift", "sc-step-pic") : this.pic("calm-well-done", "sc-step-pic"),
          el("span", {class: "sc-step-text"}, this.state.rewards.length ? t("Pick a prize") : t("All done!")))));
  }

  renderList(todo) {
    return el("ol", {class: "sc-list" + (todo.length > 4 ? " many" : "")},
      todo.map((st, i) => el("li", {}, this.stepCard(st, null, i === 0))));
  }

  renderDone() {
    const done = this.state.steps.filter((x) => x.done);
    return el("section", {id: "sc-done", class: "sc-done-zone", dataset: {count: String(done.length)},
      "aria-label": t("All done")},
    el("h3", {}, calmIcon("check"), t("All done")),
    el("div", {class: "sc-done-items"}, done.map((st) => button({class: "sc-done-item",
      dataset: {step: st.id, done: "true"}, disabled: !this.canPlay(), title: t("Not done yet? Tap to move it back"),
      onclick: () => this.markDone(st.id, false)}, this.pic(st.pic, "sc-done-pic", true)))));
  }

  renderReward() {
    const s = this.state;
    const well = el("div", {class: "sc-well-done"}, picture(this.ctx.pictures, "calm-well-done", "sc-well-pic", ""),
      el("span", {}, t("All done! Well done!")));
    if (!s.rewards.length) return el("div", {class: "sc-finish"}, well);
    const can = this.canPlay();
    return el("div", {class: "sc-finish"}, well,
      el("p", {class: "sc-pick-text"}, s.reward ? t("Your prize") : t("Pick your prize")),
      el("div", {class: "sc-rewards", role: "group", "aria-label": t("Prizes")},
        s.rewards.map((p) => button({class: "sc-reward", dataset: {reward: p},
          "aria-pressed": String(s.reward === p), "aria-label": this.label(p), disabled: !can,
          onclick: () => this.submit("reward.pick", {pic: s.reward === p ? null : p})},
        this.pic(p, "sc-reward-pic")))));
  }

  markDone(id, done) {
    if (!this.canPlay()) return;
    this.submit("step.done", {id, done});
  }

  /** Issue 14: the step timer's start and end said to a guest, once each (TimerCue),
   *  on this tab or not: woken at the end like the calm chime. Needs the server clock,
   *  made at the first mount. A step ticked done before its time is up rings no bell. */
  watchTimer() {
    clearTimeout(this.timerWake);
    this.timerWake = null;
    const tm = this.state.timer;
    const st = tm ? this.state.steps.find((x) => x.id === tm.step) : null;
    const now = this.clock ? this.clock.nowS() : null;
    if (!st || st.done || !st.secs || now === null) return;
    const ran = now - tm.at;
    this.timerCue.see(`${tm.step}/${tm.at}`, ran, st.secs);
    if (ran < st.secs) this.timerWake = setTimeout(() => this.watchTimer(), Math.min((st.secs - ran) * 1000 + 30, 60000));
  }

  /** The shrinking disc of the running timer, every 250 ms (no rebuild). */
  tick() {
    if (!this.root) return;
    const b = this.root.querySelector('.sc-timer[data-running="true"]');
    if (!b) return;
    const st = this.state.steps.find((x) => x.id === this.state.timer?.step);
    const left = timeLeft(this.state, this.clock ? this.clock.nowS() : null);
    if (!st || left === null) return;
    const frac = left / st.secs;
    const over = left <= 0;
    b.dataset.left = String(Math.ceil(left));
    // Time is up: a bell where the disc was (said by a picture, not by the word only).
    const shown = b.querySelector(".sc-disc");
    if (!over) shown.replaceWith(disc(frac));
    else if (!shown.classList.contains("sc-bell")) shown.replaceWith(picture(this.ctx.pictures, "bell", "sc-disc sc-bell", ""));
    b.querySelector(".sc-timer-text").textContent = over ? t("Time!") : fmtTime(left);
    b.classList.toggle("over", over);
  }

  // ---------------------------------------------------------------- drag to "All done"
  dragStart(e, st, card) {
    if (!this.canPlay() || e.button > 0) return;
    this.dragged = false;
    const start = {x: e.clientX, y: e.clientY};
    let ghost = null;
    const zone = () => this.root?.querySelector("#sc-done");
    const over = (ev) => {
      const z = zone();
      if (!z) return false;
      const r = z.getBoundingClientRect();
      return ev.clientX >= r.left && ev.clientX <= r.right && ev.clientY >= r.top && ev.clientY <= r.bottom;
    };
    const move = (ev) => {
      if (!ghost && Math.hypot(ev.clientX - start.x, ev.clientY - start.y) < DRAG_PX) return;
      if (!ghost) {
        ghost = el("div", {class: "sc-ghost"}, this.pic(st.pic, "sc-ghost-pic"));
        document.body.append(ghost);
        card.classList.add("dragging");
      }
      ghost.style.left = `${ev.clientX}px`;
      ghost.style.top = `${ev.clientY}px`;
      zone()?.classList.toggle("hot", over(ev));
    };
    const end = (ev) => {
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", end);
      window.removeEventListener("pointercancel", end);
      if (!ghost) return;
      this.dragged = true;
      ghost.remove();
      card.classList.remove("dragging");
      zone()?.classList.remove("hot");
      if (ev.type === "pointerup" && over(ev)) this.markDone(st.id, true);
      setTimeout(() => { this.dragged = false; }, 0);
    };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", end);
    window.addEventListener("pointercancel", end);
  }

  // ================================================================ therapist's editor
  renderEditor() {
    const s = this.state;
    const lim = this.cfg.limits;
    const layout = el("div", {class: "sc-row"}, this.cfg.layouts.map((l) => button({class: "sc-btn",
      dataset: {action: `layout-${l}`}, "aria-pressed": String(s.layout === l),
      onclick: () => this.submit("layout", {layout: l})}, l === "first-then" ? t("First – then") : t("List"))));
    const examples = el("div", {class: "sc-row"}, Object.keys(this.cfg.examples).map((name) => button({class: "sc-btn",
      dataset: {action: `example-${name}`}, disabled: s.steps.length >= lim.steps,
      onclick: () => this.addExample(name)}, this.cfg.example_names?.[name] || name)));
    const rows = el("ol", {class: "sc-rows"}, s.steps.map((st, i) => this.editRow(st, i)));
    this.panel.replaceChildren(
      el("h3", {}, t("Layout")), layout,
      el("h3", {}, t("Steps ({n} of {max})", {n: s.steps.length, max: lim.steps})), rows,
      el("h3", {}, t("Add a step")), examples, this.picker((ref) => this.addStep(ref), "add"),
      el("h3", {}, t("Prizes to choose from (up to {max})", {max: lim.rewards})), this.rewardPicker(),
      el("div", {class: "sc-row"}, button({class: "sc-btn", dataset: {action: "reset"},
        onclick: () => this.submit("reset", {})}, calmIcon("reset"), el("span", {}, t("Start again")))));
  }

  editRow(st, i) {
    const n = this.state.steps.length;
    const text = el("input", {class: "sc-input", name: "text", maxlength: this.cfg.limits.text_chars,
      "aria-label": t("Words for this step"), placeholder: this.ctx.pictures[st.pic]?.label || ""});
    const shown = this.words(st.text);
    text.value = shown;
    this.drafts.keep(text, `step:${st.id}`, shown);
    text.addEventListener("change", () => {
      const v = text.value.trim();
      if (v !== shown && v !== st.text && v.length <= this.cfg.limits.text_chars) this.submit("step.edit", {id: st.id, pic: st.pic, text: v, secs: st.secs});
    });
    const secs = el("select", {class: "sc-input", name: "secs", "aria-label": t("Timer for this step")},
      [...new Set([...TIMER_CHOICES.filter((v) => !v || (v >= this.cfg.limits.min_secs && v <= this.cfg.limits.max_secs)),
        st.secs])].sort((a, b) => a - b).map((v) => {
        const o = el("option", {value: String(v)}, timerLabel(v));
        o.selected = v === st.secs;
        return o;
      }));
    secs.addEventListener("change", () => this.submit("step.edit", {id: st.id, pic: st.pic, text: st.text, secs: Number(secs.value)}));
    return el("li", {class: "sc-edit-row" + (st.done ? " done" : ""), dataset: {row: st.id}},
      this.pic(st.pic, "sc-row-pic", true), text, el("div", {class: "sc-edit-tools"}, secs,
      button({class: "sc-btn sc-small", title: t("Earlier"), disabled: i === 0, dataset: {action: "up"},
        onclick: () => this.submit("step.move", {id: st.id, to: i - 1})}, calmIcon("up")),
      button({class: "sc-btn sc-small", title: t("Later"), disabled: i >= n - 1, dataset: {action: "down"},
        onclick: () => this.submit("step.move", {id: st.id, to: i + 1})}, calmIcon("down")),
      button({class: "sc-btn sc-small", title: t("Remove"), dataset: {action: "remove"},
        onclick: () => this.submit("step.remove", {id: st.id})}, icon("trash"))));
  }

  /** Pictures to choose from: the therapist's uploads first, then the picture set. */
  picker(onPick, hook) {
    const search = el("input", {class: "sc-input", type: "search", placeholder: t("Find a picture"),
      "aria-label": t("Find a picture")});
    search.value = this.query;
    const grid = el("div", {class: "sc-picker"});
    const fill = () => {
      const q = search.value.trim().toLowerCase();
      this.query = search.value;
      const own = q ? [] : (this.uploads?.items || []).map((u) => button({class: "sc-pick sc-pick-own",
        dataset: {[hook]: u.ref}, title: t("Our picture"), onclick: () => onPick(u.ref)},
      this.pic(u.ref, "sc-pick-pic", true)));
      const hits = Object.entries(this.ctx.pictures)
        .filter(([id, p]) => !q || id.includes(q) || (p.label || "").toLowerCase().includes(q))
        .slice(0, PICKER_MAX);
      grid.replaceChildren(...own, ...hits.map(([id, p]) => button({class: "sc-pick", dataset: {[hook]: id},
        title: p.label || id, onclick: () => onPick(id)}, picture(this.ctx.pictures, id, "sc-pick-pic", p.label || id))));
    };
    search.addEventListener("input", fill);
    fill();
    if (this.uploads && this.uploads.items === null) this.uploads.list().then(() => { if (grid.isConnected) fill(); });
    const file = el("input", {type: "file", accept: "image/*", class: "sc-file", tabindex: "-1",
      "aria-hidden": "true", dataset: {action: "upload-file"}});
    file.addEventListener("change", () => {
      const f = file.files && file.files[0];
      file.value = "";
      if (f) this.upload(f);
    });
    const up = button({class: "sc-btn", dataset: {action: "upload"}, disabled: this.busy,
      onclick: () => file.click()}, calmIcon("plus"), el("span", {}, this.busy ? t("Uploading…") : t("Upload picture")));
    const status = el("p", {class: "sc-status" + (this.statusKind ? ` ${this.statusKind}` : ""),
      role: this.statusKind === "error" ? "alert" : "status", "aria-live": "polite"}, this.status);
    return el("div", {class: "sc-picker-wrap"}, el("div", {class: "sc-row"}, search, up, file), status, grid);
  }

  rewardPicker() {
    const s = this.state;
    const ideas = [...new Set([...s.rewards, ...this.cfg.reward_ideas, ...(this.uploads?.items || []).map((u) => u.ref)])];
    return el("div", {class: "sc-picker"}, ideas.map((p) => {
      const on = s.rewards.includes(p);
      return button({class: "sc-pick" + (on ? " on" : ""), dataset: {offer: p}, "aria-pressed": String(on),
        title: this.label(p), disabled: !on && s.rewards.length >= this.cfg.limits.rewards,
        onclick: () => this.submit("rewards", {pics: on ? s.rewards.filter((x) => x !== p) : [...s.rewards, p]})},
      this.pic(p, "sc-pick-pic", true));
    }));
  }

  addStep(ref, text = null, secs = 0) {
    const n = this.state.steps.length;
    if (n >= this.cfg.limits.steps) {
      this.ctx.toast(t("A plan has at most {max} steps.", {max: this.cfg.limits.steps}));
      return;
    }
    // A picture of the set with no words typed: every screen names it in its own
    // language (stepText), the record in the therapist's.
    const words = (text ?? "").slice(0, this.cfg.limits.text_chars);
    this.submit("step.add", {id: `st-${randomId(8)}`, pos: n, pic: ref, text: words, secs});
  }

  addExample(name) {
    let n = this.state.steps.length;
    for (const [pic, text, secs] of this.cfg.examples[name]) {
      if (n >= this.cfg.limits.steps) break;
      this.submit("step.add", {id: `st-${randomId(8)}`, pos: n, pic, text, secs});
      n += 1;
    }
  }

  setStatus(text, kind = "") {
    this.status = text;
    this.statusKind = kind;
    const node = this.panel?.querySelector(".sc-status");
    if (node) {
      node.textContent = text;
      node.className = "sc-status" + (kind ? ` ${kind}` : "");
    }
  }

  async upload(f) {
    if (this.busy || !this.uploads) return;
    this.busy = true;
    this.setStatus(t("Sending the picture…"), "busy");
    this.refresh();
    try {
      const up = await this.uploads.send(f, (t) => this.setStatus(t, "busy"));
      this.busy = false;
      this.setStatus(t("Your picture is in: it is a new step now."), "ok");
      this.addStep(up.ref, "");
    } catch (err) {
      this.busy = false;
      this.setStatus(err && err.message ? err.message : t("The picture could not be saved."), "error");
    }
    this.sig = null;
    this.refresh();
  }
}
