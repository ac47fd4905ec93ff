// Sand tray activity: a shared tray of sand and water with miniatures from a shelf.
// Browser half of activities/sandtray/__init__.py.
//
// What is drawn is view(): the confirmed state with my unconfirmed ops applied on
// top (model.js, the server's reducer mirrored), plus live overrides: the
// figure I am dragging, figures others are dragging (ephemeral `drag`), and the
// sand stroke I am brushing. Figures are DOM elements over a <canvas> of sand, so
// hit-testing, hover titles and crisp SVG pictures come for free. Tray units
// (config.tray, 72×57) are one coordinate space for every screen.
//
// A touch on a figure selects it (and shows who placed it) and a move drags it at
// once, selected or not (issue 14: a child's first drag must work). Every drag has
// a tap-tap twin (WCAG 2.2 SC 2.5.7): tap a shelf figure, then the sand where it
// goes (tapping the same figure again puts it in the middle); "Move" on a selected
// figure, then a tap on the sand. A figure someone else holds cannot be grabbed; if
// two drops still race, the op order decides and everyone converges.
import {createModel, rleDecode, sameJSON} from "./model.js";
import {SandPainter, cssColour, levelColour} from "./sand.js";
import {Shelf} from "./shelf.js";
import {icon} from "./icons.js";
import {clamp, el, picture, randomId, round1} from "../room/util.js";
import {N_, language, t} from "../room/i18n.js";

const CSS_HREF = "/static/canvas/sandtray/sandtray.css";
const HELD_TTL_MS = 2500;       // a drag signal older than this no longer holds a figure
const HOLD_KEEPALIVE_MS = 1000; // so a holder who keeps still re-sends the drag signal
const DROP_GRACE_MS = 1500;     // after `end`, keep showing the drop spot until the op lands
const CURSOR_TTL_MS = 5000;
const DRAG_START_PX = 6;
const THEME_ORDER = ["beach", "pale", "desert", "earth", "meadow", "snow"];
// Where a tapped figure lands: the middle, then around it, so taps do not pile up.
const TAP_SPOTS = [[0.5, 0.5], [0.38, 0.38], [0.62, 0.38], [0.38, 0.62], [0.62, 0.62],
  [0.26, 0.5], [0.74, 0.5], [0.5, 0.28], [0.5, 0.72]];
// The labels are catalog messages, translated when the buttons are built (t()).
const ACTIONS = [
  ["rotate-left", "rotl", N_("Turn left")], ["rotate-right", "rotr", N_("Turn right")],
  ["bigger", "bigger", N_("Bigger")], ["smaller", "smaller", N_("Smaller")], ["flip", "flip", N_("Flip")],
  ["lie", "lie", N_("Lie down")], ["front", "front", N_("Bring to front")], ["back", "back", N_("Send to back")],
  ["move", "move", N_("Move: tap where it goes")], ["duplicate", "duplicate", N_("Copy")], ["bury", "bury", N_("Bury")],
  ["remove", "trash", N_("Put back on the shelf")],
];
// The server's refusals a person may read (activities/sandtray: check() and BOUND),
// here too so the browser's catalog holds them: the room's toast can say them with t().
export const REASONS = [N_("the tray is full"), N_("there are too many saved trays"),
  N_("The sand tray is full: remove some figures or saved trays first.")];
// The sand colours' names (activities/sandtray THEMES), said by the colour buttons.
const THEME_NAMES = {beach: N_("beach"), pale: N_("pale"), desert: N_("desert"), earth: N_("earth"),
  meadow: N_("meadow"), snow: N_("snow")};

function themeName(k) {
  return k in THEME_NAMES ? t(THEME_NAMES[k]) : k;
}

function loadCss() {
  if (document.querySelector(`link[data-activity-css="sandtray"]`)) return;
  document.head.append(el("link", {rel: "stylesheet", href: CSS_HREF, dataset: {activityCss: "sandtray"}}));
}

export function create(spec, app) {
  return new SandTray(spec, app);
}

class SandTray {
  constructor(spec, app) {
    this.spec = spec;
    this.cfg = spec.config;
    this.app = app;
    this.model = createModel(this.cfg);
    this.state = this.model.initialState();
    this.tool = "hand";
    this.brushIdx = 1;
    this.selected = null;         // figure id
    this.drag = null;             // my figure drag {id, x, y, dx, dy, pointer, started, ...}
    this.pick = null;             // tap-to-place: {fig} from the shelf or {id} to move
    this.stroke = null;           // my sand stroke {tool, r, pts, pointer}
    this.remote = new Map();      // figure id -> {by, x, y, fig?, rot?, t, end}
    this.cursors = new Map();     // participant id -> {x, y, t, node}
    this.figNodes = new Map();    // figure id -> element
    this.viewCache = null;
    this.ctx = null;
  }

  // ================================================================ state (works unmounted)
  reset(state) {
    this.state = state && state.tray && typeof state.tray.sand === "string" ? state : this.model.initialState();
    this.remote.clear();
    this.stateChanged();
  }

  apply(op) {
    const [next] = this.model.apply(this.state, op.t, op.d, op.by);
    // A drop landed: stop showing that person's drag of the figure.
    if (op.d && typeof op.d.id === "string") {
      const r = this.remote.get(op.d.id);
      if (r && r.by === op.by) this.remote.delete(op.d.id);
    }
    if (next !== this.state) {
      this.state = next;
      this.stateChanged();
    }
  }

  ephemeral(by, item) {
    if (!item || !this.ctx) return;
    const now = performance.now();
    if (item.k === "drag") {
      this.remote.set(item.id, {by, x: item.x, y: item.y, fig: item.fig, rot: item.rot,
        end: Boolean(item.end), t: now});
      this.moveCursor(by, item.x, item.y);
      this.invalidate();
    } else if (item.k === "cursor") {
      this.moveCursor(by, item.x, item.y);
    }
  }

  stateChanged() {
    this.viewCache = null;
    if (!this.ctx) return;
    this.uiDirty = true;
    this.updateAttrs();
    this.invalidate();
  }

