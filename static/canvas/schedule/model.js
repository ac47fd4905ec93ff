// Schedule reducer: a line-by-line mirror of apply() in activities/schedule/__init__.py, so every
// screen applies the same sequenced ops to the same state (tests/unit/test_schedule.py
// runs both on the same ops). Pure: never mutates. apply() returns [state, inverse].

export function initialState() {
  return {layout: "first-then", steps: [], timer: null, rewards: [], reward: null};
}

const eq = (a, b) => JSON.stringify(a) === JSON.stringify(b);

export function index(s, id) {
  return s.steps.findIndex((x) => x.id === id);
}

export function allDone(s) {
  return s.steps.length > 0 && s.steps.every((x) => x.done);
}

function timer(s, next) {
  const old = s.timer;
  if (eq(old, next)) return [s, null];
  return [{...s, timer: next}, ["timer.set", {timer: old}]];
}

function rewardsSet(s, rewards, reward) {
  const old = {rewards: s.rewards, reward: s.reward};
  if (eq(old, {rewards, reward})) return [s, null];
  return [{...s, rewards: rewards.slice(), reward}, ["rewards.set", old]];
}

function restorable(s) {
  return {steps: s.steps, timer: s.timer, reward: s.reward};
}

export function apply(s, cfg, t, d) {
  const steps = s.steps;
  const max = cfg.limits.steps;
  switch (t) {
    case "layout":
      if (s.layout === d.layout) return [s, null];
      return [{...s, layout: d.layout}, ["layout", {layout: s.layout}]];
    case "step.add": {
      if (index(s, d.id) >= 0 || steps.length >= max || d.pos > steps.length) return [s, null];
      const step = {id: d.id, pic: d.pic, text: d.text, secs: d.secs, done: false};
      return [{...s, steps: [...steps.slice(0, d.pos), step, ...steps.slice(d.pos)]}, ["step.remove", {id: d.id}]];
    }
    case "step.put": {
      const step = d.step;
      if (index(s, step.id) >= 0 || d.pos > steps.length) return [s, null];
      const out = {...s, steps: [...steps.slice(0, d.pos), {...step}, ...steps.slice(d.pos)]};
      if (d.timer !== null && d.timer !== undefined) out.timer = d.timer;
      return [out, ["step.remove", {id: step.id}]];
    }
    case "step.remove": {
      const i = index(s, d.id);
      if (i < 0) return [s, null];
      const running = s.timer !== null && s.timer.step === d.id ? s.timer : null;
      const out = {...s, steps: [...steps.slice(0, i), ...steps.slice(i + 1)], timer: running !== null ? null : s.timer};
      return [out, ["step.put", {pos: i, step: steps[i], timer: running}]];
    }
    case "step.edit": case "step.done": {
      const i = index(s, d.id);
      if (i < 0) return [s, null];
      const old = steps[i];
      const keys = t === "step.edit" ? ["pic", "text", "secs"] : ["done"];
      const next = {...old};
      const back = {id: d.id};
      for (const k of keys) { next[k] = d[k]; back[k] = old[k]; }
      if (eq(next, old)) return [s, null];
      return [{...s, steps: [...steps.slice(0, i), next, ...steps.slice(i + 1)]}, [t, back]];
    }
    case "step.move": {
      const i = index(s, d.id);
      if (i < 0 || d.to >= steps.length || d.to === i) return [s, null];
      const rest = [...steps.slice(0, i), ...steps.slice(i + 1)];
      return [{...s, steps: [...rest.slice(0, d.to), steps[i], ...rest.slice(d.to)]}, ["step.move", {id: d.id, to: i}]];
    }
    case "timer.start": {
      const i = index(s, d.step);
      if (i < 0 || !steps[i].secs) return [s, null];
      return timer(s, {step: d.step, at: d.at});
    }
    case "timer.stop":
      return timer(s, null);
    case "timer.set":
      return timer(s, d.timer);
    case "rewards":
      return rewardsSet(s, d.pics, d.pics.includes(s.reward) ? s.reward : null);
    case "rewards.set":
      return rewardsSet(s, d.rewards, d.reward);
    case "reward.pick":
      if (d.pic !== null && !s.rewards.includes(d.pic)) return [s, null];
      if (s.reward === d.pic) return [s, null];
      return [{...s, reward: d.pic}, ["reward.pick", {pic: s.reward}]];
    case "reset": {
      const next = {steps: steps.map((x) => ({...x, done: false})), timer: null, reward: null};
      if (eq(next, restorable(s))) return [s, null];
      return [{...s, ...next}, ["restore", restorable(s)]];
    }
    case "restore": {
      const next = {steps: d.steps, timer: d.timer, reward: d.reward};
      if (eq(next, restorable(s))) return [s, null];
      return [{...s, ...next}, ["restore", restorable(s)]];
    }
    default:
      throw new Error(`unknown schedule op ${t}`);
  }
}

/** Seconds left on the running timer at server time `now` (s), or null. */
export function timeLeft(s, now) {
  if (!s.timer || now === null || now === undefined) return null;
  const i = index(s, s.timer.step);
  if (i < 0) return null;
  return Math.max(0, s.steps[i].secs - (now - s.timer.at));
}
