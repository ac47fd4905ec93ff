// Canvas activity: shared drawing pages. Browser half of activities/canvas/__init__.py.
//
// Rendering keeps three layers per viewed page, all at device resolution:
//   background  rebuilt when the page background or the size changes
//   ink         the confirmed items, rebuilt only when confirmed state changes
//               (appended items are drawn incrementally)
//   work        per frame: a copy of ink + my pending items + live previews (remote
//               and my own stroke in progress); eraser strokes cut ink only
// The visible <canvas id="board"> gets background + (ink or work) each frame that
// something changed. Board units (config.board, 1600×1000) are one shared space.
import {apply as reduce, findPage, initialState, pageShape} from "./model.js";
import {PathCache, PictureCache, drawBackground, drawItem} from "./draw.js";
import {icon} from "../room/icons.js";
import {clamp, el, picture, randomId, round1, round2} from "../room/util.js";
import {N_, t} from "../room/i18n.js";

const PREVIEW_TTL_MS = 3000;
const CURSOR_TTL_MS = 5000;
const CURSOR_LABEL_MS = 900;    // a cursor at rest this long shows only its dot
const STAMP_SIZE = 120;
const TOOL_ORDER = ["pen", "marker", "highlighter", "eraser"];
// The server's refusals a person may read (activities/canvas: check() and BOUND),
// here too so the browser's catalog holds them: the room's toast can say them with t().
export const REASONS = [N_("this page is full: add a new page"), N_("nothing is drawn on this page yet"),
  N_("The drawing is full: undo some strokes or clear a page to draw more.")];
// Catalog messages, translated when the buttons are built (t()).
const TOOL_LABEL = {pen: N_("Pen"), marker: N_("Marker"), highlighter: N_("Highlighter"), eraser: N_("Eraser")};
// How much bigger than the chosen size a tool draws (an eraser the width of a pen
// line is frustrating; a highlighter is broad).
const TOOL_SIZE_FACTOR = {pen: 1, marker: 1.5, highlighter: 2.5, eraser: 3};
const EMPTY = Object.freeze([]);
const BG_ORDER = ["white", "cream", "grid", "dots", "night"];
const BG_NAMES = {white: N_("white"), cream: N_("cream"), grid: N_("squares"), dots: N_("dots"),
  night: N_("night")};

function bgName(b) {
  return b in BG_NAMES ? t(BG_NAMES[b]) : b;
}
// Longest stretch of one frame spent drawing confirmed ink: a big board (a late join)
// fills in over a few frames instead of freezing the page until all of it is drawn.
const INK_BUDGET_MS = 150;
// PAINT1: how long a big page's own drawing waits for the server's picture of it.
// The picture comes just before the snapshot when the server has it (the same seq
// was rendered for an earlier joiner), ~0.3 s after it for a fresh 5,000-stroke page.
const PICTURE_WAIT_MS = 1000;
// Stamp pictures preload at the latest this long after mounting.
const PRELOAD_AFTER_MS = 3000;

/** Backgrounds in a calm order (the page JSON has its keys sorted). */
function bgOrder(backgrounds) {
  const known = BG_ORDER.filter((b) => b in backgrounds);
  return known.concat(Object.keys(backgrounds).filter((b) => !known.includes(b)));
}

/** Do `a` and `b` hold the very same first `n` items? */
function sharesPrefix(a, b, n) {
  if (a.length < n || b.length < n) return false;
  for (let k = 0; k < n; k++) if (a[k] !== b[k]) return false;
  return true;
}

export function create(spec, app) {
  return new CanvasActivity(spec, app);
}

class CanvasActivity {
  constructor(spec, app) {
    this.spec = spec;
    this.cfg = spec.config;
    this.app = app;
    this.state = initialState();
    this.pageId = this.state.pages[0].id;
    this.pageIndex = 0;
    this.tool = "pen";
    this.color = this.cfg.palette.includes("#1e40af") ? "#1e40af" : this.cfg.palette[0];
    this.sizeIdx = Math.min(1, this.cfg.sizes.length - 1);
    this.stamp = this.cfg.stamps[0];
    this.previews = new Map();   // stroke id -> {by, page, tool, color, size, from, pts, t}
    this.cursors = new Map();    // participant id -> {page, x, y, t, node}
    this.done = new Set();       // ids confirmed recently: late previews of them are ignored
    this.paths = new PathCache(this.cfg.tool_style);
    this.livePaths = new PathCache(this.cfg.tool_style);
    this.pendingItemCache = new Map();
    this.viewCache = null;
    this.rebuilds = 0;
    this.inkItems = null;        // confirmed items the ink layer was drawn from …
    this.inkDone = 0;            // … of which the first inkDone are on it
    this.ctx = null;
  }

  // ================================================================ state (works unmounted)
  reset(state) {
    this.state = state && Array.isArray(state.pages) && state.pages.length ? state : initialState();
    this.previews.clear();
    this.waitForPicture();
    this.stateChanged();
  }

  apply(op) {
    const [next] = reduce(this.state, op.t, op.d, op.by);
    if ((op.t === "stroke" || op.t === "stamp") && op.d && op.d.id) {
      this.previews.delete(op.d.id);
      this.markDone(op.d.id);
    }
    if (next !== this.state) {
      this.state = next;
      this.stateChanged();
    }
  }

  ephemeral(by, item) {
    if (!item || !this.ctx) return;
    const now = performance.now();
    if (item.k === "stroke") {
      if (this.done.has(item.id) || !Array.isArray(item.pts)) return;
      const old = this.previews.get(item.id);
      if (old && old.from + old.pts.length / 3 === item.from) {
        old.pts = old.pts.concat(item.pts);
        old.t = now;
      } else {
        this.previews.set(item.id, {by, page: item.page, tool: item.tool, color: item.color,
          size: item.size, from: item.from, pts: item.pts.slice(), t: now, id: item.id, k: "stroke"});
      }
      const n = item.pts.length;
      if (n >= 3) this.moveCursor(by, item.page, item.pts[n - 3], item.pts[n - 2]);
      if (item.page === this.pageId) this.invalidate();
    } else if (item.k === "cursor") {
      this.moveCursor(by, item.page, item.x, item.y);
    }
  }