  changed(what) {
    if (!this.ctx) return;
    if (what === "pending") {
      this.viewCache = null;
      this.uiDirty = true;
      this.invalidate();
    } else if (what === "stacks") {
      this.uiDirty = true;
      this.invalidate();
    } else if (what === "settings" || what === "conn") {
      if (!this.ctx.canDraw()) this.cancelGestures();
      this.uiDirty = true;
      this.invalidate();
    } else if (what === "presence") {
      for (const [by, c] of this.cursors) this.labelCursor(by, c);
      this.uiDirty = true;
      this.invalidate();
    }
    this.updateAttrs();
  }

  /** Confirmed state plus my unconfirmed ops, in order (what I see). */
  view() {
    if (!this.ctx) return this.state;
    const pend = this.ctx.unconfirmed();
    const key = pend.map((m) => m.op_id).join(",");
    if (this.viewCache && this.viewCache.base === this.state && this.viewCache.key === key) {
      return this.viewCache.state;
    }
    let s = this.state;
    for (const m of pend) {
      try { s = this.model.apply(s, m.t, m.d, this.ctx.me.id)[0]; } catch { /* a bad stored op: skip */ }
    }
    this.viewCache = {base: this.state, key, state: s};
    return s;
  }

  // ================================================================ mounting and UI
  mount(root, ctx) {
    loadCss();
    this.ctx = ctx;
    this.painter = this.painter || new SandPainter(this.cfg.grid);
    this.root = el("div", {class: "st"});
    this.buildTools();
    this.buildStage();
    this.buildBar();
    this.shelf = new Shelf(this.cfg, ctx.pictures, `playroom:sandtray:recent:${ctx.me.id}`, {
      canUse: () => this.ctx && this.ctx.canDraw(),
      dragMove: (fig, x, y) => this.shelfDragMove(fig, x, y),
      drop: (fig, x, y) => this.shelfDrop(fig, x, y),
      dragCancel: () => this.shelfDragCancel(),
      tap: (fig) => this.shelfTap(fig),
    });
    this.root.append(this.toolsEl, this.stageEl, this.barEl, this.shelf.root);
    root.append(this.root);
    this.resizeObs = new ResizeObserver(() => this.layout());
    this.resizeObs.observe(this.stageEl);
    this.timer = setInterval(() => this.expire(), 500);
    this.onKey = (e) => this.keydown(e);
    document.addEventListener("keydown", this.onKey);
    this.uiDirty = true;
    this.layout();
    this.updateAttrs();
    this.invalidate();
  }

  unmount() {
    this.cancelGestures();
    this.setPick(null);
    clearTimeout(this.hintTimer);
    this.shelf?.destroy();
    this.resizeObs?.disconnect();
    clearInterval(this.timer);
    document.removeEventListener("keydown", this.onKey);
    if (this.raf) cancelAnimationFrame(this.raf);
    this.raf = 0;
    this.root?.remove();
    this.root = null;
    this.ctx = null;
    this.figNodes.clear();
    this.cursors.clear();
    this.sandKey = null;
  }

  button(attrs, ...children) {
    return el("button", {type: "button", class: "tbtn", ...attrs}, ...children);
  }

  buildTools() {
    const tools = [["hand", t("Move figures")], ["dig", t("Dig")], ["raise", t("Make a hill")],
      ["smooth", t("Smooth the sand")]];
    this.toolButtons = tools.map(([tool, label]) => this.button({dataset: {tool}, title: label,
      "aria-label": label, onclick: () => this.pickTool(tool)}, icon(tool)));
    this.undoBtn = this.button({class: "tbtn big", dataset: {action: "undo"}, title: t("Undo"), "aria-label": t("Undo"),
      onclick: () => this.history("undo")}, icon("undo"));
    this.redoBtn = this.button({class: "tbtn big", dataset: {action: "redo"}, title: t("Redo"), "aria-label": t("Redo"),
      onclick: () => this.history("redo")}, icon("redo"));
    const host = [];
    if (this.ctx.me.role === "therapist") {
      this.saveBtn = this.button({class: "tbtn host", dataset: {action: "save"}, title: t("Save a snapshot"),
        "aria-label": t("Save a snapshot"), onclick: () => this.saveSnapshot()}, icon("camera"));
      this.newBtn = this.button({class: "tbtn host", dataset: {action: "new-tray"}, title: t("New tray"),
        "aria-label": t("New tray"), onclick: () => this.newTray()}, icon("newtray"));
      this.openBtn = this.button({class: "tbtn host", dataset: {action: "open-trays"}, title: t("Earlier trays"),
        "aria-label": t("Earlier trays"), "aria-haspopup": "true", onclick: () => this.toggleSaved()}, icon("trays"));
      host.push(this.saveBtn, this.newBtn, this.openBtn);
      if (this.ctx.urls.export) {
        this.downloadLink = el("a", {class: "tbtn host", dataset: {action: "download"}, title: t("Download PNG"),
          "aria-label": t("Download PNG"), download: ""}, icon("download"));
        host.push(this.downloadLink);
      }
    }
    this.toolsEl = el("div", {class: "st-tools bar-panel", role: "toolbar", "aria-label": t("Tools")},
      ...this.toolButtons, el("span", {class: "spacer"}), this.undoBtn, this.redoBtn,
      host.length ? el("span", {class: "st-sep"}) : null, ...host);
  }

