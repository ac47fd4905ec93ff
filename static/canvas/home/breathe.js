// Home practice: breathing with a pacer. The calm corner's visual of the pattern
// (../calm/visuals.js) grows and shrinks with the timing, the words say what to do,
// dots count the rounds. The clock is this phone's own (no server here). When the
// child stops, or the rounds are all breathed, the rounds finished are reported.
// Reduced motion: the visuals pulse in colour instead of moving (their own rule).
import {bigButton, el, screenHead} from "./ui.js";
import {fullness, phaseAt} from "../calm/phase.js";
import {makeVisual} from "../calm/visuals.js";
import {t, tn} from "../room/i18n.js";

const MAX_ROUNDS = 60;

function reducedMotion() {
  return typeof matchMedia === "function" && matchMedia("(prefers-reduced-motion: reduce)").matches;
}

/** The words for a phase of the pacer. */
function phaseWords(phase) {
  if (phase === "inhale") return t("Breathe in");
  if (phase === "exhale") return t("Breathe out");
  if (phase === "hold" || phase === "hold2") return t("Hold");
  if (phase === "done") return t("Well done!");
  return t("Ready?");
}

/** ctx: {goHome, breathed(item, rounds)}. Returns {root, update(prog), leave()}. */
export function breatheScreen(item, ctx) {
  const timing = (item.timing || [4, 0, 6, 0]).map((n) => Math.max(0, Number(n) || 0));
  const total = Math.max(1, Math.min(MAX_ROUNDS, item.rounds || 5));
  // The flower visual draws a picture of the catalog; the others are drawn in place.
  const visual = makeVisual(item.visual, {"calm-tulip": {url: "/pictures/calm-tulip.svg"}});
  let startedAt = null;     // performance.now() at Start, null when not running
  let frame = 0;
  let last = {phase: "idle", round: 0};

  const word = el("p", {class: "hp-breathe-word", "aria-live": "polite"}, phaseWords("idle"));
  const dots = el("div", {class: "hp-dots hp-round-dots", role: "img"});
  const start = bigButton("breathe-start", "play", t("Start"), {class: "hp-btn hp-go"});
  const stop = bigButton("breathe-stop", "stop", t("Stop"), {class: "hp-btn hp-stop"});
  start.addEventListener("click", begin);
  stop.addEventListener("click", () => end(false));

  function drawDots(finished) {
    dots.replaceChildren(...Array.from({length: total}, (_, i) =>
      el("span", {class: "hp-dot" + (i < finished ? " on" : "")})));
    dots.setAttribute("aria-label", tn("{n} round of {total}", "{n} rounds of {total}", finished, {total}));
  }

  function paint(v) {
    visual.render({reduced: reducedMotion(), ...v});
  }

  function tick() {
    frame = 0;
    if (startedAt === null) return;
    const secs = (performance.now() - startedAt) / 1000;
    const [phase, progress, round] = phaseAt(timing, secs, total);
    if (phase !== last.phase) word.textContent = phaseWords(phase);
    if (round !== last.round || phase !== last.phase) drawDots(phase === "done" ? total : round);
    last = {phase, round};
    if (phase === "done") {
      paint({phase: "done", progress: 1, round: total, fill: 0, idle: false, done: true});
      end(true);
      return;
    }
    paint({phase, progress, round, fill: fullness(phase, progress), idle: false, done: false});
    frame = requestAnimationFrame(tick);
  }

  function begin() {
    if (startedAt !== null) return;
    startedAt = performance.now();
    last = {phase: "idle", round: 0};
    drawDots(0);
    start.hidden = true;
    stop.hidden = false;
    root.dataset.running = "true";
    stop.focus();
    tick();
  }

  /** Stop (or finished): report the whole rounds breathed, if any. */
  function end(finished) {
    if (startedAt === null) return;
    const secs = (performance.now() - startedAt) / 1000;
    const rounds = finished ? total : Math.min(total, phaseAt(timing, secs, total)[2]);
    startedAt = null;
    if (frame) cancelAnimationFrame(frame);
    frame = 0;
    root.dataset.running = "false";
    start.hidden = false;
    stop.hidden = true;
    start.querySelector(".hp-btn-label").textContent = t("Again");
    if (!finished) {
      word.textContent = phaseWords("idle");
      paint({phase: "idle", progress: 0, round: 0, fill: 0, idle: true, done: false});
    }
    if (document.activeElement === stop || document.activeElement === document.body) start.focus();
    if (rounds >= 1) ctx.breathed(item, Math.min(MAX_ROUNDS, rounds));
  }

  stop.hidden = true;
  const stage = el("div", {class: "hp-breathe-stage"}, visual.root);
  const root = el("section", {class: "hp-screen hp-breathe", dataset: {item: item.id, running: "false"}},
    screenHead(item.title, () => { end(false); ctx.goHome(); }),
    stage, word, dots, el("div", {class: "hp-breathe-bar"}, start, stop));
  drawDots(0);
  paint({phase: "idle", progress: 0, round: 0, fill: 0, idle: true, done: false});
  return {root, update() {}, leave: () => end(false)};
}
