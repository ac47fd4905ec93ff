// The calm corner reducer: a line-by-line mirror of apply() in activities/calm/__init__.py.
// Pure: every apply returns [newState, inverse | null] and never mutates its input.
// Presets and senses come from the page config (client_config), never copied by hand.

function stoppedClock() {
  return {started_at: null, paused_at: null, paused_total: 0, running: false};
}

const zeroCounts = (senses) => Object.fromEntries(senses.map((s) => [s, 0]));

/** The state of a new room: `cfg` is the activity's client_config. */
export function initialState(cfg) {
  const p = cfg.presets.balloon;
  return {
    card: "pacer",
    pacer: {pattern: "balloon", name: p.name, visual: p.visual, timing: p.timing.slice(),
      rounds: p.rounds, minutes: null, total: p.rounds, ...stoppedClock()},
    patterns: {},
    timer: {minutes: 5, ...stoppedClock()},
    grounding: {order: cfg.sense_order.slice(), skipped: [], current: null, counts: zeroCounts(cfg.sense_order)},
  };
}

/** Deep equality of plain JSON values (Python's == on the same data). */
export function same(a, b) {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a), kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) if (!Object.prototype.hasOwnProperty.call(b, k) || !same(a[k], b[k])) return false;
  return true;
}

export function findPattern(state, presets, id) {
  if (Object.prototype.hasOwnProperty.call(presets, id)) {
    const p = presets[id];
    return {name: p.name, timing: p.timing.slice(), visual: p.visual};
  }
  const p = state.patterns[id];
  return p ? {name: p.name, timing: p.timing.slice(), visual: p.visual} : null;
}

export function totalRounds(timing, rounds, minutes) {
  if (rounds !== null && rounds !== undefined) return rounds;
  return Math.max(1, Math.ceil((minutes * 60) / (timing[0] + timing[1] + timing[2] + timing[3])));
}

export function activeSenses(g) {
  return g.order.filter((s) => !g.skipped.includes(s));
}

function set(state, key, value, restore) {
  const old = state[key];
  if (same(old, value)) return [state, null];
  return [{...state, [key]: value}, [restore, {[key]: old}]];
}

function pacerOp(state, t, d, presets) {
  const p = state.pacer;
  let next;
  if (t === "pacer.start") {
    const pat = findPattern(state, presets, d.pattern);
    if (!pat) return [state, null];
    const rounds = d.rounds ?? null, minutes = d.minutes ?? null;
    next = {pattern: d.pattern, name: pat.name, visual: pat.visual, timing: pat.timing,
      rounds, minutes, total: totalRounds(pat.timing, rounds, minutes),
      started_at: d.at, paused_at: null, paused_total: 0, running: true};
  } else if (t === "pacer.pause") {
    if (!p.running) return [state, null];
    next = {...p, paused_at: d.at, running: false};
  } else if (t === "pacer.resume") {
    if (p.paused_at === null) return [state, null];
    next = {...p, paused_total: p.paused_total + Math.max(0, d.at - p.paused_at), paused_at: null, running: true};
  } else {
    next = {...p, ...stoppedClock()};
  }
  return set(state, "pacer", next, "pacer.restore");
}

function timerOp(state, t, d) {
  const tm = state.timer;
  let next;
  if (t === "timer.start") {
    next = {minutes: d.minutes, started_at: d.at, paused_at: null, paused_total: 0, running: true};
  } else if (t === "timer.pause") {
    if (!tm.running) return [state, null];
    next = {...tm, paused_at: d.at, running: false};
  } else if (t === "timer.resume") {
    if (tm.paused_at === null) return [state, null];
    next = {...tm, paused_total: tm.paused_total + Math.max(0, d.at - tm.paused_at), paused_at: null, running: true};
  } else {
    next = {...tm, ...stoppedClock()};
  }
  return set(state, "timer", next, "timer.restore");
}

function groundingOp(state, t, d) {
  const g = state.grounding;
  let next;
  if (t === "grounding.count") {
    const old = g.counts[d.sense] || 0;
    if (old === d.n) return [state, null];
    next = {...g, counts: {...g.counts, [d.sense]: d.n}};
    return [{...state, grounding: next}, ["grounding.count", {sense: d.sense, n: old}]];
  }
  if (t === "grounding.start") {
    next = {...g, current: activeSenses(g)[0], counts: zeroCounts(Object.keys(g.counts))};
  } else if (t === "grounding.stop") {
    next = {...g, current: null};
  } else if (t === "grounding.go") {
    if (g.current === null || (d.to !== "done" && !activeSenses(g).includes(d.to))) return [state, null];
    next = {...g, current: d.to};
  } else {
    next = {...g, order: d.order, skipped: d.skipped};
    const cur = g.current;
    if (d.skipped.includes(cur)) {
      const rest = g.order.slice(g.order.indexOf(cur)).filter((s) => !d.skipped.includes(s));
      next.current = rest.length ? rest[0] : "done";
    }
  }
  return set(state, "grounding", next, "grounding.restore");
}

function putPattern(state, id, pattern) {
  const old = Object.prototype.hasOwnProperty.call(state.patterns, id) ? state.patterns[id] : null;
  if (same(old, pattern)) return [state, null];
  const patterns = {...state.patterns};
  if (pattern === null) delete patterns[id];
  else patterns[id] = pattern;
  return [{...state, patterns}, ["pattern.restore", {id, pattern: old}]];
}

/** Apply op (t, d). Returns [newState, inverse | null]. */
export function apply(state, t, d, presets) {
  if (t.startsWith("pacer.") && t !== "pacer.restore") return pacerOp(state, t, d, presets);
  if (t.startsWith("timer.") && t !== "timer.restore") return timerOp(state, t, d);
  if (t.startsWith("grounding.") && t !== "grounding.restore") return groundingOp(state, t, d);
  if (t === "pacer.restore" || t === "timer.restore" || t === "grounding.restore") {
    const key = t.split(".")[0];
    return set(state, key, d[key], t);
  }
  if (t === "show") {
    if (state.card === d.card) return [state, null];
    return [{...state, card: d.card}, ["show", {card: state.card}]];
  }
  if (t === "pattern.save") {
    return putPattern(state, d.id, {name: d.name, timing: [d.inhale, d.hold, d.exhale, d.hold2], visual: d.visual});
  }
  if (t === "pattern.delete") return putPattern(state, d.id, null);
  if (t === "pattern.restore") return putPattern(state, d.id, d.pattern);
  throw new Error(`unknown calm op ${t}`);
}