  buildStage() {
    this.sandCanvas = el("canvas", {class: "st-sand", "aria-hidden": "true"});
    this.figLayer = el("div", {class: "st-figs"});
    this.cursorLayer = el("div", {class: "st-cursors cv-cursors", "aria-hidden": "true"});
    this.brushRing = el("div", {class: "st-brush", hidden: true, "aria-hidden": "true"});
    this.badge = el("div", {class: "st-badge", hidden: true, role: "status"});
    this.tray = el("div", {id: "tray", class: "st-tray", role: "application",
      "aria-label": t("Sand tray"), dataset: {seq: "-1", figures: "0", pending: "0", tool: this.tool}},
    this.sandCanvas, this.figLayer, this.brushRing, this.badge, this.cursorLayer);
    this.frame = el("div", {class: "st-frame"}, this.tray);
    this.watching = el("div", {class: "cv-watching st-watching", hidden: true, role: "status"},
      icon("eye"), el("span", {}, t("Watching")));
    this.savedDrawer = el("div", {class: "drawer st-saved", hidden: true, role: "dialog", "aria-label": t("Earlier trays")});
    this.hint = el("div", {class: "st-hint", hidden: true, role: "status"});
    this.stageEl = el("div", {class: "st-stage"}, this.frame, this.watching, this.hint, this.savedDrawer);
    const tray = this.tray;
    tray.addEventListener("pointerdown", (e) => this.pointerDown(e));
    tray.addEventListener("pointermove", (e) => this.pointerMove(e));
    tray.addEventListener("pointerup", (e) => this.pointerUp(e));
    tray.addEventListener("pointercancel", (e) => this.pointerUp(e));
    tray.addEventListener("lostpointercapture", (e) => this.pointerUp(e));
    tray.addEventListener("pointerleave", () => { this.brushRing.hidden = true; });
    tray.addEventListener("contextmenu", (e) => e.preventDefault());
    this.root.addEventListener("pointerdown", (e) => {
      if (!this.savedDrawer.hidden && !this.savedDrawer.contains(e.target) && !e.target.closest?.("[aria-haspopup]")) {
        this.savedDrawer.hidden = true;
        this.uiDirty = true;
        this.invalidate();
      }
    }, true);
  }

  buildBar() {
    this.actionButtons = new Map();
    for (const [action, ic, label] of ACTIONS) {
      const b = this.button({class: "tbtn st-act" + (action === "remove" ? " danger" : ""), dataset: {action},
        title: t(label), "aria-label": t(label), onclick: () => this.figureAction(action)}, icon(ic));
      this.actionButtons.set(action, b);
    }
    this.actionsEl = el("div", {class: "st-actions", role: "toolbar", "aria-label": t("Selected figure")},
      ...this.actionButtons.values());
    this.sizeButtons = this.cfg.brush.sizes.map((r, i) => this.button({class: "tbtn size", role: "radio",
      dataset: {brush: String(r)}, title: t("Brush {n}", {n: i + 1}), "aria-label": t("Brush size {n}", {n: i + 1}),
      onclick: () => { this.brushIdx = i; this.uiDirty = true; this.invalidate(); }},
    el("span", {class: "st-brush-dot", style: {width: `${10 + i * 12}px`, height: `${10 + i * 12}px`}})));
    this.sizesEl = el("div", {class: "st-sizes", role: "radiogroup", "aria-label": t("Brush sizes")}, this.sizeButtons);
    const themes = THEME_ORDER.filter((k) => k in this.cfg.themes)
      .concat(Object.keys(this.cfg.themes).filter((k) => !THEME_ORDER.includes(k)));
    this.themeButtons = themes.map((k) => el("button", {type: "button", class: "st-theme", role: "radio", dataset: {theme: k},
      title: t("Sand: {colour}", {colour: themeName(k)}), "aria-label": t("Sand colour {colour}", {colour: themeName(k)}),
      onclick: () => this.pickTheme(k),
      style: {"--sand": this.cfg.themes[k].sand, "--water": this.cfg.themes[k].water}}));
    this.themesEl = el("div", {class: "st-themes", role: "radiogroup", "aria-label": t("Sand colours")}, this.themeButtons);
    this.barEl = el("div", {class: "st-bar bar-panel"}, this.actionsEl, this.sizesEl, this.themesEl);
  }

  pickTool(t) {
    this.tool = t;
    this.setPick(null);
    if (t !== "hand") this.selected = null;
    this.uiDirty = true;
    this.invalidate();
  }

  pickTheme(k) {
    if (!this.ctx.canDraw()) return;
    if (this.view().tray.theme !== k) this.ctx.submit("theme", {theme: k});
  }

  history(action) {
    if (!this.ctx.canDraw()) return;
    this.cancelGestures();
    if (this.ctx.history(action) === null) this.ctx.toast(t("Not connected right now."));
  }

  keydown(e) {
    if (e.target.closest?.("input, textarea")) return;  // i18n-ok
    if ((e.ctrlKey || e.metaKey) && !e.altKey) {
      const k = e.key.toLowerCase();
      if (k === "z") { e.preventDefault(); this.history(e.shiftKey ? "redo" : "undo"); }
      else if (k === "y") { e.preventDefault(); this.history("redo"); }
      return;
    }
    if (e.key === "Escape" && this.pick) { this.setPick(null); return; }
    if (!this.selected) return;
    if (e.key === "Escape") this.select(null);
    else if (e.key === "Delete" || e.key === "Backspace") { e.preventDefault(); this.figureAction("remove"); }
  }

  // ================================================================ figure actions
  selectedFigure() {
    return this.selected ? this.model.findFigure(this.view().tray.figures, this.selected)[1] : null;
  }

  select(id) {
    if (this.selected === id) return;
    this.selected = id;
    this.uiDirty = true;
    this.invalidate();
  }

  figureAction(action) {
    const f = this.selectedFigure();
    if (!f || !this.ctx.canDraw()) return;
    if (this.heldByOther(f.id)) return this.refuseHeld(f.id);
    const step = this.cfg.rot_step;
    const scales = this.cfg.scales;
    const id = f.id;
    const s = this.ctx.submit.bind(this.ctx);
    if (action === "rotate-left") s("rotate", {id, rot: (f.rot + 360 - step) % 360});
    else if (action === "rotate-right") s("rotate", {id, rot: (f.rot + step) % 360});
    else if (action === "bigger" || action === "smaller") {
      const next = action === "bigger" ? scales.find((v) => v > f.scale + 1e-9)
        : [...scales].reverse().find((v) => v < f.scale - 1e-9);
      if (next !== undefined) s("scale", {id, scale: next});
    } else if (action === "flip") s("flip", {id, flip: !f.flip});
    else if (action === "lie") s("lie", {id, lying: !f.lying});
    else if (action === "front" || action === "back") s("z", {id, to: action});
    else if (action === "move") this.setPick(this.pick?.id === id ? null : {id});
    else if (action === "duplicate") {
      if (this.full()) return;
      const nid = randomId(12);
      const off = this.cfg.fig_size * f.scale * 0.35;
      s("duplicate", {src: id, id: nid, x: round1(clamp(f.x + off, 0, this.cfg.tray.w)),
        y: round1(clamp(f.y + off * 0.6, 0, this.cfg.tray.h))});
      this.select(nid);
    } else if (action === "bury") s("bury", {id, buried: f.buried === 0 ? 0.5 : f.buried === 0.5 ? 1 : 0});
    else if (action === "remove") {
      s("remove", {id});
      this.select(null);
    }
  }