  /**
   * PAINT1: the server's picture of a big page (rooms/assets/firstpaint.py), sent
   * with our snapshot (just before it when the server has it already, else after). It stands in for that page's strokes until the ink layer
   * has drawn them all, while it still shows the page: its first `n` items, the
   * last of them `last`, on its background.
   */
  picture(d) {
    const png = d.png instanceof Blob ? d.png : d.png instanceof ArrayBuffer ? new Blob([d.png]) : null;
    if (!png || typeof d.key !== "string" || !Number.isInteger(d.n) || d.n < 1) {
      this.stopWaiting();           // none this time: draw the strokes
      return;
    }
    createImageBitmap(png).then((bitmap) => {
      this.dropPicture();
      this.pic = {page: d.key, n: d.n, last: d.last, bg: d.bg, seq: d.seq, bitmap};
    }).catch(() => { /* not a picture: the strokes come anyway */ })
      .finally(() => this.stopWaiting());
  }

  /**
   * After a snapshot whose first page is big, the server sends its picture (or word
   * that none comes): until then, up to PICTURE_WAIT_MS, the page's own drawing
   * waits, so the picture's decoding does not queue behind a second of stroke work.
   */
  waitForPicture() {
    clearTimeout(this.picTimer);
    this.picWait = null;
    const first = this.state.pages[0];
    if (!this.cfg.picture_from || first.n < this.cfg.picture_from) return;
    if (this.pic && this.pic.page === first.id) return;    // it came first: shown at once
    this.picWait = {page: first.id};
    this.picTimer = setTimeout(() => this.stopWaiting(), PICTURE_WAIT_MS);
  }

  stopWaiting() {
    clearTimeout(this.picTimer);
    this.picWait = null;
    this.invalidate();
  }

  dropPicture() {
    this.pic?.bitmap.close();
    this.pic = null;
    this.picKey = null;
    this.picItems = null;
    this.picLayer = null;
  }

  /** The picture while it shows the viewed page better than the ink layer can yet. */
  shownPicture(items) {
    const p = this.pic;
    if (!p || p.page !== this.pageId) return null;
    if (this.ctx && this.ctx.seq() < p.seq) return null;    // its snapshot is still on its way
    const page = this.confirmedPage();
    const fits = page && page.bg === p.bg && items.length >= p.n && items[p.n - 1].id === p.last &&
      !items.slice(p.n).some((it) => it.tool === "eraser");
    if (!fits || (this.inkItems === items && this.inkDone === items.length)) {
      this.dropPicture();      // gone stale, or the strokes are all drawn: ours from now on
      return null;
    }
    return p;
  }

  /** A layer with the picture and the items that came after it, drawn on top. */
  pictureLayer(p, items) {
    const c = this.layer("picLayer");
    const key = `${c.width}x${c.height}`;
    if (this.picKey !== key || this.picItems !== items) {
      const g = c.getContext("2d");
      g.setTransform(1, 0, 0, 1, 0, 0);
      g.globalCompositeOperation = "copy";
      g.drawImage(p.bitmap, 0, 0, c.width, c.height);
      g.globalCompositeOperation = "source-over";
      g.setTransform(this.scale, 0, 0, this.scale, 0, 0);
      for (let k = p.n; k < items.length; k++) {
        drawItem(g, this.pageId, items[k], this.paths, this.images, this.cfg.tool_style);
      }
      this.picKey = key;
      this.picItems = items;
    }
    return c;
  }

  markDone(id) {
    this.done.add(id);
    if (this.done.size > 4000) {
      let k = 0;
      for (const old of this.done) { if (k++ > 2000) break; this.done.delete(old); }
    }
  }

  stateChanged() {
    this.viewCache = null;
    if (!this.ctx) return;
    this.ensurePage();
    this.uiDirty = true;
    this.updateAttrs();
    this.invalidate();
  }

  /** Hook from main.js: "pending" | "seq" | "settings" | "presence" | "conn". */
  changed(what) {
    if (!this.ctx) return;
    if (what === "pending") {
      this.viewCache = null;
      this.ensurePage();
      this.uiDirty = true;
      this.invalidate();
    } else if (what === "settings" || what === "conn") {
      if (!this.ctx.canDraw()) this.cancelStroke(true);
      this.uiDirty = true;
      this.invalidate();
    } else if (what === "presence") {
      for (const [by, c] of this.cursors) this.labelCursor(by, c);
    } else if (what === "stacks") {
      this.uiDirty = true;
      this.invalidate();
    }
    this.updateAttrs();
  }

  /** Confirmed state plus my unconfirmed page ops: the pages I see and their backgrounds. */
  view() {
    if (this.viewCache) return this.viewCache;
    let s = this.state;
    if (this.ctx) {
      for (const m of this.ctx.unconfirmed()) {
        if (m.t !== "page.add" && m.t !== "page.bg" && m.t !== "page.shape") continue;
        try { s = reduce(s, m.t, m.d, this.ctx.me.id)[0]; } catch { /* a bad stored op: skip */ }
      }
    }
    this.viewCache = s;
    return s;
  }

  /** The viewed page's size in board units: wide 1600×1000 or tall 1200×1600 (issue 14). */
  get board() {
    const page = findPage(this.view(), this.pageId)[1];
    return (this.cfg.shapes && this.cfg.shapes[pageShape(page)]) || this.cfg.board;
  }

  confirmedPage() {
    return findPage(this.state, this.pageId)[1];
  }

