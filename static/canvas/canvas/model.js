// The canvas reducer: a line-by-line mirror of apply() in activities/canvas/__init__.py.
//
// Pure: every apply returns [newState, inverse | null] and never mutates its input;
// unchanged pages and items are shared with the old state (the renderer relies on
// that identity to draw only what was appended). A stale op (its page or items are
// gone) is a no-op with inverse null, exactly as on the server. Pure JS, no DOM, so it
// also runs under node for the parity check against the Python reducer.

export function newPage(id, bg = "white", shape = "wide") {
  const page = {id, bg, n: 0, items: []};
  if (shape !== "wide") page.shape = shape;
  return page;
}

/** A page's shape: "wide" (1600×1000, no key) or "tall" (1200×1600, issue 14). */
export function pageShape(page) {
  return (page && page.shape) || "wide";
}

export function initialState() {
  return {pages: [newPage("p1")]};
}

export function findPage(state, pageId) {
  const pages = state.pages;
  for (let i = 0; i < pages.length; i++) if (pages[i].id === pageId) return [i, pages[i]];
  return [-1, null];
}

function numbers(item) {
  return item.k === "stroke" ? item.pts.length : 6;
}

function withPage(state, i, page) {
  const pages = state.pages.slice();
  pages[i] = page;
  return {...state, pages};
}

/** Apply op (t, d) by participant `by`. Returns [newState, inverse | null]. */
export function apply(state, t, d, by = null) {
  if (t === "page.save" || t === "page.unsave" || t === "saved.restore") return applySaved(state, t, d, by);
  let i = -1, page = null;
  if (t !== "page.restore") [i, page] = findPage(state, d.page);
  if (t === "page.add") {
    if (page !== null) return [state, null];
    return [{...state, pages: [...state.pages, newPage(d.page, "white", d.shape || "wide")]},
      ["page.remove", {page: d.page}]];
  }
  if (t === "page.restore") {
    if (findPage(state, d.page.id)[1] !== null) return [state, null];
    const pages = state.pages.slice();
    pages.splice(Math.min(d.index, pages.length), 0, d.page);
    return [{...state, pages}, ["page.remove", {page: d.page.id}]];
  }
  if (page === null) return [state, null]; // stale: the page is gone
  if (t === "page.remove") {
    if (state.pages.length === 1) return [state, null];
    const pages = state.pages.slice(0, i).concat(state.pages.slice(i + 1));
    return [{...state, pages}, ["page.restore", {page, index: i}]];
  }
  if (t === "page.shape") {
    const old = pageShape(page);
    if (old === d.shape || page.items.length) return [state, null];   // a drawn page never turns
    const turned = {...page};
    delete turned.shape;
    if (d.shape !== "wide") turned.shape = d.shape;
    return [withPage(state, i, turned), ["page.shape", {page: page.id, shape: old}]];
  }
  if (t === "page.bg") {
    if (page.bg === d.bg) return [state, null];
    return [withPage(state, i, {...page, bg: d.bg}), ["page.bg", {page: page.id, bg: page.bg}]];
  }
  if (t === "stroke" || t === "stamp") {
    if (page.items.some((it) => it.id === d.id)) return [state, null];
    const item = {};
    for (const [k, v] of Object.entries(d)) if (k !== "page") item[k] = v;
    item.k = t;
    item.by = by;
    const next = {...page, items: [...page.items, item], n: page.n + numbers(item)};
    return [withPage(state, i, next), ["items.remove", {page: page.id, ids: [d.id]}]];
  }
  if (t === "clear") return remove(state, i, page, null);
  if (t === "items.remove") return remove(state, i, page, new Set(d.ids));
  if (t === "items.restore") return restore(state, i, page, d.items);
  throw new Error(`unknown canvas op ${t}`);
}

/** Remove `ids` (all items when null); the inverse restores them in place. */
function remove(state, i, page, ids) {
  const kept = [], removed = [];
  page.items.forEach((it, idx) => {
    if (ids === null || ids.has(it.id)) removed.push([idx, it]);
    else kept.push(it);
  });
  if (!removed.length) return [state, null];
  const n = page.n - removed.reduce((s, [, it]) => s + numbers(it), 0);
  return [withPage(state, i, {...page, items: kept, n}),
    ["items.restore", {page: page.id, items: removed}]];
}

function restore(state, i, page, entries) {
  const present = new Set(page.items.map((it) => it.id));
  const items = page.items.slice();
  const restored = [];
  // Stable sort by index, like Python's sorted(key=...).
  const sorted = entries.slice().sort((a, b) => a[0] - b[0]);
  for (const [idx, it] of sorted) {
    if (present.has(it.id)) continue;
    items.splice(Math.min(idx, items.length), 0, it);
    restored.push(it.id);
  }
  if (!restored.length) return [state, null];
  const back = new Set(restored);
  const n = page.n + entries.reduce((s, [, it]) => s + (back.has(it.id) ? numbers(it) : 0), 0);
  return [withPage(state, i, {...page, items, n}), ["items.remove", {page: page.id, ids: restored}]];
}

// "Save to record" copies (canvas.py, CANVAS1): kept as the server keeps them, so a
// client's state is what a late joiner receives; nothing draws them.
function findSaved(state, id) {
  const saved = state.saved || [];
  for (let i = 0; i < saved.length; i++) if (saved[i].id === id) return [i, saved[i]];
  return [-1, null];
}

function applySaved(state, t, d, by) {
  const saved = (state.saved || []).slice();
  if (t === "page.save") {
    const [i, page] = findPage(state, d.page);
    if (page === null || !page.items.length || findSaved(state, d.id)[1] !== null) return [state, null];
    const entry = {id: d.id, page: page.id, index: i + 1, caption: d.caption ?? null, at: d.at ?? null,
      by, bg: page.bg, n: page.n, items: page.items};
    if (page.shape) entry.shape = page.shape;
    return [{...state, saved: [...saved, entry]}, ["page.unsave", {id: d.id}]];
  }
  if (t === "page.unsave") {
    const [i, entry] = findSaved(state, d.id);
    if (entry === null) return [state, null];
    saved.splice(i, 1);
    let next = {...state, saved};
    if (!saved.length) { next = {...state}; delete next.saved; }     // as the server: the key goes too
    return [next, ["saved.restore", {entry, index: i}]];
  }
  if (findSaved(state, d.entry.id)[1] !== null) return [state, null];     // saved.restore
  saved.splice(Math.min(d.index, saved.length), 0, d.entry);
  return [{...state, saved}, ["page.unsave", {id: d.entry.id}]];
}