  full() {
    if (this.view().tray.figures.length < this.cfg.limits.figures) return false;
    this.ctx.toast(t("The tray is full."));
    return true;
  }

  /** Someone else is dragging this figure right now. */
  heldByOther(id) {
    const r = this.remote.get(id);
    return Boolean(r && !r.end && performance.now() - r.t < HELD_TTL_MS && r.by !== this.ctx.me.id);
  }

  refuseHeld(id) {
    const p = this.ctx.participant(this.remote.get(id)?.by);
    this.ctx.toast(p ? t("{name} is holding that one.", {name: p.name}) : t("Someone is holding that one."));
  }

  // ================================================================ therapist: trays
  /** Is the current tray worth keeping and not kept yet? */
  needsSaving(state) {
    const tray = state.tray;
    if (!tray.figures.length && tray.sand === this.model.freshSand()) return false;
    return !state.saved.some((s) => s.tray.id === tray.id && s.tray.theme === tray.theme &&
      sameJSON(s.tray.figures, tray.figures) && rleDecode(s.tray.rle) === tray.sand);
  }

  saveSnapshot() {
    if (this.view().saved.length >= this.cfg.limits.saved) {
      this.ctx.toast(t("There are too many saved trays."));
      return;
    }
    this.ctx.submit("tray.save", {id: randomId(12)});
    this.ctx.toast(t("Saved."));
  }

  async newTray() {
    if (!await this.ctx.confirm(t("Start a new tray? This one is kept."), {yes: t("New tray"), no: t("Not now")})) return;
    if (!this.ctx) return;
    if (this.needsSaving(this.view())) this.ctx.submit("tray.save", {id: randomId(12)});
    this.ctx.submit("tray.new", {id: randomId(12)});
    this.select(null);
  }

  toggleSaved() {
    this.savedDrawer.hidden = !this.savedDrawer.hidden;
    if (!this.savedDrawer.hidden) this.fillSaved();
    this.uiDirty = true;
    this.invalidate();
  }

  fillSaved() {
    const saved = [...this.view().saved].reverse();
    this.savedSig = this.view().saved.map((e) => e.id + (e.at || "")).join(",");
    if (!saved.length) {
      this.savedDrawer.replaceChildren(el("p", {class: "st-none"}, t("No saved trays yet. The camera button saves one.")));
      return;
    }
    this.savedDrawer.replaceChildren(...saved.map((s) => {
      const when = typeof s.at === "number" ? new Date(s.at * 1000) : null;
      const label = when ? when.toLocaleString(language(), {dateStyle: "medium", timeStyle: "short"}) : t("Saving…");
      const thumb = el("canvas", {class: "st-thumb", width: 216, height: 171});
      this.drawThumb(thumb, s.tray);
      return el("button", {type: "button", class: "st-saved-item", dataset: {saved: s.id},
        "aria-label": t("Open the tray from {when}", {when: label}), onclick: () => this.openSaved(s.id)},
      thumb, el("span", {}, label));
    }));
  }

  async openSaved(id) {
    this.savedDrawer.hidden = true;
    if (!await this.ctx.confirm(t("Open this tray? The tray you have now is kept."), {yes: t("Open"), no: t("Not now")})) return;
    if (!this.ctx) return;
    if (this.needsSaving(this.view())) this.ctx.submit("tray.save", {id: randomId(12)});
    this.ctx.submit("tray.open", {id});
    this.select(null);
  }

  drawThumb(canvas, packed) {
    const g = canvas.getContext("2d");
    const theme = this.cfg.themes[packed.theme] || this.cfg.themes[this.cfg.default_theme];
    g.imageSmoothingEnabled = true;
    g.drawImage(this.painter.paint(rleDecode(packed.rle), theme), 0, 0, canvas.width, canvas.height);
    this.painter.key = null;    // the live tray repaints its own sand next frame
    this.sandKey = null;
    const k = canvas.width / this.cfg.tray.w;
    for (const f of packed.figures) {
      if (f.buried === 1) continue;
      const src = this.ctx.pictures[f.fig]?.url;
      if (!src) continue;
      const img = new Image();
      img.onload = () => {
        const size = this.cfg.fig_size * f.scale * k;
        g.save();
        g.translate(f.x * k, f.y * k);
        g.rotate(((f.rot + (f.lying ? 90 : 0)) * Math.PI) / 180);
        if (f.flip) g.scale(-1, 1);
        g.drawImage(img, -size / 2, -size / 2, size, size);
        g.restore();
      };
      img.src = src;
    }
  }

  // ================================================================ layout and rendering
  layout() {
    if (!this.root) return;
    const r = this.stageEl.getBoundingClientRect();
    const {w: TW, h: TH} = this.cfg.tray;
    const fr = this.cfg.frame;
    const ratio = (TW + 2 * fr) / (TH + 2 * fr);
    const w = Math.max(60, Math.floor(Math.min(r.width, r.height * ratio)));
    const h = Math.floor(w / ratio);
    this.frame.style.width = w + "px";
    this.frame.style.height = h + "px";
    this.frame.style.padding = `${(fr / (TW + 2 * fr)) * w}px`;
    const dpr = window.devicePixelRatio || 1;
    const cw = Math.round((w * TW / (TW + 2 * fr)) * dpr), ch = Math.round(cw * TH / TW);
    if (cw !== this.sandCanvas.width || ch !== this.sandCanvas.height) {
      this.sandCanvas.width = cw;
      this.sandCanvas.height = ch;
      this.sandKey = null;
    }
    this.invalidate();
  }

  invalidate() {
    this.dirty = true;
    if (!this.raf && this.ctx) this.raf = requestAnimationFrame((t) => this.frameTick(t));
  }