  /** My strokes/stamps on the viewed page that the confirmed state does not have yet. */
  pendingItems() {
    const mine = this.ctx.unconfirmed().filter((m) =>
      (m.t === "stroke" || m.t === "stamp") && m.d && m.d.page === this.pageId);
    if (!mine.length) {
      this.pendingItemCache.clear();
      return [];
    }
    const page = this.confirmedPage();
    const have = new Set(page ? page.items.map((it) => it.id) : EMPTY);
    const out = [];
    const live = new Set();
    for (const m of mine) {
      if (have.has(m.d.id)) continue;
      let item = this.pendingItemCache.get(m.op_id);
      if (!item) {
        item = {...m.d, k: m.t, by: this.ctx.me.id};
        delete item.page;
        this.pendingItemCache.set(m.op_id, item);
      }
      live.add(m.op_id);
      out.push(item);
    }
    for (const k of this.pendingItemCache.keys()) if (!live.has(k)) this.pendingItemCache.delete(k);
    return out;
  }

  ensurePage() {
    const pages = this.view().pages;
    let i = pages.findIndex((p) => p.id === this.pageId);
    if (i < 0) {
      i = clamp(this.pageIndex, 0, pages.length - 1);
      this.showPage(pages[i].id, false);
    }
    this.pageIndex = i;
  }

  showPage(id, announce = true) {
    if (id === this.pageId) return;
    this.cancelStroke(true);
    this.pageId = id;
    this.inkItems = null;
    this.bgKey = null;
    this.uiDirty = true;
    for (const [by, c] of this.cursors) this.placeCursor(by, c);
    this.updateAttrs();
    this.invalidate();
    if (announce) {
      this.pageIndex = this.view().pages.findIndex((p) => p.id === id);
      // CTL6: with follow-me on, the therapist's page is everyone's page.
      if (this.ctx && this.ctx.viewChanged) this.ctx.viewChanged(this.lead());
    }
  }

  /** CTL6: what a follower needs to see what I see (small, for the room's `view`). */
  lead() {
    return {page: this.pageId};
  }

  /** CTL6: show what the leader shows (a page that no longer exists is ignored). */
  follow(v) {
    if (v && typeof v.page === "string" && this.view().pages.some((p) => p.id === v.page)) {
      this.showPage(v.page, true);
    }
  }

  // ================================================================ mounting and UI
  mount(root, ctx) {
    this.ctx = ctx;
    // A picture that arrives late is drawn by redrawing the ink, if the ink missed it.
    this.images = new PictureCache(ctx.pictures, () => {
      if (this.inkIncomplete) this.inkItems = null;
      this.invalidate();
    });
    // Stamp pictures load once the board is drawn (or a stamp is wanted): on a late
    // join they would compete with the connection and the board for the server.
    // A stamp on the board loads its picture on demand.
    this.preloaded = false;
    this.preloadTimer = setTimeout(() => this.preloadStamps(), PRELOAD_AFTER_MS);
    this.root = el("div", {class: "cv"});
    this.buildTools();
    this.buildStage();
    this.buildSide();
    this.buildBottom();
    this.buildDrawers();
    this.root.append(this.toolsEl, this.stageEl, this.sideEl, this.bottomEl);
    root.append(this.root);
    this.resizeObs = new ResizeObserver(() => this.layout());
    this.resizeObs.observe(this.stageEl);
    this.timer = setInterval(() => this.expire(), 500);
    this.onKey = (e) => this.keydown(e);
    document.addEventListener("keydown", this.onKey);
    this.ensurePage();
    this.uiDirty = true;
    this.layout();
    this.updateAttrs();
    this.invalidate();
  }

  unmount() {
    this.cancelStroke(true);
    this.resizeObs?.disconnect();
    clearInterval(this.timer);
    clearTimeout(this.preloadTimer);
    document.removeEventListener("keydown", this.onKey);
    if (this.raf) cancelAnimationFrame(this.raf);
    this.raf = 0;
    this.root?.remove();
    this.root = null;
    this.ctx = null;
    this.cursors.clear();
  }

  button(attrs, ...children) {
    return el("button", {type: "button", class: "tbtn", ...attrs}, ...children);
  }

  buildTools() {
    this.toolsEl = el("div", {class: "cv-tools bar-panel", role: "toolbar", "aria-label": t("Tools")});
    this.toolButtons = [];
    for (const tool of TOOL_ORDER.filter((k) => this.cfg.tools.includes(k))) {
      const b = this.button({dataset: {tool}, title: t(TOOL_LABEL[tool]), "aria-label": t(TOOL_LABEL[tool]),
        onclick: () => this.pickTool(tool)}, icon(tool, "icon tool-icon"));
      this.toolButtons.push(b);
      this.toolsEl.append(b);
    }
    this.stampBtn = this.button({dataset: {action: "stamps"}, title: t("Stickers"), "aria-label": t("Stickers"),
      "aria-haspopup": "true", onclick: () => this.toggleDrawer("stamps")},
    picture(this.ctx.pictures, this.stamp, "stamp-pic"));
    this.undoBtn = this.button({class: "tbtn big", dataset: {action: "undo"}, title: t("Undo"), "aria-label": t("Undo"),
      onclick: () => this.history("undo")}, icon("undo"));
    this.redoBtn = this.button({class: "tbtn big", dataset: {action: "redo"}, title: t("Redo"), "aria-label": t("Redo"),
      onclick: () => this.history("redo")}, icon("redo"));
    this.toolsEl.append(this.stampBtn, el("span", {class: "spacer"}), this.undoBtn, this.redoBtn);
  }

