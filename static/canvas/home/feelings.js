// Home practice: "How do you feel?" Five big faces; a tap chooses one (and sends it),
// another tap changes the choice (sent again: the record keeps the last of a visit).
import {el, packImage, screenHead} from "./ui.js";
import {t} from "../room/i18n.js";

/** ctx: {goHome, feel(item, value)}. Returns {root, update(prog), leave()}. */
export function checkinScreen(item, ctx, prog) {
  const faces = (item.faces || []).filter((f) => Number.isInteger(f.value));
  const buttons = faces.map((f) => {
    const word = f.word || (f.pic && f.pic.alt) || String(f.value);
    const b = el("button", {type: "button", class: "hp-face", dataset: {action: "feel", value: String(f.value)},
      "aria-pressed": "false", style: {"--face": f.color || "#2f6fde"}},
    packImage(f.pic, "hp-face-pic", "") || el("span", {class: "hp-face-pic", "aria-hidden": "true"}),
    el("span", {class: "hp-face-word"}, word));
    // The face already chosen says nothing new when tapped again.
    b.addEventListener("click", () => { if (b.getAttribute("aria-pressed") !== "true") ctx.feel(item, f.value); });
    return b;
  });
  const thanks = el("p", {class: "hp-thanks", role: "status"});

  function update(p) {
    const chosen = p.feeling[item.id];
    for (const b of buttons) {
      const on = Number(b.dataset.value) === chosen;
      b.setAttribute("aria-pressed", on ? "true" : "false");
      b.classList.toggle("on", on);
    }
    thanks.textContent = chosen ? t("Thank you for telling me!") : "";
  }

  const root = el("section", {class: "hp-screen hp-checkin", dataset: {item: item.id}},
    screenHead(item.title, ctx.goHome),
    el("div", {class: "hp-faces", role: "group", "aria-label": item.title}, ...buttons), thanks);
  update(prog);
  return {root, update, leave() {}};
}
