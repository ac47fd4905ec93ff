// The shelf of miniatures: big picture tabs per category, a search over names and
// tags, a "recently used" row, and the figure grid. A figure is dragged from the
// shelf onto the tray in any direction, or tapped (the activity then waits for a
// tap on the sand: tap-to-pick, tap-to-place, WCAG 2.2 SC 2.5.7). The shelf only
// reports; the activity decides and sends the ops.
//
// Touch and scrolling share one finger (issue 14): the items take every touch
// (`touch-action: none`), and the shelf decides. While the finger stays inside the
// shelf, a move along a list's scroll direction scrolls that list by hand; a move
// across it, or any move once the finger leaves the shelf, picks the figure up.
// So "drag it up into the tray" works from a shelf below the tray (the list scrolls
// with the finger until the finger crosses the shelf's edge, then the figure comes
// along), and a sideways drag from a shelf beside the tray starts at once.
import {icon} from "./icons.js";
import {el, picture} from "../room/util.js";
import {t} from "../room/i18n.js";
import {indexFigures, searchFigures} from "./search.js";

const RECENT_MAX = 8;
const DRAG_START_PX = 8;

export class Shelf {
  /**
   * hooks: {canUse(), dragMove(fig, clientX, clientY), drop(fig, clientX, clientY) -> bool,
   *         tap(fig), dragCancel(fig)}
   */
  constructor(cfg, pictures, storeKey, hooks) {
    this.cfg = cfg;
    this.pictures = pictures;
    this.hooks = hooks;
    this.storeKey = storeKey;
    this.figures = indexFigures(cfg.figures);
    this.byId = new Map(this.figures.map((f) => [f.id, f]));
    this.category = cfg.categories[0].id;
    this.query = "";
    this.recent = this.loadRecent();
    this.build();
  }

  build() {
    const tabs = this.cfg.categories.map((c) => el("button", {type: "button", class: "st-cat",
      role: "tab", dataset: {category: c.id}, title: c.title, "aria-label": c.title,
      onclick: () => this.showCategory(c.id)}, picture(this.pictures, c.icon, "st-cat-pic")));
    this.tabsEl = el("div", {class: "st-cats", role: "tablist", "aria-label": t("Shelves")}, tabs);
    this.search = el("input", {type: "search", class: "st-search-input", placeholder: t("Find…"),
      "aria-label": t("Find a figure by name"), enterkeyhint: "search", autocomplete: "off",
      spellcheck: "false", oninput: () => this.setQuery(this.search.value)});
    this.clearBtn = el("button", {type: "button", class: "st-search-clear", hidden: true,
      dataset: {action: "search-clear"}, "aria-label": t("Clear search"),
      onclick: () => { this.search.value = ""; this.setQuery(""); }}, icon("close"));
    this.recentEl = el("div", {class: "st-recent", "aria-label": t("Recently used")});
    this.gridEl = el("div", {class: "st-grid", role: "list"});
    this.root = el("aside", {class: "st-shelf bar-panel", "aria-label": t("Shelf of figures")},
      el("label", {class: "st-search"}, icon("search", "icon st-search-icon"), this.search, this.clearBtn),
      this.tabsEl,
      el("div", {class: "st-recent-row"}, icon("clock", "icon st-recent-icon"), this.recentEl),
      this.gridEl);
    this.renderTabs();
    this.renderRecent();
    this.renderGrid();
  }

  item(f, cls = "st-item") {
    const node = el("button", {type: "button", class: cls, role: "listitem",
      dataset: {fig: f.id}, title: f.name, "aria-label": f.name},
    picture(this.pictures, f.id, "st-item-pic"));
    node.addEventListener("pointerdown", (e) => this.pointerDown(e, f.id, node));
    node.addEventListener("click", (e) => e.preventDefault());
    node.addEventListener("contextmenu", (e) => e.preventDefault());
    return node;
  }

  showCategory(id) {
    this.category = id;
    if (this.query) {
      this.search.value = "";
      this.query = "";
      this.clearBtn.hidden = true;
    }
    this.renderTabs();
    this.renderGrid();
    this.gridEl.scrollTop = 0;
  }

  setQuery(q) {
    this.query = q.trim();
    this.clearBtn.hidden = !this.query;
    this.renderTabs();
    this.renderGrid();
    this.gridEl.scrollTop = 0;
  }

  /** Figures matching every typed word (search.js: the start of a name or tag word,
   *  in the reader's language, then in English; accents and case aside). */
  matches(q) {
    return searchFigures(this.figures, q);
  }

  renderTabs() {
    for (const b of this.tabsEl.children) {
      const on = !this.query && b.dataset.category === this.category;
      b.setAttribute("aria-selected", String(on));
      b.classList.toggle("on", on);
    }
  }

  renderGrid() {
    const list = this.query ? this.matches(this.query) : this.figures.filter((f) => f.cat === this.category);
    this.gridEl.replaceChildren(...list.map((f) => this.item(f)));
    if (!list.length) this.gridEl.append(el("p", {class: "st-none"}, t("No figure with that name.")));
  }

  renderRecent() {
    const figs = this.recent.map((id) => this.byId.get(id)).filter(Boolean);
    this.recentEl.replaceChildren(...figs.map((f) => this.item(f, "st-item small")));
    this.recentEl.parentElement?.classList.toggle("empty", !figs.length);
  }