  buildStage() {
    this.canvas = el("canvas", {id: "board", "aria-label": t("Drawing board"), role: "img",
      dataset: {seq: "-1", items: "0", pending: "0", page: this.pageId}});
    this.view2d = this.canvas.getContext("2d");
    this.cursorLayer = el("div", {class: "cv-cursors", "aria-hidden": "true"});
    this.watching = el("div", {class: "cv-watching", hidden: true, role: "status"},
      icon("eye"), el("span", {}, t("Watching")));
    this.wrap = el("div", {class: "cv-wrap"}, this.canvas, this.cursorLayer, this.watching);
    this.stageEl = el("div", {class: "cv-stage"}, this.wrap);
    const c = this.canvas;
    c.addEventListener("pointerdown", (e) => this.pointerDown(e));
    c.addEventListener("pointermove", (e) => this.pointerMove(e));
    c.addEventListener("pointerup", (e) => this.pointerUp(e));
    c.addEventListener("pointercancel", (e) => this.pointerUp(e));
    c.addEventListener("lostpointercapture", (e) => this.pointerUp(e));
    c.addEventListener("contextmenu", (e) => e.preventDefault());
  }

  buildSide() {
    const ctx = this.ctx;
    this.pagesEl = el("div", {class: "cv-pages", role: "tablist", "aria-label": t("Pages")});
    this.pagesSig = null;   // a fresh (empty) row after a remount: refreshUI must fill it
    this.addPageBtn = this.button({class: "tbtn page-add", dataset: {action: "page-add"}, title: t("New page"),
      "aria-label": t("New page"), onclick: () => this.addPage()}, icon("plus"));
    this.turnBtn = this.button({dataset: {action: "page-turn"}, title: t("Turn the page"),
      "aria-label": t("Turn the page"), onclick: () => this.turnPage()}, icon("turn"));
    this.bgBtn = this.button({dataset: {action: "bg"}, title: t("Background"), "aria-label": t("Background"),
      "aria-haspopup": "true", onclick: () => this.toggleDrawer("bg")}, el("span", {class: "bg-chip"}));
    const extra = [];
    if (ctx.me.role === "therapist") {
      this.clearBtn = this.button({class: "tbtn danger", dataset: {action: "clear"}, title: t("Clear page"),
        "aria-label": t("Clear page"), onclick: () => this.clearPage()}, icon("trash"));
      // Issue 17: keep this page as it is now in the session record (page.save).
      this.saveBtn = this.button({dataset: {action: "save-record"}, title: t("Save to record"),
        "aria-label": t("Save to record"), onclick: () => this.saveToRecord()}, icon("camera"));
      extra.push(this.saveBtn, this.clearBtn);
    }
    if (ctx.urls.export) {
      this.downloadLink = el("a", {class: "tbtn", dataset: {action: "download"}, title: t("Download PNG"),
        "aria-label": t("Download PNG"), download: ""}, icon("download"));
      extra.push(this.downloadLink);
    }
    this.sideEl = el("div", {class: "cv-side bar-panel"},
      el("div", {class: "group pages"}, this.pagesEl, this.addPageBtn),
      el("span", {class: "spacer"}),
      el("div", {class: "group page-tools"}, this.turnBtn, this.bgBtn, ...extra));
  }

  buildBottom() {
    this.sizeButtons = this.cfg.sizes.map((s, i) => this.button({class: "tbtn size", role: "radio", dataset: {size: String(s)},
      title: t("Size {n}", {n: i + 1}), "aria-label": t("Size {n}", {n: i + 1}), onclick: () => this.pickSize(i)},
    el("span", {class: "size-dot", style: {width: `${8 + i * 9}px`, height: `${8 + i * 9}px`}})));
    this.colorButtons = this.cfg.palette.map((c) => el("button", {type: "button", class: "swatch", role: "radio",
      dataset: {color: c}, title: c, "aria-label": t("Colour {colour}", {colour: c}), style: {"--swatch": c},
      onclick: () => this.pickColor(c)}));
    this.bottomEl = el("div", {class: "cv-bottom bar-panel"},
      el("div", {class: "sizes", role: "radiogroup", "aria-label": t("Sizes")}, this.sizeButtons),
      el("div", {class: "colors", role: "radiogroup", "aria-label": t("Colours")}, this.colorButtons));
  }

  buildDrawers() {
    // The sticker choices (one picture each) are built when the drawer first opens.
    this.stampDrawer = el("div", {class: "drawer stamps-drawer", hidden: true, role: "dialog", "aria-label": t("Stickers")});
    this.bgDrawer = el("div", {class: "drawer bg-drawer", hidden: true, role: "dialog", "aria-label": t("Backgrounds")},
      bgOrder(this.cfg.backgrounds).map((b) => el("button", {type: "button", class: "bg-choice",
        dataset: {bg: b}, title: bgName(b), "aria-label": t("Background {name}", {name: bgName(b)}), onclick: () => this.pickBg(b)},
      el("span", {class: `bg-chip bg-${b}`, style: {"--bg": this.cfg.backgrounds[b]}}))));
    this.stageEl.append(this.stampDrawer, this.bgDrawer);
    this.drawerCloser = (e) => {
      if (!this.root) return;
      for (const d of [this.stampDrawer, this.bgDrawer]) {
        if (!d.hidden && !d.contains(e.target) && !e.target.closest?.("[aria-haspopup]")) {
          d.hidden = true;
          // A tap on the board that closes a drawer only closes it: no surprise dot.
          if (e.target === this.canvas) this.swallow = e.pointerId;
        }
      }
      this.uiDirty = true;
      this.invalidate();
    };
    this.root.addEventListener("pointerdown", this.drawerCloser, true);
  }

  fillStampDrawer() {
    if (this.stampDrawer.childElementCount) return;
    const pics = this.ctx.pictures;
    this.stampDrawer.append(...this.cfg.stamps.map((s) => el("button", {type: "button", class: "stamp-choice",
      dataset: {stamp: s}, title: pics[s]?.label || s, "aria-label": pics[s]?.label || s,
      onclick: () => this.pickStamp(s)}, picture(pics, s, "stamp-pic"))));
  }

  preloadStamps() {
    if (this.preloaded || !this.images) return;
    this.preloaded = true;
    clearTimeout(this.preloadTimer);
    for (const s of this.cfg.stamps) this.images.load(s);
  }

