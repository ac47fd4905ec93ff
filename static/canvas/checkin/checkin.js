// Feelings check-in: a thermometer of five faces. Browser half of activities/checkin/__init__.py.
//
// The child taps a face (no reading needed: faces and colours, 5 at the top); the
// answer is stamped with the server's time and kept in the room, so the therapist's
// chart shows this child's check-ins across sessions (inline SVG, one column per day).
// The therapist opens a question (start / end of session / any time); answers to
// the open question replace each other, so a child who changes their mind changes
// the answer rather than adding one.
//
// Test hooks: buttons [data-feeling="1".."5"] (aria-checked on the chosen one), the
// chart's markers [data-checkin=<id>][data-value][data-moment], #feelings[data-asked].
import {button, calmIcon, loadStyle} from "../room/ui.js";
import {icon} from "../room/icons.js";
import {el, picture, randomId} from "../room/util.js";
import {formatTime, language, t, tp} from "../room/i18n.js";

// The moments a question belongs to, in the reader's language (a context: "Start" is
// also a button elsewhere).
const momentLabel = (m) => ({start: tp("moment", "Start"), end: tp("moment", "End"),
  any: tp("moment", "Any time")})[m] || m;
const CHART_DAYS = 8;

// ------------------------------------------------------------------ reducer (mirror)

export function initialState() {
  return {entries: [], ask: null};
}

function find(entries, id) {
  for (let i = 0; i < entries.length; i++) if (entries[i].id === id) return [i, entries[i]];
  return [-1, null];
}

function sameEntry(a, b) {
  return a && b && a.id === b.id && a.value === b.value && a.by === b.by && a.at === b.at && a.moment === b.moment;
}

function sameAsk(a, b) {
  if (a === null || b === null) return a === b;
  return a.id === b.id && a.moment === b.moment && a.at === b.at;
}

function put(state, i, entry) {
  const entries = state.entries.slice();
  entries[i] = entry;
  return {...state, entries};
}

function askSet(state, ask) {
  if (sameAsk(state.ask, ask)) return [state, null];
  return [{...state, ask}, ["ask.restore", {ask: state.ask}]];
}

/** A line-by-line mirror of apply() in activities/checkin/__init__.py: [state, inverse | null]. */
export function apply(state, t, d, by = null) {
  const entries = state.entries;
  if (t === "checkin") {
    const entry = {id: d.id, value: d.value, by, at: d.at, moment: d.moment};
    const [i, old] = find(entries, d.id);
    if (old === null) return [{...state, entries: [...entries, entry]}, ["checkin.remove", {id: d.id}]];
    if (sameEntry(old, entry)) return [state, null];
    return [put(state, i, entry), ["checkin.put", {entry: old, index: i}]];
  }
  if (t === "checkin.delete" || t === "checkin.remove") {
    const [i, old] = find(entries, d.id);
    if (old === null) return [state, null];
    return [{...state, entries: [...entries.slice(0, i), ...entries.slice(i + 1)]}, ["checkin.put", {entry: old, index: i}]];
  }
  if (t === "checkin.put") {
    const entry = d.entry;
    const [i, old] = find(entries, entry.id);
    if (old !== null) {
      if (sameEntry(old, entry)) return [state, null];
      return [put(state, i, entry), ["checkin.put", {entry: old, index: i}]];
    }
    const next = entries.slice();
    next.splice(Math.min(d.index ?? next.length, next.length), 0, entry);
    return [{...state, entries: next}, ["checkin.remove", {id: entry.id}]];
  }
  if (t === "ask") return askSet(state, {id: d.id, moment: d.moment, at: d.at});
  if (t === "ask.close") return askSet(state, null);
  if (t === "ask.restore") return askSet(state, d.ask);
  throw new Error(`unknown checkin op ${t}`);
}

// ------------------------------------------------------------------ activity

export function create(spec, app) {
  return new CheckinActivity(spec, app);
}