  frameTick(now) {
    this.raf = 0;
    if (!this.ctx) return;
    this.flushEph(now);
    if (this.dirty) {
      this.dirty = false;
      this.render();
    }
    this.refreshUI();
  }

  render() {
    const v = this.view();
    const tray = v.tray;
    const theme = this.cfg.themes[tray.theme] || this.cfg.themes[this.cfg.default_theme];
    // Sand: my stroke in progress is brushed into a copy of the viewed sand.
    let sand = tray.sand;
    if (this.stroke && this.stroke.pts.length) {
      sand = this.model.apply(v, "sand", this.stroke)[0].tray.sand;
    }
    const sandKey = tray.theme + sand;
    if (sandKey !== this.sandKey) {
      const pic = this.painter.paint(sand, theme);
      const g = this.sandCanvas.getContext("2d");
      g.imageSmoothingEnabled = true;
      g.imageSmoothingQuality = "high";
      g.drawImage(pic, 0, 0, this.sandCanvas.width, this.sandCanvas.height);
      this.sandKey = sandKey;
      this.frame.style.setProperty("--frame", this.cfg.themes[tray.theme]?.frame || "#8a5a2b");
      this.tray.style.setProperty("--mound", cssColour(levelColour(theme, 6, this.cfg.grid)));
      this.tray.style.setProperty("--mound-edge", cssColour(levelColour(theme, 1.2, this.cfg.grid)));
    }
    this.renderFigures(tray.figures);
  }

  /** Reconcile the figure elements with the viewed figures and live drags. */
  renderFigures(figures) {
    const now = performance.now();
    const seen = new Set();
    const order = [];
    const shown = figures.map((f) => ({f, ghost: false}));
    // Figures others are bringing from the shelf (not on the tray yet).
    for (const [id, r] of this.remote) {
      if (r.fig && !r.end && now - r.t < HELD_TTL_MS && !figures.some((f) => f.id === id)) {
        shown.push({f: {id, fig: r.fig, x: r.x, y: r.y, rot: r.rot || 0, scale: 1, flip: false,
          lying: false, buried: 0, by: r.by}, ghost: true});
      }
    }
    if (this.drag && this.drag.fresh && this.drag.started) {
      shown.push({f: {id: this.drag.id, fig: this.drag.fig, x: this.drag.x, y: this.drag.y, rot: 0,
        scale: 1, flip: false, lying: false, buried: 0, by: this.ctx.me.id}, ghost: true});
    }
    for (const {f, ghost} of shown) {
      let x = f.x, y = f.y, holder = null;
      if (this.drag && this.drag.id === f.id && this.drag.started) {
        x = this.drag.x; y = this.drag.y; holder = this.ctx.me.id;
      } else {
        const r = this.remote.get(f.id);
        if (r && (r.end ? now - r.t < DROP_GRACE_MS : now - r.t < HELD_TTL_MS)) {
          x = r.x; y = r.y;
          if (!r.end) holder = r.by;
        }
      }
      let node = this.figNodes.get(f.id);
      if (!node) {
        node = el("div", {class: "fig", dataset: {id: f.id}},
          el("div", {class: "fig-pic"}, picture(this.ctx.pictures, f.fig, "fig-img", "")),
          el("div", {class: "fig-mound", hidden: true}),
          el("div", {class: "fig-who", hidden: true}));
        this.figNodes.set(f.id, node);
      }
      this.updateFigure(node, f, x, y, holder, ghost);
      seen.add(f.id);
      order.push(node);
    }
    for (const [id, node] of this.figNodes) {
      if (!seen.has(id)) { node.remove(); this.figNodes.delete(id); }
    }
    // Stacking order is DOM order; only touch the DOM when it changed.
    const cur = this.figLayer.children;
    if (cur.length !== order.length || order.some((n, i) => cur[i] !== n)) this.figLayer.replaceChildren(...order);
    if (this.selected && !figures.some((f) => f.id === this.selected)) {
      this.selected = null;
      this.uiDirty = true;
    }
  }

  updateFigure(node, f, x, y, holder, ghost) {
    const {w: TW, h: TH} = this.cfg.tray;
    const size = this.cfg.fig_size * f.scale;
    const selected = f.id === this.selected && !ghost;
    const sig = [f.fig, x, y, f.rot, f.scale, f.flip, f.lying, f.buried, f.by, holder, ghost, selected].join("|");
    if (node._sig === sig) return;
    node._sig = sig;
    const ds = node.dataset;
    ds.fig = f.fig;
    ds.x = String(x);
    ds.y = String(y);
    ds.by = f.by || "";
    ds.buried = String(f.buried);
    node.style.left = `${(x / TW) * 100}%`;
    node.style.top = `${(y / TH) * 100}%`;
    node.style.width = `${(size / TW) * 100}%`;
    node.style.height = `${(size / TH) * 100}%`;
    const angle = (f.rot + (f.lying ? 90 : 0)) % 360;
    const img = node.firstChild.firstChild;
    img.style.transform = `rotate(${angle}deg)${f.flip ? " scaleX(-1)" : ""}`;  // i18n-ok
    node.classList.toggle("buried-half", f.buried === 0.5);
    node.classList.toggle("buried-full", f.buried === 1);
    node.classList.toggle("lying", Boolean(f.lying));
    node.classList.toggle("ghost", ghost);
    node.classList.toggle("selected", selected);
    node.classList.toggle("held", Boolean(holder));
    const mound = node.children[1];
    mound.hidden = !f.buried;
    if (f.buried) {
      const [dy, rx, ry] = this.cfg.bury.mound[String(f.buried)];
      mound.style.left = `${(0.5 - rx) * 100}%`;
      mound.style.width = `${2 * rx * 100}%`;
      mound.style.top = `${(0.5 + dy - ry) * 100}%`;  // i18n-ok
      mound.style.height = `${2 * ry * 100}%`;
    }
    // Who placed it (selected), or who holds it (someone else's drag).
    const who = node.children[2];
    const showId = holder && holder !== this.ctx.me.id ? holder : selected ? f.by : null;
    const p = showId ? this.ctx.participant(showId) : null;
    who.hidden = !p;
    if (p) {
      who.dataset.role = p.role;
      who.replaceChildren(picture(this.ctx.pictures, p.avatar, "fig-who-pic"), el("span", {}, p.name));
      node.dataset.holder = holder || "";
    }
    node.style.setProperty("--role", holder && holder !== this.ctx.me.id ? roleColour(this.ctx.participant(holder)) : "");
    const name = this.shelf?.byId.get(f.fig)?.name || f.fig;
    const by = f.by ? this.ctx.participant(f.by) : null;
    node.title = by ? t("{figure} — placed by {name}", {figure: name, name: by.name}) : name;
  }

