// Home practice: small DOM helpers the screens share (the room's util.js pulls nothing
// else in, but this page wants its own button shapes).
import {el} from "../room/util.js";
import {pic} from "./pics.js";
import {t} from "../room/i18n.js";

export {el};

/** A big button: picture `picName` (or none) and words `label`, data-action `action`. */
export function bigButton(action, picName, label, attrs = {}) {
  return el("button", {type: "button", class: "hp-btn", dataset: {action}, ...attrs},
    picName ? pic(picName, "hp-btn-pic") : null,
    el("span", {class: "hp-btn-label"}, label));
}

/** The top bar of an item's screen: the Home button and the item's title (h1). */
export function screenHead(title, goHome) {
  const home = bigButton("home", "home", t("Home"), {class: "hp-btn hp-home"});
  home.addEventListener("click", goHome);
  return el("header", {class: "hp-head"}, home,
    el("h1", {class: "hp-title"}, title));
}

/** A picture of the pack ({src, alt}) as an <img>; alt "" when words beside it say it. */
export function packImage(p, cls, alt = p && p.alt) {
  if (!p || !p.src) return null;
  return el("img", {class: cls, src: p.src, alt: alt || "", draggable: "false", decoding: "async"});
}