  toggleDrawer(which) {
    if (which === "stamps") {
      this.fillStampDrawer();
      this.preloadStamps();
    }
    const d = which === "stamps" ? this.stampDrawer : this.bgDrawer;
    const other = which === "stamps" ? this.bgDrawer : this.stampDrawer;
    other.hidden = true;
    d.hidden = !d.hidden;
    this.uiDirty = true;
    this.invalidate();
  }

  pickTool(t) {
    this.tool = t;
    this.uiDirty = true;
    this.invalidate();
  }

  pickStamp(s) {
    this.stamp = s;
    this.tool = "stamp";
    this.stampDrawer.hidden = true;
    this.stampBtn.replaceChildren(picture(this.ctx.pictures, s, "stamp-pic"));
    this.uiDirty = true;
    this.invalidate();
  }

  pickColor(c) {
    this.color = c;
    if (this.tool === "eraser" || this.tool === "stamp") this.tool = this.lastInkTool || "pen";
    this.uiDirty = true;
    this.invalidate();
  }

  pickSize(i) {
    this.sizeIdx = i;
    if (this.tool === "stamp") this.tool = this.lastInkTool || "pen";
    this.uiDirty = true;
    this.invalidate();
  }

  pickBg(bg) {
    this.bgDrawer.hidden = true;
    if (!this.ctx.canDraw()) return;
    const page = findPage(this.view(), this.pageId)[1];
    if (page && page.bg !== bg) this.ctx.submit("page.bg", {page: this.pageId, bg});
    this.uiDirty = true;
    this.invalidate();
  }

  addPage() {
    if (!this.ctx.canDraw()) return;
    if (this.view().pages.length >= this.cfg.limits.pages) {
      this.ctx.toast(t("That is the last page there can be."));
      return;
    }
    const id = "p" + randomId(10);
    // Issue 14: a page shaped like the screen it is made on (a tablet held upright
    // gets a tall page that fills it; the others see it upright too).
    this.ctx.submit("page.add", {page: id, shape: this.screenShape()});
    this.viewCache = null;
    this.showPage(id);
  }

  /** The shape a new page gets here: "tall" on a phone held upright (its wide page
   *  is a strip; a tall one, with the colours on one row, has half as much room
   *  again), else "wide" (an upright tablet still fits a wide page best, and any
   *  page can be turned while empty). */
  screenShape() {
    return window.innerHeight >= 1.5 * window.innerWidth ? "tall" : "wide";
  }

  /** Issue 14: turn the empty page upright or sideways (page.shape). */
  turnPage() {
    if (!this.ctx.canDraw()) return;
    const page = findPage(this.view(), this.pageId)[1];
    if (!page) return;
    if (page.items.length || this.pendingItems().length) {
      this.ctx.toast(t("Only an empty page can be turned: clear it or add a new page."));
      return;
    }
    this.ctx.submit("page.shape", {page: page.id, shape: pageShape(page) === "tall" ? "wide" : "tall"});
    this.viewCache = null;
    this.uiDirty = true;
    this.layout();
  }

  /** Issue 17: keep this page as it is now in the session record, with a caption. */
  async saveToRecord() {
    const pageId = this.pageId;
    const pages = this.view().pages;
    const index = pages.findIndex((p) => p.id === pageId);
    if (index < 0 || !pages[index].items.length) {
      this.ctx.toast(t("Draw something first."));
      return;
    }
    const caption = el("input", {type: "text", class: "cv-caption", dataset: {field: "caption"},
      maxlength: String(this.cfg.limits.caption_chars), value: t("Drawing, page {n}", {n: index + 1})});
    const ask = el("span", {}, t("Save this page to the session record?"),
      el("label", {class: "cv-caption-row"}, el("span", {}, t("Caption")), caption));
    if (!await this.ctx.confirm(ask, {yes: t("Save"), no: t("Cancel")}) || !this.ctx) return;
    this.ctx.submit("page.save", {page: pageId, id: randomId(12), caption: caption.value.trim() || null});
    this.ctx.toast(t("Saved to the session record."));
  }

  async clearPage() {
    if (this.ctx.me.role !== "therapist") return;
    const pageId = this.pageId;
    if (await this.ctx.confirm(t("Clear this page?"), {yes: t("Clear"), no: t("Keep")})) {
      if (this.ctx) this.ctx.submit("clear", {page: pageId});
    }
  }

  history(action) {
    if (!this.ctx.canDraw()) return;
    this.cancelStroke(false);
    if (this.ctx.history(action) === null) this.ctx.toast(t("Not connected right now."));
  }

  keydown(e) {
    if (!(e.ctrlKey || e.metaKey) || e.altKey || e.target.closest?.("input, textarea")) return;  // i18n-ok
    const k = e.key.toLowerCase();
    if (k === "z") { e.preventDefault(); this.history(e.shiftKey ? "redo" : "undo"); }
    else if (k === "y") { e.preventDefault(); this.history("redo"); }
  }