  /** Reflect tools, selection and permissions in the bars (only when changed). */
  refreshUI() {
    if (!this.uiDirty || !this.root) return;
    this.uiDirty = false;
    const may = this.ctx.canDraw();
    const online = this.ctx.connected();
    const v = this.view();
    this.root.classList.toggle("readonly", !may);
    this.watching.hidden = may;
    this.shelf.setEnabled(may);
    this.tray.dataset.tool = this.tool;
    this.tray.classList.toggle("sanding", this.tool !== "hand" && may);
    for (const b of this.toolButtons) {
      b.setAttribute("aria-pressed", String(this.tool === b.dataset.tool));
      b.disabled = !may;
    }
    // UNDO4 (issue 14): greyed out when the server says there is nothing to take back.
    this.undoBtn.disabled = !may || !online || !this.ctx.canUndo();
    this.redoBtn.disabled = !may || !online || !this.ctx.canRedo();
    for (const b of [this.undoBtn, this.redoBtn]) b.setAttribute("aria-disabled", String(b.disabled));
    const f = this.selectedFigure();
    this.actionsEl.hidden = !f;
    this.sizesEl.hidden = Boolean(f) || this.tool === "hand";
    this.themesEl.hidden = Boolean(f);
    if (f) {
      const held = this.heldByOther(f.id);
      for (const [action, b] of this.actionButtons) b.disabled = !may || held;
      const bury = this.actionButtons.get("bury");
      bury.replaceChildren(icon(f.buried === 1 ? "unbury" : "bury"));
      bury.setAttribute("aria-label", f.buried === 1 ? t("Dig it out") : f.buried ? t("Bury it all") : t("Bury"));
      bury.title = bury.getAttribute("aria-label");
      bury.setAttribute("aria-pressed", String(f.buried > 0));
      const lie = this.actionButtons.get("lie");
      lie.replaceChildren(icon(f.lying ? "stand" : "lie"));
      lie.setAttribute("aria-label", f.lying ? t("Stand up") : t("Lie down"));
      lie.title = lie.getAttribute("aria-label");
      this.actionButtons.get("flip").setAttribute("aria-pressed", String(f.flip));
      const scales = this.cfg.scales;
      this.actionButtons.get("bigger").disabled ||= f.scale >= scales[scales.length - 1] - 1e-9;
      this.actionButtons.get("smaller").disabled ||= f.scale <= scales[0] + 1e-9;
      this.actionButtons.get("duplicate").disabled ||= v.tray.figures.length >= this.cfg.limits.figures;
    }
    this.sizeButtons.forEach((b, i) => { b.setAttribute("aria-checked", String(i === this.brushIdx)); b.disabled = !may; });
    for (const b of this.themeButtons) {
      b.setAttribute("aria-checked", String(b.dataset.theme === v.tray.theme));
      b.disabled = !may;
    }
    if (this.saveBtn) {
      this.saveBtn.disabled = this.newBtn.disabled = !online;
      this.openBtn.disabled = !online || !v.saved.length;
      this.openBtn.setAttribute("aria-expanded", String(!this.savedDrawer.hidden));
      const sig = v.saved.map((e) => e.id + (e.at || "")).join(",");
      if (!this.savedDrawer.hidden && sig !== this.savedSig) this.fillSaved();
    }
    if (this.downloadLink) {
      this.downloadLink.href = this.ctx.urls.export.replace("{activity}", "sandtray").replace("{key}", "current");
    }
  }

  updateAttrs() {
    if (!this.tray || !this.ctx) return;
    const ds = this.tray.dataset;
    ds.seq = String(this.ctx.seq());
    ds.figures = String(this.state.tray.figures.length);
    ds.saved = String(this.state.saved.length);
    ds.lastSaved = this.state.saved.length ? this.state.saved[this.state.saved.length - 1].id : "";
    ds.trayId = this.state.tray.id;
    ds.pending = String(this.ctx.pendingCount());
  }

  // ================================================================ input on the tray
  toTray(e) {
    const r = this.tray.getBoundingClientRect();
    return [clamp(((e.clientX - r.left) / r.width) * this.cfg.tray.w, 0, this.cfg.tray.w),
      clamp(((e.clientY - r.top) / r.height) * this.cfg.tray.h, 0, this.cfg.tray.h)];
  }

  inTray(clientX, clientY) {
    const r = this.tray.getBoundingClientRect();
    return clientX >= r.left && clientX <= r.right && clientY >= r.top && clientY <= r.bottom;
  }

  pointerDown(e) {
    if (!this.ctx || this.active != null) return;
    if (e.pointerType === "mouse" && e.button !== 0) return;
    e.preventDefault();
    const may = this.ctx.canDraw();
    if (this.tool !== "hand" && may) {
      this.active = e.pointerId;
      try { this.tray.setPointerCapture(e.pointerId); } catch { /* gone */ }
      const r = this.cfg.brush.sizes[this.brushIdx];
      this.stroke = {tool: this.tool, r, pts: []};
      this.addDab(this.toTray(e));
      return;
    }
    if (this.pick && may && this.tool === "hand") { this.putPicked(this.toTray(e)); return; }
    const node = e.target.closest?.(".fig");
    if (!node || node.classList.contains("ghost")) { this.select(null); return; }
    const id = node.dataset.id;
    const f = this.model.findFigure(this.view().tray.figures, id)[1];
    if (!f) return;
    if (this.heldByOther(id)) { this.refuseHeld(id); return; }
    this.select(id);
    // Selected or not, a move drags it (a small threshold keeps a tap a tap).
    if (!may) return;
    const [px, py] = this.toTray(e);
    this.active = e.pointerId;
    try { this.tray.setPointerCapture(e.pointerId); } catch { /* gone */ }
    this.drag = {id, fig: f.fig, x: f.x, y: f.y, ox: f.x - px, oy: f.y - py,
      cx: e.clientX, cy: e.clientY, started: false};
  }

