// Breathing phase and timer arithmetic: a line-by-line mirror of elapsed(), phase_at(),
// pacer_phase(), timer_remaining() in activities/calm/__init__.py. Pure (no DOM, no clock):
// every screen calls these with the server time it estimates (clock.js), so every
// screen shows the same phase. Times are server seconds; same float operations in
// the same order as the Python, so both give identical results.

export const PHASES = ["inhale", "hold", "exhale", "hold2"];

/** Running seconds of a pacer or timer at server time `now` (0 when stopped). */
export function elapsed(clock, now) {
  if (clock.started_at === null || clock.started_at === undefined) return 0;
  const end = clock.paused_at !== null && clock.paused_at !== undefined ? clock.paused_at : now;
  return Math.max(0, end - clock.started_at - clock.paused_total);
}

/** [phase, progress 0..1, round from 0] after `secs` running seconds; "done" after `total` rounds. */
export function phaseAt(timing, secs, total = null) {
  const cycle = timing[0] + timing[1] + timing[2] + timing[3];
  if (total !== null && total !== undefined && secs >= cycle * total) return ["done", 1, total];
  const rnd = Math.floor(secs / cycle);
  let pos = secs - rnd * cycle;
  for (let i = 0; i < 4; i++) {
    const dur = timing[i];
    if (dur > 0 && pos < dur) return [PHASES[i], pos / dur, rnd];
    pos -= dur;
  }
  return ["inhale", 0, rnd + 1];   // float edge: exactly at the end of a cycle
}

/** The pacer at server time `now` (s): {phase, progress, round, running}; phase "idle" when stopped. */
export function pacerPhase(pacer, now) {
  if (pacer.started_at === null || pacer.started_at === undefined) {
    return {phase: "idle", progress: 0, round: 0, running: false};
  }
  const [phase, progress, round] = phaseAt(pacer.timing, elapsed(pacer, now), pacer.total);
  return {phase, progress, round, running: Boolean(pacer.running) && phase !== "done"};
}

/** Seconds left on the timer at server time `now` (≤ 0 once it ran out). */
export function timerRemaining(timer, now) {
  return timer.minutes * 60 - elapsed(timer, now);
}

/** Where in the whole run the pacer is, in seconds (round * cycle + offset in the cycle). */
export function cyclePosition(timing, phase, progress, round) {
  const i = PHASES.indexOf(phase);
  let pos = round * (timing[0] + timing[1] + timing[2] + timing[3]);
  for (let k = 0; k < i; k++) pos += timing[k];
  return pos + progress * (i >= 0 ? timing[i] : 0);
}

/** 0..1 smooth in-out curve for growing and shrinking. */
export function ease(p) {
  return (1 - Math.cos(Math.PI * Math.min(1, Math.max(0, p)))) / 2;
}

/** How "full" the breath is (0 empty … 1 full) in a phase: grows in, stays, shrinks out. */
export function fullness(phase, progress) {
  if (phase === "inhale") return ease(progress);
  if (phase === "hold") return 1;
  if (phase === "exhale") return 1 - ease(progress);
  return 0;
}
