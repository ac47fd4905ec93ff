// Home practice: the page's own pictures, drawn inline (64×64 SVG), so the tiles and
// buttons need no file and look the same offline. Pictures only (aria-hidden): the
// control holding one names it. SVG markup is not words, hence `// i18n-ok`.
import {svgSpan} from "../room/util.js";

const PICS = {
  // A story: an open book.
  story: `<path d="M6 14 Q19 8 32 16 Q45 8 58 14 V52 Q45 46 32 54 Q19 46 6 52 Z" fill="#fff3e0" stroke="#8d6e63" stroke-width="3" stroke-linejoin="round"/>` +  // i18n-ok
    `<path d="M32 16 V54" stroke="#8d6e63" stroke-width="3"/>` +  // i18n-ok
    `<path d="M12 22 Q19 19 26 22 M12 30 Q19 27 26 30 M12 38 Q19 35 26 38 M38 22 Q45 19 52 22 M38 30 Q45 27 52 30" stroke="#bcaaa4" stroke-width="2.5" fill="none" stroke-linecap="round"/>`,  // i18n-ok
  // Steps: a list with ticks.
  steps: `<rect x="10" y="6" width="44" height="54" rx="7" fill="#e3f2fd" stroke="#1e88e5" stroke-width="3"/>` +  // i18n-ok
    `<path d="M17 19 l4 4 l7 -8 M17 33 l4 4 l7 -8" stroke="#2e7d32" stroke-width="4" fill="none" stroke-linecap="round" stroke-linejoin="round"/>` +  // i18n-ok
    `<rect x="17" y="43" width="10" height="10" rx="2" fill="#fff" stroke="#1e88e5" stroke-width="2.5"/>` +  // i18n-ok
    `<path d="M33 19 H47 M33 33 H47 M33 48 H47" stroke="#1e88e5" stroke-width="4" stroke-linecap="round"/>`,  // i18n-ok
  // Breathing: a balloon on a string.
  breathe: `<path d="M32 6 C18 6 12 17 12 26 C12 38 24 46 32 47 C40 46 52 38 52 26 C52 17 46 6 32 6 Z" fill="#ef5350"/>` +  // i18n-ok
    `<ellipse cx="24" cy="18" rx="4" ry="7" fill="#fff" opacity="0.5" transform="rotate(-25 24 18)"/>` +  // i18n-ok
    `<path d="M29 47 H35 L36 51 H28 Z" fill="#c62828"/>` +  // i18n-ok
    `<path d="M32 51 C27 55 37 58 31 62" stroke="#5b6b8c" stroke-width="2.5" fill="none" stroke-linecap="round"/>`,  // i18n-ok
  // Check-in: a smiling face.
  checkin: `<circle cx="32" cy="32" r="27" fill="#ffca28" stroke="#f9a825" stroke-width="3"/>` +  // i18n-ok
    `<circle cx="23" cy="27" r="4" fill="#5d4037"/><circle cx="41" cy="27" r="4" fill="#5d4037"/>` +  // i18n-ok
    `<path d="M20 38 Q32 50 44 38" stroke="#5d4037" stroke-width="4" fill="none" stroke-linecap="round"/>`,  // i18n-ok
  // A big tick.
  check: `<circle cx="32" cy="32" r="28" fill="#2e7d32"/>` +  // i18n-ok
    `<path d="M18 33 L28 43 L47 22" stroke="#fff" stroke-width="7" fill="none" stroke-linecap="round" stroke-linejoin="round"/>`,  // i18n-ok
  // An empty box to tick.
  box: `<rect x="6" y="6" width="52" height="52" rx="12" fill="#fff" stroke="#90a4ae" stroke-width="4"/>`,  // i18n-ok
  // Home: a little house.
  home: `<path d="M8 30 L32 9 L56 30" stroke="currentColor" stroke-width="6" fill="none" stroke-linecap="round" stroke-linejoin="round"/>` +  // i18n-ok
    `<path d="M15 27 V54 H27 V40 H37 V54 H49 V27" stroke="currentColor" stroke-width="6" fill="none" stroke-linejoin="round"/>`,  // i18n-ok
  prev: `<path d="M40 10 L18 32 L40 54" stroke="currentColor" stroke-width="8" fill="none" stroke-linecap="round" stroke-linejoin="round"/>`,  // i18n-ok
  next: `<path d="M24 10 L46 32 L24 54" stroke="currentColor" stroke-width="8" fill="none" stroke-linecap="round" stroke-linejoin="round"/>`,  // i18n-ok
  // Read aloud: a speaker with sound waves.
  speak: `<path d="M8 24 H20 L34 12 V52 L20 40 H8 Z" fill="currentColor"/>` +  // i18n-ok
    `<path d="M42 22 Q48 32 42 42 M49 15 Q60 32 49 49" stroke="currentColor" stroke-width="5" fill="none" stroke-linecap="round"/>`,  // i18n-ok
  play: `<path d="M18 10 L54 32 L18 54 Z" fill="currentColor" stroke="currentColor" stroke-width="4" stroke-linejoin="round"/>`,  // i18n-ok
  stop: `<rect x="14" y="14" width="36" height="36" rx="6" fill="currentColor"/>`,  // i18n-ok
  // Saved on this phone: a phone with a cloud waiting above it.
  saved: `<rect x="18" y="20" width="28" height="42" rx="5" fill="#e3f2fd" stroke="#1e88e5" stroke-width="3"/>` +  // i18n-ok
    `<path d="M26 41 l5 5 l9 -10" stroke="#2e7d32" stroke-width="4" fill="none" stroke-linecap="round" stroke-linejoin="round"/>` +  // i18n-ok
    `<path d="M20 15 a7 7 0 0 1 12 -6 a6 6 0 0 1 11 3 a5 5 0 0 1 0 10 H22 a5 5 0 0 1 -2 -7 Z" fill="#cfd8dc"/>`,  // i18n-ok
  // Sent: a cloud with a tick.
  sent: `<path d="M14 46 a10 10 0 0 1 4 -19 a14 14 0 0 1 27 -4 a11 11 0 0 1 5 23 Z" fill="#c8e6c9" stroke="#2e7d32" stroke-width="3" stroke-linejoin="round"/>` +  // i18n-ok
    `<path d="M24 35 l6 6 l11 -12" stroke="#2e7d32" stroke-width="4" fill="none" stroke-linecap="round" stroke-linejoin="round"/>`,  // i18n-ok
  // The end of the link: a closed door.
  ended: `<rect x="16" y="6" width="32" height="54" rx="4" fill="#d7ccc8" stroke="#6d4c41" stroke-width="3"/>` +  // i18n-ok
    `<circle cx="40" cy="34" r="3" fill="#6d4c41"/>`,  // i18n-ok
  // Party: all done.
  party: `<path d="M10 56 L24 18 L46 40 Z" fill="#ffb300" stroke="#ef6c00" stroke-width="3" stroke-linejoin="round"/>` +  // i18n-ok
    `<circle cx="44" cy="12" r="4" fill="#e53935"/><circle cx="54" cy="26" r="4" fill="#1e88e5"/><circle cx="34" cy="8" r="3" fill="#43a047"/>` +  // i18n-ok
    `<path d="M30 24 Q36 14 30 6 M40 30 Q50 28 56 36" stroke="#8e24aa" stroke-width="3" fill="none" stroke-linecap="round"/>`,  // i18n-ok
};

/** A <span> holding picture `name` (aria-hidden), class `cls`. */
export function pic(name, cls = "hp-pic") {
  return svgSpan(PICS[name] || "", cls, 64);
}
