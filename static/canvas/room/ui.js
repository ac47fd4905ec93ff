// Small UI pieces shared by the activities (calm corner, check-in, stories, schedule):
// style sheet loading, a few extra inline icons and a big-button stepper. No state here.
import {t} from "./i18n.js";
import {el, svgSpan} from "./util.js";

const UI_CSS = "/static/canvas/room/ui.css";

/** Load a style sheet of static/canvas once (same origin only; the page CSP allows
 *  nothing else), after the shared pieces' sheet (room/ui.css) so an activity's
 *  rules come later in the cascade. `path` is relative to static/canvas/. */
export function loadStyle(path) {
  for (const href of [UI_CSS, path ? `/static/canvas/${path}` : null]) {
    if (!href || document.querySelector(`link[data-css="${href}"]`)) continue;
    document.head.append(el("link", {rel: "stylesheet", href, "data-css": href}));
  }
}

// Icons are pictures only (aria-hidden); their markup's numbers read like words to
// the i18n scanner, hence `// i18n-ok`.
const S = 'fill="none" stroke="currentColor" stroke-width="2.6" stroke-linecap="round" stroke-linejoin="round"';  // i18n-ok
const PATHS = {
  play: `<path d="M8 5.5v13l11-6.5z" fill="currentColor" stroke="currentColor" stroke-width="1.5" stroke-linejoin="round"/>`,  // i18n-ok
  pause: `<rect x="6" y="5" width="4" height="14" rx="1.2" fill="currentColor"/><rect x="14" y="5" width="4" height="14" rx="1.2" fill="currentColor"/>`,  // i18n-ok
  stop: `<rect x="6" y="6" width="12" height="12" rx="2" fill="currentColor"/>`,
  reset: `<path d="M5 12a7 7 0 1 0 2.2-5.1" ${S}/><path d="M5 4.5V9h4.5" ${S}/>`,  // i18n-ok
  minus: `<path d="M6 12h12" ${S} stroke-width="3"/>`,
  plus: `<path d="M12 6v12M6 12h12" ${S} stroke-width="3"/>`,
  up: `<path d="M6 14l6-6 6 6" ${S}/>`,
  down: `<path d="M6 10l6 6 6-6" ${S}/>`,
  next: `<path d="M9 5l7 7-7 7" ${S} stroke-width="3"/>`,
  back: `<path d="M15 5l-7 7 7 7" ${S} stroke-width="3"/>`,
  skip: `<circle cx="12" cy="12" r="8" ${S}/><path d="M6.5 17.5l11-11" ${S}/>`,  // i18n-ok
  numbers: `<text x="12" y="16.5" text-anchor="middle" font-size="11" font-weight="800" fill="currentColor" font-family="system-ui, sans-serif">123</text>`,  // i18n-ok
  save: `<path d="M5 4h11l3 3v13H5z" ${S}/><path d="M8 4v5h7V4M8 20v-6h8v6" ${S}/>`,
  edit: `<path d="M16 4l4 4L9 19H5v-4z" ${S}/>`,
  cross: `<path d="M7 7l10 10M17 7L7 17" ${S}/>`,
  check: `<path d="M5 12.5l4.5 4.5L19 7" ${S} stroke-width="3"/>`,  // i18n-ok
};

/** An inline SVG icon (24×24) for the calm corner's controls. */
export function calmIcon(name, cls = "icon") {
  return svgSpan(PATHS[name] || "", cls);
}

export function button(attrs, ...children) {
  return el("button", {type: "button", ...attrs}, ...children);
}

/**
 * − value + with big buttons. get() reads the value, set(v) changes it; `fmt`
 * shows it. Returns {el, update()}.
 */
export function stepper({label, get, set, min, max, step = 1, fmt = String, action}) {
  const value = el("span", {class: "calm-step-value", "aria-live": "polite"});
  const dec = button({class: "calm-btn round", "aria-label": t("{label}: less", {label}), title: t("Less"),
    dataset: {action: `${action}-less`}, onclick: () => set(Math.max(min, get() - step))}, calmIcon("minus"));
  const inc = button({class: "calm-btn round", "aria-label": t("{label}: more", {label}), title: t("More"),
    dataset: {action: `${action}-more`}, onclick: () => set(Math.min(max, get() + step))}, calmIcon("plus"));
  const root = el("div", {class: "calm-stepper", role: "group", "aria-label": label}, dec, value, inc);
  const update = () => {
    const v = get();
    value.textContent = fmt(v);
    dec.disabled = v <= min;
    inc.disabled = v >= max;
  };
  update();
  return {el: root, update};
}