class CheckinActivity {
  constructor(spec, app) {
    this.spec = spec;
    this.cfg = spec.config;
    this.app = app;
    this.state = initialState();
    this.ctx = null;
    this.anyId = null;           // my last "any time" answer, changed by a quick re-tap
    this.anyAt = 0;
  }

  reset(state) {
    this.state = state && Array.isArray(state.entries) ? state : initialState();
    this.refresh();
  }

  apply(op) {
    const [next] = apply(this.state, op.t, op.d, op.by);
    if (next !== this.state) {
      this.state = next;
      this.refresh();
    }
  }

  /** CTL7: the therapist's "Ask how you feel" brings a guest here, Follow me or not. */
  summons(t) {
    return t === "ask";
  }

  ephemeral() { /* none */ }

  changed(what) {
    if (what === "pending" || what === "settings" || what === "conn" || what === "presence") this.refresh();
  }

  mount(root, ctx) {
    this.ctx = ctx;
    loadStyle("checkin/checkin.css");
    this.isTherapist = ctx.me.role === "therapist";
    this.root = el("div", {class: "feel", id: "feelings", dataset: {role: ctx.me.role}});
    this.prompt = el("div", {class: "feel-prompt", "aria-live": "polite"});
    this.thermo = el("div", {class: "feel-thermo"});
    this.left = el("div", {class: "feel-left"}, this.prompt, this.thermo);
    this.root.append(this.left);
    if (this.isTherapist) {
      this.side = el("aside", {class: "feel-side"});
      this.root.append(this.side);
    }
    root.append(this.root);
    this.sig = null;
    this.refresh();
  }

  unmount() {
    this.root?.remove();
    this.root = null;
    this.ctx = null;
  }

  /** The value the person in front of this screen sees as chosen now (pending first). */
  chosen() {
    const ask = this.state.ask;
    const id = ask ? ask.id : this.anyId;
    let value = null;
    if (id) {
      const e = find(this.state.entries, id)[1];
      if (e) value = e.value;
    }
    for (const m of this.ctx.unconfirmed()) if (m.t === "checkin" && m.d && m.d.id === id) value = m.d.value;
    return value;
  }

  mayAnswer() {
    return this.isTherapist || (this.ctx.me.role === "child" && this.ctx.canDraw());
  }

  tap(value) {
    if (!this.ctx || !this.mayAnswer()) return;
    const ask = this.state.ask;
    let id, moment;
    if (ask) {
      id = ask.id;
      moment = ask.moment;
    } else {
      // A quick change of mind replaces the answer (the server allows it for replace_s).
      const fresh = !this.anyId || performance.now() - this.anyAt > (this.cfg.replace_s - 30) * 1000;
      if (fresh) this.anyId = "c" + randomId(12);
      this.anyAt = performance.now();
      id = this.anyId;
      moment = "any";
    }
    this.ctx.submit("checkin", {id, value, moment});
    this.refresh();
  }

  refresh() {
    if (!this.root || !this.ctx) return;
    const chosen = this.chosen();
    const may = this.mayAnswer();
    const sig = JSON.stringify([this.state.ask, this.state.entries.length, this.state.entries.at(-1), chosen, may,
      this.isTherapist ? this.state.entries : null]);
    if (sig === this.sig) return;
    this.sig = sig;
    this.root.dataset.asked = this.state.ask ? this.state.ask.moment : "";
    this.root.dataset.chosen = chosen === null ? "" : String(chosen);
    this.renderPrompt();
    this.renderThermo(chosen, may);
    if (this.side) this.renderSide();
  }

  renderPrompt() {
    const ask = this.state.ask;
    const pics = this.ctx.pictures;
    this.prompt.replaceChildren(picture(pics, "feelings", "feel-prompt-pic", ""),
      el("span", {}, t("How do you feel?")));
    this.prompt.classList.toggle("asked", Boolean(ask));
  }

