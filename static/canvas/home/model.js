// Home practice (issue 17 part 3): what has been done on a pack, from its log. Pure (no
// DOM, no clock, no network), so node runs it in the parity test against its Python
// twin, activities/home:progress(). The page feeds it the server's log followed by the
// actions queued on this phone and not yet confirmed, so a tick done offline stays
// ticked after a reload.

const isInt = (v) => typeof v === "number" && Number.isInteger(v);

/**
 * progress(pack, log) -> {steps: {itemId: [bool per step]}, read: {itemId: highest page
 * index reached, or -1}, rounds: {itemId: total rounds}, feeling: {itemId: last value or
 * null}}, one key per item of the pack by its kind. Log entries naming an unknown item,
 * an action of another kind of item, or an out-of-range step, page, round count or
 * feeling are ignored; a step entry sets that step to its `done`.
 */
export function progress(pack, log) {
  const out = {steps: {}, read: {}, rounds: {}, feeling: {}};
  const items = new Map();
  for (const item of (pack && pack.items) || []) {
    items.set(item.id, item);
    if (item.kind === "steps") out.steps[item.id] = (item.steps || []).map(() => false);
    else if (item.kind === "story") out.read[item.id] = -1;
    else if (item.kind === "breathe") out.rounds[item.id] = 0;
    else if (item.kind === "checkin") out.feeling[item.id] = null;
  }
  for (const e of log || []) {
    if (!e || typeof e !== "object" || typeof e.item !== "string" || !items.has(e.item)) continue;
    const item = items.get(e.item);
    if (e.what === "step" && item.kind === "steps") {
      const done = out.steps[item.id];
      if (isInt(e.step) && e.step >= 0 && e.step < done.length && typeof e.done === "boolean") {
        done[e.step] = e.done;
      }
    } else if (e.what === "read" && item.kind === "story") {
      const pages = (item.pages || []).length;
      if (isInt(e.page) && e.page >= 0 && e.page < pages) out.read[item.id] = Math.max(out.read[item.id], e.page);
    } else if (e.what === "breathe" && item.kind === "breathe") {
      if (isInt(e.rounds) && e.rounds >= 1 && e.rounds <= 60) out.rounds[item.id] += e.rounds;
    } else if (e.what === "checkin" && item.kind === "checkin") {
      if (isInt(e.value) && e.value >= 1 && e.value <= 5) out.feeling[item.id] = e.value;
    }
  }
  return out;
}

/** The log entries of queued ops that belong to `pack` (their `d`), in queue order. */
export function queuedEntries(pack, queue) {
  return (queue || []).map((op) => op && op.d).filter((d) => d && pack && d.pack === pack.id);
}

/** How far an item is, for its tile: {done, total} (total 0 when it has no count). */
export function itemProgress(item, prog) {
  if (item.kind === "steps") {
    const steps = prog.steps[item.id] || [];
    return {done: steps.filter(Boolean).length, total: steps.length};
  }
  if (item.kind === "story") {
    return {done: (prog.read[item.id] ?? -1) + 1, total: (item.pages || []).length};
  }
  if (item.kind === "breathe") return {done: prog.rounds[item.id] || 0, total: 0};
  return {done: prog.feeling[item.id] ? 1 : 0, total: 1};
}
