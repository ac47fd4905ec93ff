// Simple inline SVG icons (24×24). Parts filled with var(--pen) show the current colour.
// They are pictures only (aria-hidden): the control that holds one says what it does.
// The markup's numbers read like words to the i18n scanner, hence `// i18n-ok`.

import {svgSpan} from "./util.js";

const S = 'fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"';

const PATHS = {
  pen: [
    `<path d="M16.5 3.5l4 4L9 19l-5 1.5L5.5 15.5z" ${S}/>`,  // i18n-ok
    `<path d="M4 20.5l1.5-5 3.5 3.5z" fill="var(--pen, #333)" stroke="currentColor" stroke-width="1.5" stroke-linejoin="round"/>`,  // i18n-ok
    `<path d="M14 6l4 4" ${S}/>`,
  ].join(""),
  marker: [
    `<rect x="7" y="1.5" width="10" height="11" rx="2.5" ${S}/>`,  // i18n-ok
    `<path d="M6 12.5h12v3.5H6z" ${S}/>`,  // i18n-ok
    `<path d="M8 16h8l-1.8 6.5H9.8z" fill="var(--pen, #333)" stroke="currentColor" stroke-width="1.5" stroke-linejoin="round"/>`,  // i18n-ok
  ].join(""),
  highlighter: [
    `<rect x="1" y="20" width="22" height="3.5" rx="1.5" fill="var(--pen, #333)" opacity=".45"/>`,  // i18n-ok
    `<rect x="7" y="1" width="10" height="8.5" rx="2.5" ${S}/>`,  // i18n-ok
    `<path d="M6 9.5h12V13H6z" ${S}/>`,  // i18n-ok
    `<path d="M7.5 13h9v2.5l-9 3z" fill="var(--pen, #333)" opacity=".85" stroke="currentColor" stroke-width="1.5" stroke-linejoin="round"/>`,  // i18n-ok
  ].join(""),
  eraser: [
    `<path d="M8.5 20.5L3 15l10-10 8 8-7.5 7.5z" ${S}/>`,  // i18n-ok
    `<path d="M3 15l5.5-5.5 8 8-3 3H8.5z" fill="#f8bbd0" stroke="currentColor" stroke-width="2" stroke-linejoin="round"/>`,  // i18n-ok
    `<path d="M13 20.5h8" ${S}/>`,  // i18n-ok
  ].join(""),
  undo: `<path d="M9 14L4 9l5-5" ${S} stroke-width="2.6"/><path d="M4 9h10.5a5.5 5.5 0 0 1 0 11H11" ${S} stroke-width="2.6"/>`,  // i18n-ok
  redo: `<path d="M15 14l5-5-5-5" ${S} stroke-width="2.6"/><path d="M20 9H9.5a5.5 5.5 0 0 0 0 11H13" ${S} stroke-width="2.6"/>`,  // i18n-ok
  plus: `<path d="M12 5v14M5 12h14" ${S} stroke-width="2.6"/>`,  // i18n-ok
  trash: `<path d="M4 7h16M9.5 7V4.5h5V7M6 7l1 13h10l1-13M10 11v5M14 11v5" ${S}/>`,  // i18n-ok
  download: `<path d="M12 4v11M7 10.5l5 5 5-5M5 20h14" ${S}/>`,  // i18n-ok
  background: `<rect x="3" y="3" width="18" height="18" rx="3" ${S}/><path d="M3 9h18M3 15h18M9 3v18M15 3v18" fill="none" stroke="currentColor" stroke-width="1" opacity=".6"/>`,  // i18n-ok
  eye: `<path d="M2 12s3.6-6.5 10-6.5S22 12 22 12s-3.6 6.5-10 6.5S2 12 2 12z" ${S}/><circle cx="12" cy="12" r="3" ${S}/>`,  // i18n-ok
  check: `<path d="M5 12.5l4.5 4.5L19 7" ${S} stroke-width="3"/>`,  // i18n-ok
  cross: `<path d="M6 6l12 12M18 6L6 18" ${S} stroke-width="3"/>`,
  leave: `<path d="M14 4h5v16h-5M10 8l-4 4 4 4M6 12h10" ${S}/>`,
  close: `<path d="M7 7l10 10M17 7L7 17" ${S}/>`,
  // Turn an empty canvas page upright or sideways (issue 14): a page and a turning arrow.
  turn: `<rect x="3" y="8" width="10" height="14" rx="1.5" ${S}/><path d="M13 3.5a7.5 7.5 0 0 1 7.5 7.5M20.5 11l-2.2-2.2M20.5 11l2-2.4" ${S}/>`,  // i18n-ok
  // "Save to record" (the sand tray's snapshot camera, sandtray-icons.js).
  camera: `<rect x="2.5" y="6.5" width="19" height="14" rx="2.5" ${S}/><circle cx="12" cy="13.5" r="3.8" ${S}/><path d="M8 6.5l1.8-3h4.4l1.8 3" ${S}/>`,  // i18n-ok
};

/** An inline SVG icon element. */
export function icon(name, cls = "icon") {
  return svgSpan(PATHS[name] || "", cls);
}