  pointerMove(e) {
    if (!this.ctx) return;
    const pt = this.toTray(e);
    this.cursorAt = pt;
    this.cursorDirty = true;
    this.showBrush(e, pt);
    if (e.pointerId !== this.active) { this.scheduleEph(); return; }
    e.preventDefault();
    if (this.stroke) {
      const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [];
      for (const ce of events.length ? events : [e]) this.addDab(this.toTray(ce));
      return;
    }
    const d = this.drag;
    if (!d) return;
    if (!d.started && Math.hypot(e.clientX - d.cx, e.clientY - d.cy) < DRAG_START_PX) return;
    d.started = true;
    d.x = round1(clamp(pt[0] + d.ox, 0, this.cfg.tray.w));
    d.y = round1(clamp(pt[1] + d.oy, 0, this.cfg.tray.h));
    d.ephDirty = true;
    this.scheduleEph();
    this.invalidate();
  }

  pointerUp(e) {
    if (e.pointerId !== this.active) return;
    this.active = null;
    const ok = e.type === "pointerup" && this.ctx?.canDraw();
    if (this.stroke) {
      const st = this.stroke;
      this.stroke = null;
      if (ok && st.pts.length) this.commitStroke(st);
      this.invalidate();
      return;
    }
    const d = this.drag;
    this.drag = null;
    if (!d || !d.started) return;
    if (ok) {
      const f = this.model.findFigure(this.view().tray.figures, d.id)[1];
      if (f && (f.x !== d.x || f.y !== d.y)) this.ctx.submit("move", {id: d.id, x: d.x, y: d.y});
    }
    this.ctx?.sendEph({k: "drag", id: d.id, x: d.x, y: d.y, end: true});
    this.invalidate();
  }

  /** Add brush dabs along the path, spaced about r/2 cells apart. */
  addDab([x, y]) {
    const st = this.stroke;
    const cpu = this.cfg.grid.w / this.cfg.tray.w;
    const cx = clamp(Math.floor(x * cpu), 0, this.cfg.grid.w - 1);
    const cy = clamp(Math.floor(y * cpu), 0, this.cfg.grid.h - 1);
    const n = st.pts.length;
    if (n) {
      const lx = st.pts[n - 2], ly = st.pts[n - 1];
      const dist = Math.hypot(cx - lx, cy - ly);
      const gap = Math.max(1, st.r / 2);
      if (dist < gap) return;
      const steps = Math.ceil(dist / gap);
      for (let k = 1; k < steps; k++) this.pushDab(Math.round(lx + ((cx - lx) * k) / steps), Math.round(ly + ((cy - ly) * k) / steps));
    }
    this.pushDab(cx, cy);
    this.invalidate();
  }

  pushDab(cx, cy) {
    const st = this.stroke;
    if (st.pts.length / 2 >= this.cfg.brush.max_points) {
      // Full: commit this part and carry on from its last dab.
      this.commitStroke({...st, pts: st.pts.slice()});
      st.pts = st.pts.slice(-2);
    }
    st.pts.push(cx, cy);
  }

  commitStroke(st) {
    this.ctx.submit("sand", {tool: st.tool, r: st.r, pts: st.pts});
  }

  showBrush(e, [x, y]) {
    if (this.tool === "hand" || !this.ctx.canDraw() || e.pointerType === "touch") {
      this.brushRing.hidden = true;
      return;
    }
    const r = this.cfg.brush.sizes[this.brushIdx] / (this.cfg.grid.w / this.cfg.tray.w);
    this.brushRing.hidden = false;
    this.brushRing.style.left = `${(x / this.cfg.tray.w) * 100}%`;
    this.brushRing.style.top = `${(y / this.cfg.tray.h) * 100}%`;
    this.brushRing.style.width = `${((2 * r) / this.cfg.tray.w) * 100}%`;
    this.brushRing.style.height = `${((2 * r) / this.cfg.tray.h) * 100}%`;
  }

  // ================================================================ tap to pick, tap to place
  /** Pick a shelf figure ({fig}) or a placed one ({id}) for the next tap on the sand. */
  setPick(pick) {
    this.pick = pick;
    this.shelf?.setPicked(pick && pick.fig ? pick.fig : null);
    if (!this.tray) return;
    this.tray.classList.toggle("picking", Boolean(pick));
    this.tray.dataset.picking = pick ? (pick.fig ? "shelf" : "move") : "";
    this.actionButtons?.get("move")?.setAttribute("aria-pressed", String(Boolean(pick && pick.id)));
    this.say(pick ? t("Tap the sand where it goes") : null, "hand");
  }

  /** The tap on the sand that places or moves the picked figure. */
  putPicked([x, y]) {
    const pick = this.pick;
    this.setPick(null);
    x = round1(x);
    y = round1(y);
    if (pick.fig) { this.placeFigure(pick.fig, x, y, randomId(12)); return; }
    const f = this.model.findFigure(this.view().tray.figures, pick.id)[1];
    if (!f) return;
    if (this.heldByOther(f.id)) { this.refuseHeld(f.id); return; }
    if (f.x !== x || f.y !== y) this.ctx.submit("move", {id: f.id, x, y});
    this.select(f.id);
  }

  /** A short line over the tray (null hides it); `flash` hides it again by itself. */
  say(text, ic, flash = false) {
    clearTimeout(this.hintTimer);
    if (!this.hint) return;
    this.hint.hidden = !text;
    if (text) this.hint.replaceChildren(icon(ic), el("span", {}, text));
    if (text && flash) this.hintTimer = setTimeout(() => { if (this.hint && !this.pick) this.hint.hidden = true; }, 2500);
  }

  cancelGestures() {
    if (this.active != null) {
      try { this.tray.releasePointerCapture(this.active); } catch { /* */ }
    }
    this.active = null;
    if (this.drag && this.drag.started && this.ctx) {
      this.ctx.sendEph({k: "drag", id: this.drag.id, x: this.drag.x, y: this.drag.y, end: true});
    }
    this.drag = null;
    this.stroke = null;
    this.shelf?.end();
    if (this.pick && !this.ctx?.canDraw()) this.setPick(null);
    this.invalidate();
  }