  /** Reflect tool/colour/size/page/permission state in the toolbars (only when changed). */
  refreshUI() {
    if (!this.uiDirty || !this.root) return;
    this.uiDirty = false;
    const ctx = this.ctx;
    const may = ctx.canDraw();
    const online = ctx.connected();
    this.root.classList.toggle("readonly", !may);
    this.root.style.setProperty("--pen", this.color);
    this.watching.hidden = may;
    for (const b of this.toolButtons) {
      b.setAttribute("aria-pressed", String(this.tool === b.dataset.tool));
      b.disabled = !may;
    }
    this.stampBtn.setAttribute("aria-pressed", String(this.tool === "stamp"));
    this.stampBtn.disabled = !may;
    this.stampBtn.setAttribute("aria-expanded", String(!this.stampDrawer.hidden));
    for (const b of this.stampDrawer.children) b.setAttribute("aria-pressed", String(b.dataset.stamp === this.stamp));
    this.sizeButtons.forEach((b, i) => { b.setAttribute("aria-checked", String(i === this.sizeIdx)); b.disabled = !may; });
    for (const b of this.colorButtons) {
      b.setAttribute("aria-checked", String(b.dataset.color === this.color));
      b.disabled = !may;
    }
    // Issue 14: greyed out (and said so to screen readers) when there is nothing to take back.
    this.undoBtn.disabled = !may || !online || !ctx.canUndo();
    this.redoBtn.disabled = !may || !online || !ctx.canRedo();
    for (const b of [this.undoBtn, this.redoBtn]) b.setAttribute("aria-disabled", String(b.disabled));
    const pages = this.view().pages;
    this.addPageBtn.disabled = !may || pages.length >= this.cfg.limits.pages;
    const page = pages.find((p) => p.id === this.pageId) || pages[0];
    this.bgBtn.disabled = !may;
    // Only an empty page turns (the server refuses a drawn one): greyed out otherwise.
    this.turnBtn.disabled = !may || page.items.length > 0;
    this.turnBtn.setAttribute("aria-disabled", String(this.turnBtn.disabled));
    this.turnBtn.dataset.shape = pageShape(page);
    if (this.layoutShape !== pageShape(page)) this.layout();     // the page turned, or another page
    this.bgBtn.firstChild.className = `bg-chip bg-${page.bg}`;  // i18n-ok
    this.bgBtn.firstChild.style.setProperty("--bg", this.cfg.backgrounds[page.bg]);
    this.bgBtn.setAttribute("aria-expanded", String(!this.bgDrawer.hidden));
    for (const b of this.bgDrawer.children) b.setAttribute("aria-pressed", String(b.dataset.bg === page.bg));
    if (this.clearBtn) this.clearBtn.disabled = !online;
    if (this.downloadLink) this.downloadLink.href = this.ctx.urls.export
      .replace("{activity}", "canvas").replace("{key}", encodeURIComponent(this.pageId));
    // Page buttons: rebuilt only when the list or the current page changed.
    const sig = pages.map((p) => p.id).join(",") + "|" + this.pageId;
    if (sig !== this.pagesSig) {
      this.pagesSig = sig;
      this.pagesEl.replaceChildren(...pages.map((p, i) => el("button", {type: "button",
        class: "tbtn pagebtn" + (p.id === this.pageId ? " on" : ""), role: "tab",
        "aria-selected": String(p.id === this.pageId), "aria-label": t("Page {n}", {n: i + 1}),
        dataset: {page: p.id}, onclick: () => this.showPage(p.id)}, String(i + 1))));
      this.pagesEl.querySelector(".on")?.scrollIntoView({block: "nearest", inline: "nearest"});
    }
    this.canvas.style.cursor = !may ? "default" : this.tool === "stamp" ? "copy" : "crosshair";
  }

  updateAttrs() {
    if (!this.canvas || !this.ctx) return;
    const ds = this.canvas.dataset;
    ds.seq = String(this.ctx.seq());
    // (data-items is set by syncInk: the confirmed items drawn so far.)
    ds.pending = String(this.ctx.pendingCount());
    ds.page = this.pageId;
  }

  // ================================================================ layout and rendering
  layout() {
    if (!this.root) return;
    const r = this.stageEl.getBoundingClientRect();
    const board = this.board;
    this.layoutShape = board.w < board.h ? "tall" : "wide";
    this.root.dataset.shape = this.layoutShape;
    const ratio = board.w / board.h;
    const w = Math.max(40, Math.floor(Math.min(r.width, r.height * ratio)));
    const h = Math.floor(w / ratio);
    this.wrap.style.width = w + "px";
    this.wrap.style.height = h + "px";
    const dpr = window.devicePixelRatio || 1;
    const pw = Math.round(w * dpr), ph = Math.round(h * dpr);
    if (pw !== this.canvas.width || ph !== this.canvas.height) {
      this.canvas.width = pw;
      this.canvas.height = ph;
      this.inkItems = null;
      this.bgKey = null;
    }
    this.invalidate();
  }

  invalidate() {
    this.dirty = true;
    if (!this.raf && this.ctx) this.raf = requestAnimationFrame((t) => this.frame(t));
  }

  frame(now) {
    this.raf = 0;
    if (!this.ctx) return;
    this.flushEph(now);
    this.refreshUI();
    if (this.dirty) {
      this.dirty = false;
      this.render();
    }
  }

  layer(name) {
    let c = this[name];
    if (!c) c = this[name] = document.createElement("canvas");
    if (c.width !== this.canvas.width || c.height !== this.canvas.height) {
      c.width = this.canvas.width;
      c.height = this.canvas.height;
    }
    return c;
  }

  get scale() {
    return this.canvas.width / this.board.w;
  }

