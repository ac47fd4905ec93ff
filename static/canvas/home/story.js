// Home practice: a story, one page at a time. Pictures big, the words below (their line
// breaks kept), Back / Next, page dots, and "Read to me" with a voice of the story's
// language on this device (none that sends the words away; no voice, no reading).
// Each page shown is reported once per visit ("read", the page index).
import {bigButton, el, packImage, screenHead} from "./ui.js";
import {localVoice} from "../room/cues.js";
import {t} from "../room/i18n.js";

/** ctx: {lang, goHome, read(item, page)}. Returns {root, update(prog), leave()}. */
export function storyScreen(item, ctx) {
  const pages = item.pages && item.pages.length ? item.pages : [{text: "", pics: []}];
  const lang = item.lang || ctx.lang;
  let page = 0;

  const pics = el("div", {class: "hp-story-pics"});
  const text = el("p", {class: "hp-story-text", lang});
  const dots = el("div", {class: "hp-dots", "aria-hidden": "true"});
  const where = el("p", {class: "hp-visually-hidden", "aria-live": "polite"});
  const hint = el("p", {class: "hp-hint", role: "status"});
  const prev = bigButton("prev", "prev", t("Back"), {class: "hp-btn hp-nav"});
  const next = bigButton("next", "next", t("Next"), {class: "hp-btn hp-nav"});
  const aloud = bigButton("read-aloud", "speak", t("Read to me"), {class: "hp-btn hp-aloud"});
  const theEnd = el("p", {class: "hp-the-end"}, t("The end"));

  prev.addEventListener("click", () => show(page - 1));
  next.addEventListener("click", () => show(page + 1));
  aloud.addEventListener("click", readAloud);

  function stopSpeaking() {
    if (typeof window !== "undefined" && "speechSynthesis" in window) window.speechSynthesis.cancel();
  }

  function readAloud() {
    hint.textContent = "";
    const words = (pages[page].text || "").trim();
    if (!words) return;
    const voice = localVoice(lang);
    if (!voice) {
      hint.textContent = t("This phone has no voice for this story.");
      return;
    }
    stopSpeaking();
    const u = new SpeechSynthesisUtterance(words);
    u.voice = voice;
    u.lang = voice.lang;
    u.rate = 0.85;       // a little slow: a child listens along
    window.speechSynthesis.speak(u);
  }

  function show(n) {
    page = Math.max(0, Math.min(pages.length - 1, n));
    stopSpeaking();
    hint.textContent = "";
    const p = pages[page];
    const list = (p.pics || []).filter((x) => x && x.src);
    pics.replaceChildren(...list.map((x) => packImage(x, "hp-story-pic")));
    pics.dataset.count = String(list.length);
    pics.hidden = !list.length;
    text.textContent = p.text || "";
    text.hidden = !p.text;
    dots.replaceChildren(...pages.map((_, i) =>
      el("span", {class: "hp-dot" + (i === page ? " on" : i < page ? " seen" : "")})));
    where.textContent = t("Page {n} of {total}", {n: page + 1, total: pages.length});
    prev.disabled = page === 0;
    next.disabled = page === pages.length - 1;
    theEnd.hidden = page !== pages.length - 1 || pages.length < 2;
    aloud.disabled = !(p.text || "").trim();
    ctx.read(item, page);
  }

  const root = el("section", {class: "hp-screen hp-story", dataset: {item: item.id}},
    screenHead(item.title, ctx.goHome),
    el("div", {class: "hp-story-page"}, pics, text, theEnd),
    el("div", {class: "hp-story-bar"}, prev, dots, next),
    el("div", {class: "hp-story-tools"}, aloud, hint), where);

  show(0);
  return {root, update() {}, leave: stopSpeaking};
}
