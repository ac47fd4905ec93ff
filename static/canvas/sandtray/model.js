// The sand tray reducer: a line-by-line mirror of apply() in activities/sandtray/__init__.py.
//
// Pure: every apply returns [newState, inverse | null] and never mutates its input.
// The sand is a string of digits (one per grid cell); brush ops use integer maths
// only, so the same op gives exactly the same cells here and on the server (a unit
// test runs both on the same ops). A stale op (its figure is gone) is a no-op with
// inverse null, exactly as on the server. No DOM and no imports: it also runs
// under node for that parity test.

/** The reducer for one tray configuration (client_config().grid etc.). */
export function createModel(cfg) {
  const GW = cfg.grid.w, GH = cfg.grid.h, MAX = cfg.grid.max_level, START = cfg.grid.start;
  const DIG = cfg.grid.dig, RAISE = cfg.grid.raise;
  const FIELD = {move: null, rotate: "rot", scale: "scale", flip: "flip", lie: "lying", bury: "buried"};

  function freshSand() {
    return String(START).repeat(GW * GH);
  }

  function newTray(id = "t1", theme = cfg.default_theme) {
    return {id, theme, sand: freshSand(), figures: []};
  }

  function initialState() {
    return {tray: newTray(), saved: []};
  }

  /** Map cell index -> strength: 2 in the core (distance ≤ 3r/4), 1 on the rim. */
  function brushCells(r, pts) {
    const r2 = r * r;
    const disc = [];
    for (let dy = -r; dy <= r; dy++) {
      for (let dx = -r; dx <= r; dx++) {
        const d2 = dx * dx + dy * dy;
        if (d2 <= r2) disc.push(dx, dy, 16 * d2 <= 9 * r2 ? 2 : 1);
      }
    }
    const cells = new Map();
    for (let k = 0; k < pts.length; k += 2) {
      const cx = pts[k], cy = pts[k + 1];
      for (let j = 0; j < disc.length; j += 3) {
        const x = cx + disc[j], y = cy + disc[j + 1], s = disc[j + 2];
        if (x >= 0 && x < GW && y >= 0 && y < GH) {
          const i = y * GW + x;
          if ((cells.get(i) || 0) < s) cells.set(i, s);
        }
      }
    }
    return cells;
  }

  function smoothed(sand, i) {
    const x = i % GW, y = Math.floor(i / GW);
    let total = 0, n = 0;
    for (let yy = Math.max(0, y - 1); yy < Math.min(GH, y + 2); yy++) {
      for (let xx = Math.max(0, x - 1); xx < Math.min(GW, x + 2); xx++) {
        total += sand.charCodeAt(yy * GW + xx) - 48;
        n++;
      }
    }
    return Math.floor((2 * total + n) / (2 * n));
  }

  function brush(sand, tool, r, pts) {
    const cells = brushCells(r, pts);
    const out = new Uint8Array(sand.length);
    for (let i = 0; i < sand.length; i++) out[i] = sand.charCodeAt(i);
    for (const [i, s] of cells) {
      let h = sand.charCodeAt(i) - 48;
      if (tool === "dig") h = Math.max(0, h - DIG[s]);
      else if (tool === "raise") h = Math.min(MAX, h + RAISE[s]);
      else h = smoothed(sand, i);
      out[i] = 48 + h;
    }
    return bytesToString(out);
  }

  function changedRect(a, b) {
    let x0 = Infinity, y0 = Infinity, x1 = -1, y1 = -1;
    for (let i = 0; i < a.length; i++) {
      if (a.charCodeAt(i) !== b.charCodeAt(i)) {
        const x = i % GW, y = Math.floor(i / GW);
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
    return x1 < 0 ? null : [x0, y0, x1 - x0 + 1, y1 - y0 + 1];
  }

  function rect(sand, x, y, w, h) {
    let out = "";
    for (let k = 0; k < h; k++) out += sand.slice((y + k) * GW + x, (y + k) * GW + x + w);
    return out;
  }

  function put(sand, x, y, w, h, v) {
    const parts = [sand.slice(0, y * GW)];
    for (let k = 0; k < h; k++) {
      const row = (y + k) * GW;
      parts.push(sand.slice(row, row + x) + v.slice(k * w, (k + 1) * w) + sand.slice(row + x + w, row + GW));
    }
    parts.push(sand.slice((y + h) * GW));
    return parts.join("");
  }

  const find = (figures, id) => {
    for (let i = 0; i < figures.length; i++) if (figures[i].id === id) return [i, figures[i]];
    return [-1, null];
  };
  const findSaved = (state, id) => {
    for (let i = 0; i < state.saved.length; i++) if (state.saved[i].id === id) return [i, state.saved[i]];
    return [-1, null];
  };
  const trayIds = (state) => new Set([state.tray.id, ...state.saved.map((s) => s.tray.id)]);
  const withTray = (state, tray) => ({...state, tray});
  const withFigures = (state, figures) => ({...state, tray: {...state.tray, figures}});

  function sandChanged(state, tray, sand) {
    const r = changedRect(tray.sand, sand);
    if (r === null) return [state, null];
    const [x, y, w, h] = r;
    return [withTray(state, {...tray, sand}),
      ["sand.put", {tray: tray.id, x, y, w, h, v: rect(tray.sand, x, y, w, h)}]];
  }

  function setTray(state, old, tray) {
    if (sameJSON(tray, old)) return [state, null];
    return [withTray(state, tray), ["tray.set", {tray: old}]];
  }

  /** Apply op (t, d) by participant `by`. Returns [newState, inverse | null]. */
  function apply(state, t, d, by = null) {
    const tray = state.tray;
    const figures = tray.figures;
    if (Object.prototype.hasOwnProperty.call(FIELD, t)) {
      const [i, fig] = find(figures, d.id);
      if (fig === null) return [state, null];            // stale: the figure is gone
      const keys = t === "move" ? ["x", "y"] : [FIELD[t]];
      if (keys.every((k) => fig[k] === d[k])) return [state, null];
      const old = {id: fig.id};
      const next = {...fig};
      for (const k of keys) { old[k] = fig[k]; next[k] = d[k]; }
      const out = figures.slice();
      out[i] = next;
      return [withFigures(state, out), [t, old]];
    }
    if (t === "place" || t === "duplicate") {
      if (find(figures, d.id)[1] !== null) return [state, null];
      let fig;
      if (t === "place") {
        fig = {id: d.id, fig: d.fig, x: d.x, y: d.y, rot: d.rot, scale: d.scale, flip: d.flip,
          lying: false, buried: 0, by};
      } else {
        const src = find(figures, d.src)[1];
        if (src === null) return [state, null];
        fig = {...src, id: d.id, x: d.x, y: d.y, by};
      }
      return [withFigures(state, [...figures, fig]), ["remove", {id: d.id}]];
    }
    if (t === "remove") {
      const [i, fig] = find(figures, d.id);
      if (fig === null) return [state, null];
      return [withFigures(state, figures.slice(0, i).concat(figures.slice(i + 1))),
        ["restore", {tray: tray.id, fig, index: i}]];
    }
    if (t === "restore") {
      if (d.tray !== tray.id || find(figures, d.fig.id)[1] !== null) return [state, null];
      const out = figures.slice();
      out.splice(Math.min(d.index, out.length), 0, d.fig);
      return [withFigures(state, out), ["remove", {id: d.fig.id}]];
    }
    if (t === "z" || t === "z.at") {
      const [i, fig] = find(figures, d.id);
      if (fig === null) return [state, null];
      const rest = figures.slice(0, i).concat(figures.slice(i + 1));
      const to = t === "z.at" ? Math.min(d.index, rest.length) : d.to === "front" ? rest.length : 0;
      if (to === i) return [state, null];
      return [withFigures(state, rest.slice(0, to).concat([fig], rest.slice(to))),
        ["z.at", {id: fig.id, index: i}]];
    }
    if (t === "sand") return sandChanged(state, tray, brush(tray.sand, d.tool, d.r, d.pts));
    if (t === "sand.put") {
      if (d.tray !== tray.id) return [state, null];
      return sandChanged(state, tray, put(tray.sand, d.x, d.y, d.w, d.h, d.v));
    }
    if (t === "theme") {
      if (tray.theme === d.theme) return [state, null];
      return [withTray(state, {...tray, theme: d.theme}), ["theme", {theme: tray.theme}]];
    }
    if (t === "tray.save") {
      if (findSaved(state, d.id)[1] !== null) return [state, null];
      const entry = {id: d.id, at: d.at, by, tray: pack(tray)};
      return [{...state, saved: [...state.saved, entry]}, ["tray.unsave", {id: d.id}]];
    }
    if (t === "tray.unsave") {
      const [i, entry] = findSaved(state, d.id);
      if (entry === null) return [state, null];
      return [{...state, saved: state.saved.slice(0, i).concat(state.saved.slice(i + 1))},
        ["saved.restore", {entry, index: i}]];
    }
    if (t === "saved.restore") {
      if (findSaved(state, d.entry.id)[1] !== null) return [state, null];
      const saved = state.saved.slice();
      saved.splice(Math.min(d.index, saved.length), 0, d.entry);
      return [{...state, saved}, ["tray.unsave", {id: d.entry.id}]];
    }
    if (t === "tray.new") {
      if (trayIds(state).has(d.id)) return [state, null];
      return [withTray(state, newTray(d.id, tray.theme)), ["tray.set", {tray}]];
    }
    if (t === "tray.open") {
      const entry = findSaved(state, d.id)[1];
      if (entry === null) return [state, null];
      return setTray(state, tray, unpack(entry.tray));
    }
    if (t === "tray.set") return setTray(state, tray, d.tray);
    throw new Error(`unknown sandtray op ${t}`);
  }

  return {apply, initialState, newTray, freshSand, brushCells, findFigure: find, findSaved,
    grid: {w: GW, h: GH}};
}

function bytesToString(bytes) {
  let out = "";
  for (let i = 0; i < bytes.length; i += 8192) out += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return out;
}

/** Run-length encoding of a sand string: "3200,050,…" (height digit, run length). */
export function rleEncode(sand) {
  const runs = [];
  let i = 0;
  while (i < sand.length) {
    let j = i;
    while (j < sand.length && sand[j] === sand[i]) j++;
    runs.push(sand[i] + (j - i));
    i = j;
  }
  return runs.join(",");
}

export function rleDecode(text) {
  if (!text) return "";
  return text.split(",").map((run) => run[0].repeat(Number(run.slice(1)))).join("");
}

export function pack(tray) {
  return {id: tray.id, theme: tray.theme, rle: rleEncode(tray.sand), figures: tray.figures};
}

export function unpack(p) {
  return {id: p.id, theme: p.theme, sand: rleDecode(p.rle), figures: p.figures};
}

/** Structural equality of two JSON values (key order ignored), as Python's ==. */
export function sameJSON(a, b) {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) return a.length === b.length && a.every((v, i) => sameJSON(v, b[i]));
  const ka = Object.keys(a), kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && sameJSON(a[k], b[k]));
}