  render() {
    const W = this.canvas.width, H = this.canvas.height;
    if (!W || !H) return;
    const s = this.scale;
    const vpage = findPage(this.view(), this.pageId)[1];
    const bg = vpage ? vpage.bg : "white";
    // Background layer.
    const bgLayer = this.layer("bgLayer");
    const bgKey = `${bg}/${W}x${H}`;
    if (bgKey !== this.bgKey) {
      const g = bgLayer.getContext("2d");
      g.setTransform(s, 0, 0, s, 0, 0);
      drawBackground(g, bg, this.cfg.backgrounds, this.board, s);
      this.bgKey = bgKey;
    }
    // PAINT1: the server's picture of the page (background and all) while the ink
    // layer is still drawing it. The frame that first shows it draws no ink, so the
    // whole board is on screen a frame's ink budget sooner; data-shown counts the
    // items on the screen.
    const page = this.confirmedPage();
    const items = page ? page.items : EMPTY;
    let pic = this.shownPicture(items);
    let ink;
    if (pic && !pic.shown) {
      ink = this.layer("inkLayer");
      this.invalidate();                     // the ink goes on from the next frame
    } else {
      ink = this.syncInk();
      pic = this.shownPicture(items);        // (dropped once the ink has it all)
    }
    if (pic) pic.shown = true;
    if (!this.preloaded && this.inkItems && this.inkDone === this.inkItems.length &&
        this.ctx.seq() >= 0) this.preloadStamps();
    const top = pic ? this.pictureLayer(pic, items) : ink;
    this.canvas.dataset.shown = String(pic ? items.length : this.inkDone);
    const pend = this.pendingItems();
    const prev = [...this.previews.values()].filter((p) => p.page === this.pageId);
    const out = this.view2d;
    out.setTransform(1, 0, 0, 1, 0, 0);
    out.globalCompositeOperation = "copy";
    out.drawImage(pic ? top : bgLayer, 0, 0);
    out.globalCompositeOperation = "source-over";
    if (!pend.length && !prev.length && !this.stroke) {
      if (!pic) out.drawImage(ink, 0, 0);
      return;
    }
    const work = this.layer("workLayer");
    const w = work.getContext("2d");
    w.setTransform(1, 0, 0, 1, 0, 0);
    w.globalCompositeOperation = "copy";
    w.drawImage(top, 0, 0);
    w.globalCompositeOperation = "source-over";
    w.setTransform(s, 0, 0, s, 0, 0);
    const style = this.cfg.tool_style;
    for (const it of pend) drawItem(w, this.pageId, it, this.paths, this.images, style);
    for (const p of prev) drawItem(w, this.pageId, p, this.livePaths, this.images, style);
    if (this.stroke) drawItem(w, this.pageId, this.stroke, this.livePaths, this.images, style);
    out.drawImage(work, 0, 0);
  }

  /**
   * Bring the confirmed ink layer up to date: append new items, or redraw all.
   * Invariant: the ink layer holds exactly inkItems[0 .. inkDone). A big redraw (a
   * late join of a full board) is spread over frames, INK_BUDGET_MS each, so the
   * board fills in visibly and input stays live; data-items on the board counts the
   * items drawn, so it reaches the confirmed count only once they are all painted.
   */
  syncInk() {
    const ink = this.layer("inkLayer");
    const page = this.confirmedPage();
    const items = page ? page.items : EMPTY;
    const key = `${this.pageId}/${ink.width}x${ink.height}`;
    const old = this.inkItems;
    if (old === items && this.inkKey === key && this.inkDone === items.length) return ink;
    if (this.picWait && this.picWait.page === this.pageId) {
      // PAINT1: the picture of this page is on its way; the strokes after it.
      if (this.inkKey !== null) {
        const g = ink.getContext("2d");
        g.setTransform(1, 0, 0, 1, 0, 0);
        g.clearRect(0, 0, ink.width, ink.height);
      }
      this.inkItems = items;
      this.inkDone = 0;
      this.inkKey = null;
      this.canvas.dataset.items = "0";
      return ink;
    }
    const g = ink.getContext("2d");
    const s = this.scale;
    let from = this.inkDone;
    const appendOnly = old && this.inkKey === key && items.length >= from &&
      (old === items || sharesPrefix(old, items, from));
    if (!appendOnly) {
      g.setTransform(1, 0, 0, 1, 0, 0);
      g.clearRect(0, 0, ink.width, ink.height);
      this.inkIncomplete = false;
      from = 0;
      if (++this.rebuilds % 20 === 0) this.paths.prune(this.state);
    }
    g.setTransform(s, 0, 0, s, 0, 0);
    const style = this.cfg.tool_style;
    const until = performance.now() + INK_BUDGET_MS;
    let k = from;
    while (k < items.length) {
      if (!drawItem(g, this.pageId, items[k], this.paths, this.images, style)) this.inkIncomplete = true;
      k++;
      if ((k & 31) === 0 && performance.now() > until) break;
    }
    this.inkItems = items;
    this.inkDone = k;
    this.inkKey = key;
    this.canvas.dataset.items = String(k);
    if (k < items.length) this.invalidate();     // the rest in the next frame
    return ink;
  }

  // ================================================================ input
  toBoard(e) {
    const r = this.canvas.getBoundingClientRect();
    const x = clamp(((e.clientX - r.left) / r.width) * this.board.w, 0, this.board.w);
    const y = clamp(((e.clientY - r.top) / r.height) * this.board.h, 0, this.board.h);
    const p = e.pointerType === "pen" ? clamp(e.pressure || 0, 0, 1) : 0.5;
    return [round1(x), round1(y), round2(p)];
  }

  pointerDown(e) {
    if (!this.ctx || this.active != null) return;          // one pointer draws at a time
    if (this.swallow === e.pointerId) { this.swallow = null; return; }
    if (e.pointerType === "mouse" && e.button !== 0) return;
    e.preventDefault();
    if (!this.ctx.canDraw()) return;
    this.active = e.pointerId;
    try { this.canvas.setPointerCapture(e.pointerId); } catch { /* pointer already gone */ }
    const pt = this.toBoard(e);
    if (this.tool === "stamp") {
      this.stampAt = pt;
      return;
    }
    this.startStroke(pt);
    this.invalidate();
  }

  pointerMove(e) {
    if (!this.ctx) return;
    const pt = this.toBoard(e);
    this.cursorAt = pt;
    this.cursorDirty = true;
    if (e.pointerId !== this.active) { this.scheduleEph(); return; }
    e.preventDefault();
    if (this.stampAt) { this.stampAt = pt; return; }
    if (!this.stroke) return;
    const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [];
    for (const ce of events.length ? events : [e]) this.addPoint(this.toBoard(ce));
    this.invalidate();
  }

