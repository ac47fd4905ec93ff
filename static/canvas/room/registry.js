// Activity registry: wire name -> browser module. Adding an activity is one import
// and one line in MODULES (the server's activities/__init__.py lists the same names).
//
// A module exports `create(spec, app)` returning an activity object with
//   mount(el, ctx)      build its UI inside `el`; ctx: see main.js (makeContext)
//   reset(state)        replace the confirmed state (snapshot)
//   apply(op)           apply one sequenced op {seq, a, t, d, by, op_id, kind}
//   ephemeral(by, item) a relayed in-progress signal {a, k, ...}
//   unmount()           remove its UI (state is kept: ops still arrive)
// and optionally changed(what) — "pending" | "seq" | "settings" | "presence" | "conn".
// The object keeps its state while unmounted, so switching tabs never loses ops.
// `app`: {config, cue(kind)} (cue: a moment said to a guest, see cues.js).
import * as canvas from "../canvas/canvas.js";
import * as sandtray from "../sandtray/sandtray.js";
import * as calm from "../calm/calm.js";
import * as checkin from "../checkin/checkin.js";
import * as stories from "../stories/stories.js";
import * as schedule from "../schedule/schedule.js";

const MODULES = {canvas, sandtray, calm, checkin, stories, schedule};

export function has(name) {
  return Object.prototype.hasOwnProperty.call(MODULES, name);
}

/** One activity object per entry of config.activities that this page knows. */
export function createActivities(specs, app) {
  const out = new Map();
  for (const spec of specs) {
    if (has(spec.name)) out.set(spec.name, MODULES[spec.name].create(spec, app));
    else console.warn("Playroom: no browser module for activity", spec.name);
  }
  return out;
}
