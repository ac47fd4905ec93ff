// Small DOM and id helpers shared by the room's modules. No room state lives here.

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** A random id of `n` letters/digits (crypto quality; works without a secure context). */
export function randomId(n = 16) {
  const bytes = new Uint8Array(n);
  crypto.getRandomValues(bytes);
  let out = "";
  for (const b of bytes) out += ALPHABET[b % ALPHABET.length];
  return out;
}

/**
 * el("button", {class: "x", dataset: {tool: "pen"}, onclick: fn}, child, "text")
 * Attributes whose value is null/undefined/false are skipped; true sets an empty attribute.
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "dataset") Object.assign(node.dataset, v);
    else if (k === "style" && typeof v === "object") {
      for (const [prop, val] of Object.entries(v)) {
        if (prop.startsWith("--")) node.style.setProperty(prop, val);
        else node.style[prop] = val;
      }
    }
    else if (k.startsWith("on") && typeof v === "function") node.addEventListener(k.slice(2), v);
    else if (k === "html") node.innerHTML = v;
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

/** A <span> (class `cls`, aria-hidden: a picture only) holding an inline SVG of
 *  `markup` in a `box`×`box` view box: the icons of the room, the calm corner and
 *  the home page draw their pictures this way. */
export function svgSpan(markup, cls, box = 24) {
  const span = document.createElement("span");
  span.className = cls;
  span.setAttribute("aria-hidden", "true");
  span.innerHTML = `<svg viewBox="0 0 ${box} ${box}" width="100%" height="100%" focusable="false">${markup}</svg>`;
  return span;
}

/** An <img> of a picture from the page config (never an emoji from the device font). */
export function picture(pictures, id, cls = "pic", alt = "") {
  const p = pictures[id];
  if (!p) return el("span", {class: cls + " pic-missing", "aria-hidden": "true"});
  return el("img", {class: cls, src: p.url, alt, draggable: "false"});
}

export const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
export const round1 = (v) => Math.round(v * 10) / 10;
export const round2 = (v) => Math.round(v * 100) / 100;

/**
 * Unsent words in editor fields that are rebuilt when the room changes. A field sends
 * on "change" (blur or Enter); if a change from someone else rebuilds the panel first,
 * what was typed, and the focus and caret, must survive. Keys name the thing edited
 * ("text:<story>:<page>"), so a draft never lands in another item's field.
 */
export class Drafts {
  constructor() {
    this.values = new Map();
  }

  /** Call while building `field` (before it is in the page) with the room's value. */
  keep(field, key, sent) {
    const draft = this.values.get(key);
    if (draft !== undefined && draft !== sent) field.value = draft;
    else this.values.delete(key);
    field.addEventListener("input", () => this.values.set(key, field.value));
    field.addEventListener("change", () => this.values.delete(key));
    const was = document.activeElement;
    if (was && was !== field && was.dataset && was.dataset.draft === key) {
      const [from, to] = [was.selectionStart, was.selectionEnd];
      queueMicrotask(() => {
        if (!field.isConnected) return;
        field.focus();
        try { field.setSelectionRange(from, to); } catch { /* not a text field */ }
      });
    }
    field.dataset.draft = key;
  }
}