  /** One row per value (5 at the top): a piece of the tube and its face, so the
   *  liquid always stops exactly at the chosen face. */
  renderThermo(chosen, may) {
    const pics = this.ctx.pictures;
    const color = chosen ? this.cfg.colors[chosen] : "transparent";
    const rows = this.cfg.values.slice().reverse().map((v) => {
      const face = this.cfg.faces[v];
      const level = !chosen || v > chosen ? "empty" : v === chosen ? "half" : "full";
      return el("div", {class: "feel-row"},
        el("div", {class: `feel-seg ${level}`, "aria-hidden": "true", style: {"--fill": color}}),
        button({class: "feel-face" + (chosen === v ? " on" : ""), role: "radio",
          dataset: {feeling: String(v)}, "aria-checked": String(chosen === v),
          "aria-label": this.cfg.words?.[v] || pics[face]?.label || String(v), disabled: !may, style: {"--feel": this.cfg.colors[v]},
          onclick: () => this.tap(v)}, picture(pics, face, "feel-face-pic", "")));
    });
    const bulb = el("div", {class: "feel-row bulb", "aria-hidden": "true"},
      el("div", {class: "feel-bulb", style: {background: chosen ? color : "#fff"}}));
    this.thermo.replaceChildren(el("div", {class: "feel-faces", role: "radiogroup", "aria-label": t("How do you feel?")},
      rows), bulb);
  }

  // ---------------------------------------------------------------- therapist side
  renderSide() {
    const ask = this.state.ask;
    const asks = el("div", {class: "feel-asks"}, this.cfg.moments.map((m) => button({
      class: "calm-chip" + (ask && ask.moment === m ? " on" : ""), dataset: {action: "ask", moment: m},
      "aria-pressed": String(Boolean(ask && ask.moment === m)),
      onclick: () => this.ctx.submit("ask", {id: "q" + randomId(12), moment: m})}, momentLabel(m))),
    ask ? button({class: "calm-chip", dataset: {action: "ask-close"}, onclick: () => this.ctx.submit("ask.close", {})},
      calmIcon("cross", "icon calm-chip-icon"), t("Close")) : null);
    const undo = button({class: "calm-btn", dataset: {action: "undo"}, "aria-label": t("Undo"), title: t("Undo"),
      onclick: () => this.ctx.history("undo")}, icon("undo"));
    const redo = button({class: "calm-btn", dataset: {action: "redo"}, "aria-label": t("Redo"), title: t("Redo"),
      onclick: () => this.ctx.history("redo")}, icon("redo"));
    this.side.replaceChildren(
      el("h2", {class: "calm-h"}, t("Ask")), asks,
      el("h2", {class: "calm-h"}, t("Over time")), this.chart(),
      el("div", {class: "feel-legend"}, el("span", {class: "lg start"}), tp("chart legend", "start"),
        el("span", {class: "lg end"}), tp("chart legend", "end"),
        el("span", {class: "lg any"}), tp("chart legend", "any time")),
      this.recent(),
      el("div", {class: "calm-row calm-history"}, undo, redo));
  }