  // ================================================================ from the shelf
  shelfDragMove(fig, clientX, clientY) {
    const over = this.inTray(clientX, clientY);
    if (!this.drag || !this.drag.fresh) {
      this.drag = {id: randomId(12), fig, fresh: true, started: false, x: 0, y: 0};
    }
    const d = this.drag;
    d.started = over;
    if (over) {
      const [x, y] = this.toTray({clientX, clientY});
      d.x = round1(x);
      d.y = round1(y);
      d.ephDirty = true;
      this.scheduleEph();
    }
    this.invalidate();
  }

  shelfDrop(fig, clientX, clientY) {
    const d = this.drag && this.drag.fresh ? this.drag : null;
    this.drag = null;
    this.invalidate();
    if (!this.inTray(clientX, clientY) || !this.ctx.canDraw()) {
      if (d) this.ctx.sendEph({k: "drag", id: d.id, x: d.x, y: d.y, fig, end: true});
      // Not understood: the figure wiggles on its shelf and the tray says what works.
      this.shelf.wiggle(fig);
      if (this.ctx.canDraw()) this.say(t("Bring it onto the sand"), "hand", true);
      return false;
    }
    const [x, y] = this.toTray({clientX, clientY});
    this.placeFigure(fig, round1(x), round1(y), d ? d.id : randomId(12));
    if (d) this.ctx.sendEph({k: "drag", id: d.id, x: round1(x), y: round1(y), fig, end: true});
    return true;
  }

  shelfDragCancel() {
    const d = this.drag && this.drag.fresh ? this.drag : null;
    this.drag = null;
    if (d && this.ctx) this.ctx.sendEph({k: "drag", id: d.id, x: d.x, y: d.y, fig: d.fig, end: true});
    this.invalidate();
  }

  /** Tap-to-pick: the first tap picks, a tap on the sand places; the same figure
   *  tapped again goes to the next free spot around the middle. */
  shelfTap(fig) {
    if (!this.ctx.canDraw()) return;
    if (!this.pick || this.pick.fig !== fig) {
      this.tool = "hand";
      this.uiDirty = true;
      this.setPick({fig});
      this.invalidate();
      return;
    }
    this.setPick(null);
    const n = this.view().tray.figures.length;
    const [fx, fy] = TAP_SPOTS[n % TAP_SPOTS.length];
    this.placeFigure(fig, round1(fx * this.cfg.tray.w), round1(fy * this.cfg.tray.h), randomId(12));
  }

  placeFigure(fig, x, y, id) {
    if (!this.ctx.canDraw() || this.full()) return;
    this.ctx.submit("place", {id, fig, x, y, rot: 0, scale: 1, flip: false});
    this.shelf.used(fig);
    this.tool = "hand";
    this.select(id);
  }

  // ================================================================ ephemeral out
  scheduleEph() {
    this.ephWanted = true;
    if (!this.raf && this.ctx) this.raf = requestAnimationFrame((t) => this.frameTick(t));
  }

  /** At most one drag and one cursor signal per frame, no faster than the relay. */
  flushEph(now) {
    if (!this.ephWanted) return;
    const period = 1000 / (this.ctx.config.protocol.limits.eph_flush_hz || 30);
    if (now - (this.lastEph || 0) < period - 4) {
      this.scheduleEph();
      return;
    }
    this.ephWanted = false;
    this.lastEph = now;
    const d = this.drag;
    if (d && d.started && d.ephDirty && this.ctx.canDraw()) {
      d.ephDirty = false;
      const item = {k: "drag", id: d.id, x: d.x, y: d.y};
      if (d.fresh) item.fig = d.fig;
      this.ctx.sendEph(item);
      this.cursorDirty = false;
    } else if (this.cursorDirty && this.cursorAt) {
      this.cursorDirty = false;
      this.ctx.sendEph({k: "cursor", x: round1(this.cursorAt[0]), y: round1(this.cursorAt[1])});
    }
  }

  // ================================================================ remote cursors
  moveCursor(by, x, y) {
    let c = this.cursors.get(by);
    if (!c) {
      c = {node: el("div", {class: "cursor", dataset: {by}})};
      this.cursors.set(by, c);
      this.labelCursor(by, c);
    }
    Object.assign(c, {x, y, t: performance.now()});
    if (!c.node.isConnected && this.cursorLayer) this.cursorLayer.append(c.node);
    c.node.hidden = false;
    c.node.style.left = (x / this.cfg.tray.w) * 100 + "%";
    c.node.style.top = (y / this.cfg.tray.h) * 100 + "%";
    c.node.classList.toggle("flip", x > this.cfg.tray.w * 0.8);
  }

  labelCursor(by, c) {
    const p = this.ctx?.participant(by);
    const name = p ? p.name : "";
    if (c.name === name && c.node.childNodes.length) return;
    c.name = name;
    c.node.replaceChildren(el("span", {class: "cursor-dot"}),
      el("span", {class: "cursor-label"}, p ? picture(this.ctx.pictures, p.avatar, "cursor-pic") : null,
        el("span", {}, name)));
    if (p) c.node.dataset.role = p.role;
  }

  expire() {
    const now = performance.now();
    // Holding a figure without moving it still holds it on the other screens.
    const d = this.drag;
    if (d && d.started && this.ctx && now - (this.lastEph || 0) > HOLD_KEEPALIVE_MS) {
      d.ephDirty = true;
      this.scheduleEph();
    }
    let redraw = false;
    for (const [id, r] of this.remote) {
      if (now - r.t > (r.end ? DROP_GRACE_MS : HELD_TTL_MS)) { this.remote.delete(id); redraw = true; }
    }
    if (redraw) { this.uiDirty = true; this.invalidate(); }
    for (const c of this.cursors.values()) {
      if (now - c.t > CURSOR_TTL_MS && !c.node.hidden) c.node.hidden = true;
    }
  }
}

function roleColour(p) {
  return {therapist: "#6d28d9", child: "#0f766e", parent: "#b45309"}[p?.role] || "#2f6fde";
}
