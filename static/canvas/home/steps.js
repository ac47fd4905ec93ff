// Home practice: a schedule or checklist. One big card per step (picture and words);
// a tap ticks it or takes the tick away, and "All done!" cheers when every step is.
import {el, packImage, screenHead} from "./ui.js";
import {pic} from "./pics.js";
import {t} from "../room/i18n.js";

/** ctx: {goHome, step(item, index, done)}. Returns {root, update(prog), leave()}. */
export function stepsScreen(item, ctx, prog) {
  const steps = item.steps || [];
  const cards = steps.map((s, i) => {
    const words = (s.text || "").trim();
    // The words name the step; a step of only a picture is named by the picture.
    const alt = words ? "" : (s.pic && s.pic.alt) || "";
    const card = el("button", {type: "button", class: "hp-step", dataset: {action: "step", step: String(i)},
      "aria-pressed": "false", "aria-label": words || alt ? null : t("Step {n}", {n: i + 1})},
    el("span", {class: "hp-step-num", "aria-hidden": "true"}, String(i + 1)),
    packImage(s.pic, "hp-step-pic", alt) || el("span", {class: "hp-step-pic hp-step-nopic", "aria-hidden": "true"}),
    el("span", {class: "hp-step-text"}, words),
    el("span", {class: "hp-step-mark"}, pic("box", "hp-mark-box"), pic("check", "hp-mark-check")));
    card.addEventListener("click", () => ctx.step(item, i, card.getAttribute("aria-pressed") !== "true"));
    return card;
  });
  const cheer = el("div", {class: "hp-cheer", role: "status"});
  const list = el("ol", {class: "hp-steps"}, ...cards.map((c) => el("li", {}, c)));

  function update(p) {
    const done = p.steps[item.id] || [];
    cards.forEach((c, i) => {
      c.setAttribute("aria-pressed", done[i] ? "true" : "false");
      c.classList.toggle("done", Boolean(done[i]));
    });
    const all = steps.length > 0 && done.every(Boolean);
    cheer.replaceChildren(...(all ? [pic("party", "hp-cheer-pic"), el("span", {}, t("All done!"))] : []));
    cheer.classList.toggle("on", all);
  }

  const root = el("section", {class: "hp-screen hp-steps-screen", dataset: {item: item.id}},
    screenHead(item.title, ctx.goHome), list, cheer);
  update(prog);
  return {root, update, leave() {}};
}