  pointerUp(e) {
    if (e.pointerId !== this.active) return;
    this.active = null;
    if (this.stampAt) {
      const [x, y] = this.stampAt;
      this.stampAt = null;
      if (e.type === "pointerup" && this.ctx?.canDraw()) {
        this.ctx.submit("stamp", {page: this.pageId, id: randomId(12), stamp: this.stamp,
          x, y, size: STAMP_SIZE, rot: 0});
      }
      return;
    }
    if (e.type === "pointerup" && this.stroke) {
      // A pen reports pressure 0 as it lifts: keep the last real pressure for the end.
      const pt = this.toBoard(e);
      if (e.pointerType === "pen") pt[2] = this.stroke.pts[this.stroke.pts.length - 1];
      this.addPoint(pt);
    }
    this.commitStroke();
    this.invalidate();
  }

  strokeSize() {
    const base = this.cfg.sizes[this.sizeIdx];
    const [lo, hi] = this.cfg.size_range;
    return clamp(Math.round(base * (TOOL_SIZE_FACTOR[this.tool] || 1)), lo, hi);
  }

  startStroke(pt, style) {
    if (this.tool !== "eraser") this.lastInkTool = this.tool;
    this.stroke = style ? {...style, id: randomId(12), pts: [...pt], sent: 0} : {
      k: "stroke", id: randomId(12), page: this.pageId, tool: this.tool, color: this.color,
      size: this.strokeSize(), pts: [...pt], sent: 0,
    };
  }

  addPoint(pt) {
    const st = this.stroke;
    if (!st) return;
    const n = st.pts.length;
    const dx = pt[0] - st.pts[n - 3], dy = pt[1] - st.pts[n - 2];
    if (dx * dx + dy * dy < 1) return;                     // closer than 1 board unit
    if (n / 3 >= this.cfg.limits.stroke_points) {
      // Full: commit it and carry on seamlessly from its last point with a new id.
      const last = st.pts.slice(n - 3);
      const style = {k: "stroke", page: st.page, tool: st.tool, color: st.color, size: st.size};
      this.commitStroke();
      this.startStroke(last, style);
    }
    this.stroke.pts.push(pt[0], pt[1], pt[2]);
    this.scheduleEph();
  }

  commitStroke() {
    const st = this.stroke;
    this.stroke = null;
    if (!st || !this.ctx) return;
    this.ctx.submit("stroke", {page: st.page, id: st.id, tool: st.tool, color: st.color,
      size: st.size, pts: st.pts});
  }

  /** Drop (or keep, with commit=false → commit) the stroke in progress. */
  cancelStroke(drop) {
    if (!this.stroke && !this.stampAt) return;
    if (this.active != null) {
      try { this.canvas.releasePointerCapture(this.active); } catch { /* */ }
    }
    this.active = null;
    this.stampAt = null;
    if (drop || !this.stroke) this.stroke = null;
    else this.commitStroke();
    this.invalidate();
  }

  // ================================================================ ephemeral out
  scheduleEph() {
    this.ephWanted = true;
    if (!this.raf && this.ctx) this.raf = requestAnimationFrame((t) => this.frame(t));
  }

  /** At most one stroke preview and one cursor per frame, and no faster than the
   *  server relays them (eph_flush_hz). While drawing, the preview is the cursor. */
  flushEph(now) {
    if (!this.ephWanted) return;
    const period = 1000 / (this.ctx.config.protocol.limits.eph_flush_hz || 30);
    if (now - (this.lastEph || 0) < period - 4) {
      this.scheduleEph();
      return;
    }
    this.ephWanted = false;
    this.lastEph = now;
    const st = this.stroke;
    if (st) {
      const total = st.pts.length / 3;
      if (st.sent < total) {
        const k = Math.min(total - st.sent, this.cfg.limits.preview_points);
        this.ctx.sendEph({k: "stroke", id: st.id, page: st.page, tool: st.tool, color: st.color,
          size: st.size, from: st.sent, pts: st.pts.slice(st.sent * 3, (st.sent + k) * 3)});
        st.sent += k;
        if (st.sent < total) this.ephWanted = true;
      }
      this.cursorDirty = false;
    } else if (this.cursorDirty && this.cursorAt) {
      this.cursorDirty = false;
      this.ctx.sendEph({k: "cursor", page: this.pageId, x: this.cursorAt[0], y: this.cursorAt[1]});
    }
    if (this.ephWanted) this.scheduleEph();
  }

  // ================================================================ remote cursors
  moveCursor(by, page, x, y) {
    let c = this.cursors.get(by);
    if (!c) {
      c = {node: el("div", {class: "cursor", dataset: {by}})};
      this.cursors.set(by, c);
      this.labelCursor(by, c);
      this.cursorLayer?.append(c.node);
    }
    Object.assign(c, {page, x, y, t: performance.now()});
    this.placeCursor(by, c);
    // Issue 14: a resting cursor's name label would cover what was just stamped or
    // drawn there; after a moment only the dot stays (the label comes back on a move).
    c.node.classList.remove("still");
    clearTimeout(c.stillTimer);
    c.stillTimer = setTimeout(() => c.node.classList.add("still"), CURSOR_LABEL_MS);
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

  placeCursor(by, c) {
    if (!c.node.isConnected && this.cursorLayer) this.cursorLayer.append(c.node);
    const visible = c.page === this.pageId && performance.now() - c.t < CURSOR_TTL_MS;
    c.node.hidden = !visible;
    if (visible) {
      c.node.style.left = (c.x / this.board.w) * 100 + "%";
      c.node.style.top = (c.y / this.board.h) * 100 + "%";
      c.node.classList.toggle("flip", c.x > this.board.w * 0.8);
    }
  }

  expire() {
    const now = performance.now();
    let redraw = false;
    for (const [id, p] of this.previews) {
      if (now - p.t > PREVIEW_TTL_MS) { this.previews.delete(id); redraw = true; }
    }
    if (redraw) this.invalidate();
    for (const [by, c] of this.cursors) {
      if (now - c.t > CURSOR_TTL_MS && !c.node.hidden) c.node.hidden = true;
    }
    if (this.livePaths.map.size > 64) this.livePaths.map.clear();
  }
}
