// Inline SVG icons (24×24) for the sand tray's buttons: pictures, not words, so a
// child who cannot read still finds them. Shared icons (undo, redo, trash, download,
// eye, plus) come from icons.js.
import {icon as sharedIcon} from "../room/icons.js";

const S = 'fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" stroke-linejoin="round"';  // i18n-ok
const F = 'fill="currentColor" stroke="currentColor" stroke-width="1.6" stroke-linejoin="round"';  // i18n-ok

// SVG markup, not words: every line of it ends with "// i18n-ok".
const PATHS = {
  hand: `<path d="M6 3.5l12.5 7.3-5.6 1.6-2.4 5.6z" ${F}/><path d="M12.6 12.6l5 5" ${S}/>`,  // i18n-ok
  dig: `<path d="M19.5 3.5l-9 9" ${S} stroke-width="2.6"/><path d="M17 2.5l4.5 4.5" ${S}/>` +  // i18n-ok
    `<path d="M10.5 12.5l-1.5-1.5-5 4.5c-1.6 1.6-.6 4.3 1.5 4.5s3.7-.7 4.9-1.9l3.6-4.6z" ${F}/>`,  // i18n-ok
  raise: `<path d="M1.5 21c3.5-8 17.5-8 21 0z" ${F}/><path d="M12 3v8M8.5 6.5L12 3l3.5 3.5" ${S}/>`,  // i18n-ok
  smooth: `<path d="M12 2.5v10" ${S} stroke-width="2.6"/><path d="M4 12.5h16" ${S}/>` +  // i18n-ok
    `<path d="M5 12.5v5M9 12.5v5M13 12.5v5M17 12.5v5M19.5 12.5v5" ${S}/><path d="M2 21h20" ${S} opacity=".55"/>`,  // i18n-ok
  rotl: `<path d="M5.5 13a7 7 0 1 0 2.3-6.2" ${S} stroke-width="2.6"/><path d="M4 3.5v5.3h5.3" ${S} stroke-width="2.6"/>`,  // i18n-ok
  rotr: `<path d="M18.5 13a7 7 0 1 1-2.3-6.2" ${S} stroke-width="2.6"/><path d="M20 3.5v5.3h-5.3" ${S} stroke-width="2.6"/>`,  // i18n-ok
  bigger: `<rect x="2.5" y="2.5" width="19" height="19" rx="3" ${S}/><path d="M12 7v10M7 12h10" ${S} stroke-width="3"/>`,  // i18n-ok
  smaller: `<rect x="6" y="6" width="12" height="12" rx="2.5" ${S}/><path d="M9 12h6" ${S} stroke-width="3"/>`,  // i18n-ok
  flip: `<path d="M12 2.5v19" ${S} stroke-dasharray="2.5 2.5"/><path d="M9 6.5L3 18h6z" ${S}/><path d="M15 6.5L21 18h-6z" ${F}/>`,  // i18n-ok
  lie: `<path d="M2 19h20" ${S}/><circle cx="5.5" cy="13.5" r="2.5" ${F}/><path d="M9.5 14h11M13 14l-2 4M17.5 14l2 4" ${S}/>`,  // i18n-ok
  stand: `<path d="M4 22h16" ${S}/><circle cx="12" cy="4.5" r="2.5" ${F}/><path d="M12 8v8M12 16l-3 5M12 16l3 5M8 11h8" ${S}/>`,  // i18n-ok
  front: `<rect x="2.5" y="2.5" width="12" height="12" rx="2" ${S}/><rect x="9.5" y="9.5" width="12" height="12" rx="2" ${F}/>`,  // i18n-ok
  back: `<rect x="9.5" y="9.5" width="12" height="12" rx="2" ${F}/><rect x="2.5" y="2.5" width="12" height="12" rx="2" fill="#fff" stroke="currentColor" stroke-width="2.2"/>`,  // i18n-ok
  duplicate: `<rect x="2.5" y="2.5" width="13" height="13" rx="2" ${S}/><rect x="8.5" y="8.5" width="13" height="13" rx="2" fill="#fff" stroke="currentColor" stroke-width="2.2"/>` +  // i18n-ok
    `<path d="M15 12v6M12 15h6" ${S}/>`,  // i18n-ok
  bury: `<path d="M12 2.5v9M8.5 8L12 11.5 15.5 8" ${S} stroke-width="2.6"/><path d="M1.5 21.5c3-7 18-7 21 0z" ${F}/>`,  // i18n-ok
  unbury: `<path d="M12 2.5v9M8.5 6L12 2.5 15.5 6" ${S} stroke-width="2.6"/><path d="M1.5 21.5c3-7 18-7 21 0z" ${F}/>`,  // i18n-ok
  move: `<path d="M12 2.5v19M2.5 12h19" ${S}/><path d="M9 5.5l3-3 3 3M9 18.5l3 3 3-3M5.5 9l-3 3 3 3M18.5 9l3 3-3 3" ${S}/>`,  // i18n-ok
  camera: `<rect x="2.5" y="6.5" width="19" height="14" rx="2.5" ${S}/><circle cx="12" cy="13.5" r="3.8" ${S}/><path d="M8 6.5l1.8-3h4.4l1.8 3" ${S}/>`,  // i18n-ok
  newtray: `<rect x="2.5" y="5" width="19" height="15" rx="2.5" ${S}/><path d="M12 9v7.5M8.2 12.7h7.6" ${S} stroke-width="2.6"/>`,  // i18n-ok
  trays: `<rect x="6.5" y="3" width="15" height="11" rx="2" ${S}/><rect x="2.5" y="9" width="15" height="11" rx="2" fill="#fff" stroke="currentColor" stroke-width="2.2"/>` +  // i18n-ok
    `<path d="M5 17.5l3.5-4 3 3 2-2 2.5 3" ${S} stroke-width="1.6"/>`,  // i18n-ok
  search: `<circle cx="10" cy="10" r="6.5" ${S}/><path d="M15 15l6 6" ${S} stroke-width="2.8"/>`,  // i18n-ok
  clock: `<circle cx="12" cy="12" r="9" ${S}/><path d="M12 7v5l3.5 2" ${S}/>`,  // i18n-ok
  theme: `<path d="M2 17c3-3 6-3 10 0s7 3 10 0v5H2z" ${F}/><path d="M2 11c3-3 6-3 10 0s7 3 10 0" ${S}/><circle cx="17" cy="5" r="2.5" ${S}/>`,  // i18n-ok
};

/** An inline SVG icon; names not drawn here fall back to the shared set. */
export function icon(name, cls = "icon") {
  if (!PATHS[name]) return sharedIcon(name, cls);
  const span = document.createElement("span");
  span.className = cls;
  span.setAttribute("aria-hidden", "true");
  span.innerHTML = `<svg viewBox="0 0 24 24" width="100%" height="100%" focusable="false">${PATHS[name]}</svg>`;  // i18n-ok
  return span;
}