  /** Check-ins by day (the last CHART_DAYS days that have any), as an inline SVG. */
  chart() {
    const NS = "http://www.w3.org/2000/svg";
    const mk = (tag, attrs, ...kids) => {
      const n = document.createElementNS(NS, tag);
      for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
      for (const c of kids) n.append(c);
      return n;
    };
    const W = 520, H = 256, left = 44, top = 24, bottom = 220;
    const y = (v) => bottom - ((v - 1) / 4) * (bottom - top);
    const svg = mk("svg", {viewBox: `0 0 ${W} ${H}`, class: "feel-chart", role: "img",
      "aria-label": t("Check-ins over time")});
    for (const v of this.cfg.values) {
      svg.append(mk("line", {x1: left, x2: W - 6, y1: y(v), y2: y(v), stroke: "#eceff4", "stroke-width": 2}));
      const face = this.ctx.pictures[this.cfg.faces[v]];
      if (face) svg.append(mk("image", {href: face.url, x: 4, y: y(v) - 15, width: 30, height: 30}));
    }
    const days = new Map();
    for (const e of this.state.entries) {
      const key = new Date(e.at * 1000).toDateString();
      if (!days.has(key)) days.set(key, []);
      days.get(key).push(e);
    }
    const shown = [...days.entries()].slice(-CHART_DAYS);
    if (!shown.length) {
      svg.append(mk("text", {x: (W + left) / 2, y: H / 2, "text-anchor": "middle", fill: "#9ca3af", "font-size": 18},
        t("No check-ins yet")));
      return svg;
    }
    const colW = (W - left - 10) / Math.max(shown.length, 4);
    const lastOfDay = [];
    const trend = mk("polyline", {points: "", fill: "none", stroke: "#c3cad6", "stroke-width": 2,
      "stroke-dasharray": "6 6"});
    svg.append(trend);
    shown.forEach(([, list], c) => {
      const x0 = left + 6 + c * colW;
      const sorted = list.slice().sort((a, b) => a.at - b.at);
      const step = colW / (sorted.length + 1);
      const pts = sorted.map((e, k) => [x0 + step * (k + 1), y(e.value), e]);
      if (pts.length > 1) {
        svg.append(mk("polyline", {points: pts.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(" "),
          fill: "none", stroke: "#9aa5b6", "stroke-width": 3, "stroke-linejoin": "round"}));
      }
      lastOfDay.push(pts[pts.length - 1]);
      for (const [px, py, e] of pts) svg.append(marker(mk, px, py, e, this.cfg.colors[e.value]));
      const d = new Date(sorted[0].at * 1000);
      svg.append(mk("text", {x: x0 + colW / 2, y: H - 12, "text-anchor": "middle", fill: "#4b5563", "font-size": 15,
        "font-weight": 600}, d.toLocaleDateString(language(), {month: "short", day: "numeric"})));
      if (c) svg.append(mk("line", {x1: x0, x2: x0, y1: top, y2: bottom, stroke: "#f3f4f6", "stroke-width": 2}));
    });
    // From one session to the next: where each day ended.
    trend.setAttribute("points", lastOfDay.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(" "));
    return svg;
  }

  /** Today's answers with who gave them; the therapist may delete a mistaken one. */
  recent() {
    const today = new Date().toDateString();
    const list = this.state.entries.filter((e) => new Date(e.at * 1000).toDateString() === today).slice(-6).reverse();
    const pics = this.ctx.pictures;
    return el("ul", {class: "feel-recent"}, list.map((e) => {
      const who = e.by === this.ctx.me.id ? t("you") : (this.ctx.participant(e.by)?.name || t("child"));
      const time = formatTime(new Date(e.at * 1000), {hour: "2-digit", minute: "2-digit"});
      return el("li", {dataset: {entry: e.id}},
        picture(pics, this.cfg.faces[e.value], "feel-recent-pic", ""),
        el("span", {class: "feel-recent-text"}, t("{moment} · {time} · {who}", {moment: momentLabel(e.moment), time, who})),
        button({class: "calm-mini-btn danger", "aria-label": t("Delete this check-in"), title: t("Delete"),
          dataset: {action: "checkin-delete"}, onclick: () => this.ctx.submit("checkin.delete", {id: e.id})},
        calmIcon("cross")));
    }));
  }
}

function marker(mk, x, y, e, color) {
  const attrs = {fill: color, stroke: "#374151", "stroke-width": 2, "data-checkin": e.id,
    "data-value": e.value, "data-moment": e.moment};
  if (e.moment === "end") {
    const r = 12;
    return mk("path", {...attrs, d: `M${x} ${y - r} L${x + r} ${y} L${x} ${y + r} L${x - r} ${y} Z`});
  }
  return mk("circle", {...attrs, cx: x, cy: y, r: e.moment === "start" ? 11 : 8});
}