  setEnabled(on) {
    this.root.classList.toggle("readonly", !on);
  }

  // ------------------------------------------------------------ recently used
  loadRecent() {
    try {
      const list = JSON.parse(localStorage.getItem(this.storeKey) || "[]");
      return Array.isArray(list) ? list.filter((id) => this.byId.has(id)).slice(0, RECENT_MAX) : [];
    } catch {
      return [];
    }
  }

  used(id) {
    this.recent = [id, ...this.recent.filter((r) => r !== id)].slice(0, RECENT_MAX);
    try { localStorage.setItem(this.storeKey, JSON.stringify(this.recent)); } catch { /* private mode */ }
    this.renderRecent();
  }

  // ------------------------------------------------------------ dragging out
  pointerDown(e, fig, node) {
    if (e.pointerType === "mouse" && e.button !== 0) return;
    if (this.drag) return;
    // Watching only (paused, or not allowed to play): the figure says "not now".
    if (!this.hooks.canUse()) { this.wiggle(fig); return; }
    const touch = e.pointerType !== "mouse";
    this.drag = {fig, id: e.pointerId, x0: e.clientX, y0: e.clientY, lx: e.clientX, ly: e.clientY,
      started: false, scrolled: false, touch, node};
    e.preventDefault();
    const move = (ev) => this.pointerMove(ev);
    const up = (ev) => this.pointerUp(ev);
    this.listeners = [["pointermove", move], ["pointerup", up], ["pointercancel", up]];
    for (const [t, fn] of this.listeners) window.addEventListener(t, fn, {passive: false});
  }

  pointerMove(e) {
    const d = this.drag;
    if (!d || e.pointerId !== d.id) return;
    const dx = e.clientX - d.x0, dy = e.clientY - d.y0;
    if (!d.started) {
      if (!d.scrolled && Math.hypot(dx, dy) < DRAG_START_PX) return;
      if (d.touch && this.scrollByHand(d, e, dx, dy)) return;
      d.started = true;
      try { d.node.setPointerCapture(d.id); } catch { /* already released */ }
      d.ghost = el("div", {class: "st-ghost", "aria-hidden": "true"}, picture(this.pictures, d.fig, "st-ghost-pic"));
      document.body.append(d.ghost);
    }
    e.preventDefault();
    d.ghost.style.left = e.clientX + "px";
    d.ghost.style.top = e.clientY + "px";
    this.hooks.dragMove(d.fig, e.clientX, e.clientY);
  }

  /** Touch inside the shelf along a list's scroll axis: scroll it (see the top). */
  scrollByHand(d, e, dx, dy) {
    const r = this.root.getBoundingClientRect();
    const inside = e.clientX >= r.left && e.clientX <= r.right && e.clientY >= r.top && e.clientY <= r.bottom;
    const vertical = Math.abs(dy) > Math.abs(dx);
    const list = scroller(d.node, vertical);
    if (!inside || !list) return false;
    e.preventDefault();
    if (vertical) list.scrollTop -= e.clientY - d.ly;
    else list.scrollLeft -= e.clientX - d.lx;
    d.lx = e.clientX;
    d.ly = e.clientY;
    d.scrolled = true;
    return true;
  }

  /** A gesture the shelf did not understand (a figure dropped off the sand): wiggle it. */
  wiggle(fig) {
    for (const node of this.root.querySelectorAll(`[data-fig="${CSS.escape(fig)}"]`)) {
      node.classList.remove("wiggle");
      void node.offsetWidth;    // restart the animation
      node.classList.add("wiggle");
      node.addEventListener("animationend", () => node.classList.remove("wiggle"), {once: true});
    }
  }

  /** Show which figure waits for a tap on the sand (null: none). */
  setPicked(fig) {
    for (const node of this.root.querySelectorAll(".st-item")) {
      const on = node.dataset.fig === fig;
      node.classList.toggle("picked", on);
      node.setAttribute("aria-pressed", String(on));
    }
  }

  pointerUp(e) {
    const d = this.drag;
    if (!d || e.pointerId !== d.id) return;
    this.end();
    if (e.type !== "pointerup") {
      if (d.started) this.hooks.dragCancel(d.fig);
      return;
    }
    if (!d.started) {
      if (!d.scrolled) this.hooks.tap(d.fig);
      return;
    }
    if (!this.hooks.drop(d.fig, e.clientX, e.clientY)) this.hooks.dragCancel(d.fig);
  }

  end() {
    const d = this.drag;
    this.drag = null;
    for (const [t, fn] of this.listeners || []) window.removeEventListener(t, fn);
    this.listeners = null;
    d?.ghost?.remove();
  }

  destroy() {
    this.end();
  }
}

/** The nearest ancestor of `node` that can scroll along that axis, or null. */
function scroller(node, vertical) {
  for (let n = node.parentElement; n && n !== document.body; n = n.parentElement) {
    const style = getComputedStyle(n);
    const over = vertical ? style.overflowY : style.overflowX;
    const room = vertical ? n.scrollHeight - n.clientHeight : n.scrollWidth - n.clientWidth;
    if (room > 1 && (over === "auto" || over === "scroll")) return n;
  }
  return null;
}
