// Home practice (issue 17 part 3): the page a family opens from a link (/h/<token>/)
// on a phone, with no account and no live session. Big picture tiles, one per item of
// the pack (story, steps, breathing, check-in); each opens its own screen.
//
// Offline once opened: a service worker (sw.js) keeps the page, its modules and its
// pictures. What the child does is queued in localStorage (queue.js) and sent to
// urls.ops when the phone is online; what the page shows is the server's log followed
// by the queued actions, through the model (model.js), so nothing done offline is lost
// on a reload. A 410 or 404 (the link switched off or expired) ends it all: the queue,
// the caches and the service worker of this home are cleared.
//
// Test hooks: [data-status] ("queued" | "sent" | "offline" | "ended") and
// body[data-queue] (actions not yet sent), body[data-sw] ("ready" once controlled).
import {itemProgress, progress, queuedEntries} from "./model.js";
import {OpQueue, randomId} from "./queue.js";
import {el} from "./ui.js";
import {pic} from "./pics.js";
import {storyScreen} from "./story.js";
import {stepsScreen} from "./steps.js";
import {breatheScreen} from "./breathe.js";
import {checkinScreen} from "./feelings.js";
import {t, tn} from "../room/i18n.js";

const RETRY_MS = 20000;
const TILE_PICS = {story: "story", steps: "steps", breathe: "breathe", checkin: "checkin"};
const SCREENS = {story: storyScreen, steps: stepsScreen, breathe: breatheScreen, checkin: checkinScreen};

const config = JSON.parse(document.getElementById("playroom-config").textContent);
const urls = config.urls;
const main = document.getElementById("home");
const visit = randomId(16);          // this sitting; made once per page load

let pack = config.pack;
let serverLog = Array.isArray(config.log) ? config.log : [];

// The last log the server sent, kept on this phone: a page opened offline comes from
// the service worker's copy, whose log may be older. A pack's log only grows, so the
// longer of the two for the same pack is the newer.
const LOG_KEY = `playroom-home:log:${urls.scope}`;

function loadKnownLog() {
  try {
    const known = JSON.parse(localStorage.getItem(LOG_KEY) || "null");
    if (known && known.pack === pack.id && Array.isArray(known.log) && known.log.length > serverLog.length) {
      serverLog = known.log;
    }
  } catch { /* nothing kept */ }
}

function setServerLog(log) {
  serverLog = log;
  try {
    localStorage.setItem(LOG_KEY, JSON.stringify({pack: pack.id, log}));
  } catch { /* storage full or off: the page still shows it */ }
}
let screen = null;                   // the open item's screen, or null on the tiles
let opening = false;                 // a screen is being built (it may report a page)
let ended = false;
let sendFailed = false;              // the last try to send did not get through
const readThisVisit = new Set();     // "item:page" reported in this visit

const statusBox = el("div", {class: "hp-status", role: "status", "aria-live": "polite", dataset: {status: ""}});
const view = el("div", {class: "hp-view"});
main.replaceChildren(view, statusBox);

const queue = new OpQueue(`playroom-home:queue:${urls.scope}`, urls.ops, {
  onChange: () => { showStatus(); refresh(); },
  onSent(log, settled) {
    sendFailed = false;
    setServerLog(log || [...serverLog, ...settled.map((op) => op.d)]);
    showStatus(queue.size ? null : "sent");
    refresh();
  },
  onFailed() {
    sendFailed = true;
    showStatus();
  },
  onEnded: (body) => end(body),
});

// ------------------------------------------------------------------ what is done

function currentProgress() {
  return progress(pack, [...serverLog, ...queuedEntries(pack, queue.all())]);
}

/** Queue one action of the child (`fields`: what, and its own values) and send it. */
function act(item, fields) {
  if (ended) return;
  queue.add({pack: pack.id, visit, item: item.id, ...fields, when: Date.now()});
  queue.flush();
}

const ctx = {
  lang: config.lang || pack.lang,
  goHome,
  read(item, page) {
    const key = `${item.id}:${page}`;
    if (readThisVisit.has(key)) return;        // at most one per page per visit
    readThisVisit.add(key);
    act(item, {what: "read", page});
  },
  step: (item, step, done) => act(item, {what: "step", step, done}),
  breathed: (item, rounds) => act(item, {what: "breathe", rounds}),
  feel: (item, value) => act(item, {what: "checkin", value}),
};

// ------------------------------------------------------------------ the screens

function tileBadge(item, prog) {
  const {done, total} = itemProgress(item, prog);
  if (item.kind === "checkin") {
    if (!done) return null;
    return el("span", {class: "hp-badge hp-badge-done"}, pic("check", "hp-badge-pic"),
      el("span", {class: "hp-visually-hidden"}, t("Done")));
  }
  if (item.kind === "breathe") {
    if (!done) return null;
    return el("span", {class: "hp-badge"}, tn("{n} round", "{n} rounds", done));
  }
  const complete = total > 0 && done >= total;
  return el("span", {class: "hp-badge" + (complete ? " hp-badge-done" : "")},
    complete ? pic("check", "hp-badge-pic") : null,
    el("span", {"aria-hidden": "true"}, `${done}/${total}`),
    el("span", {class: "hp-visually-hidden"}, t("{done} of {total}", {done, total})));
}

function renderTiles() {
  const prog = currentProgress();
  const had = document.activeElement?.dataset?.action === "open" ? document.activeElement.dataset.item : null;
  const tiles = (pack.items || []).filter((item) => SCREENS[item.kind]).map((item) => {
    const b = el("button", {type: "button", class: "hp-tile hp-tile-" + item.kind,
      dataset: {action: "open", item: item.id, kind: item.kind}},
    pic(TILE_PICS[item.kind], "hp-tile-pic"),
    el("span", {class: "hp-tile-title"}, item.title),
    tileBadge(item, prog));
    b.addEventListener("click", () => open(item.id, true));
    return b;
  });
  const heading = el("h1", {class: "hp-hello"}, t("Time to practise!"));
  view.replaceChildren(el("section", {class: "hp-screen hp-tiles-screen"}, heading,
    el("div", {class: "hp-tiles", dataset: {count: String(tiles.length)}}, ...tiles)));
  document.body.dataset.screen = "home";
  if (had) view.querySelector(`[data-action=open][data-item="${CSS.escape(had)}"]`)?.focus();
}

function open(itemId, push) {
  const item = (pack.items || []).find((i) => i.id === itemId);
  if (!item || !SCREENS[item.kind] || ended) return false;
  if (screen) screen.leave();
  screen = null;
  if (push) history.pushState({item: item.id}, "", `#${item.id}`);
  opening = true;
  try {
    screen = SCREENS[item.kind](item, ctx, currentProgress());
  } finally {
    opening = false;
  }
  view.replaceChildren(screen.root);
  document.body.dataset.screen = item.id;
  window.scrollTo(0, 0);
  if (push) screen.root.querySelector("[data-action=home]")?.focus();
  return true;
}

function showHome(focus) {
  const from = screen && screen.root.dataset.item;
  if (screen) screen.leave();
  screen = null;
  if (ended) return;
  renderTiles();
  window.scrollTo(0, 0);
  // Back on the tiles, the keyboard is where it left: on the tile of that item.
  if (focus && from) view.querySelector(`[data-action=open][data-item="${CSS.escape(from)}"]`)?.focus();
}

function goHome() {
  // Back where the tile pushed the item's entry, so the phone's Back stays in step.
  if (history.state && history.state.item) history.back();
  else {
    history.replaceState(null, "", location.pathname + location.search);
    showHome(true);
  }
}

/** Show what the address names (#item, or the tiles); `focus`: after the phone's Back. */
function route(focus) {
  const id = decodeURIComponent(location.hash.slice(1));
  if (!id || !open(id, false)) showHome(focus);
}

/** A page (re)load starts a sitting on the tiles, whatever item the address named. */
function start() {
  if (location.hash) history.replaceState(null, "", location.pathname + location.search);
  showHome(false);
}

/** Redraw what the open screen shows from the current progress. */
function refresh() {
  if (ended || opening) return;
  if (screen) screen.update(currentProgress());
  else renderTiles();
}

// ------------------------------------------------------------------ status line

/** The calm line saying whether what was done has reached the therapist. */
function showStatus(kind) {
  const n = queue.size;
  document.body.dataset.queue = String(n);
  if (ended) return;
  const online = navigator.onLine !== false;
  let state = statusBox.dataset.status;
  if (kind) state = kind;
  else if (n > 0) state = "queued";
  else if (!online) state = "offline";
  else if (state === "queued" || state === "offline") state = "";
  statusBox.dataset.status = state;
  statusBox.classList.toggle("hp-status-fade", state === "sent");
  if (state === "queued" && online && !sendFailed) {
    statusBox.replaceChildren(el("span", {class: "hp-status-text"}, t("Sending…")));
  } else if (state === "queued") {
    statusBox.replaceChildren(pic("saved", "hp-status-pic"), el("span", {class: "hp-status-text"},
      online ? t("Saved on this phone. It will be sent soon.")
        : t("Saved on this phone. It will be sent when you are back online.")));
  } else if (state === "offline") {
    statusBox.replaceChildren(pic("saved", "hp-status-pic"),
      el("span", {class: "hp-status-text"}, t("No internet. You can still practise.")));
  } else if (state === "sent") {
    statusBox.replaceChildren(pic("sent", "hp-status-pic"), el("span", {class: "hp-status-text"}, t("Sent")));
  } else {
    statusBox.replaceChildren();
  }
}

// ------------------------------------------------------------------ the link has ended

/** Forget this home on this phone: queue, caches and service worker of its scope. */
async function forgetHome() {
  queue.clear();
  try { localStorage.removeItem(LOG_KEY); } catch { /* nothing kept */ }
  try {
    if ("caches" in window) {
      const names = await caches.keys();
      await Promise.all(names.filter((n) => n.startsWith("playroom-home") && n.endsWith(`:${urls.scope}`))
        .map((n) => caches.delete(n)));
    }
  } catch { /* nothing more to clear */ }
  try {
    if ("serviceWorker" in navigator) {
      const regs = await navigator.serviceWorker.getRegistrations();
      const scope = new URL(urls.scope, location.href).href;
      await Promise.all(regs.filter((r) => r.scope === scope).map((r) => r.unregister()));
    }
  } catch { /* nothing more to clear */ }
}

async function end(body) {
  if (ended) return;
  ended = true;
  if (screen) screen.leave();
  screen = null;
  const message = (body && typeof body.message === "string" && body.message) || t("This link has ended.");
  view.replaceChildren(el("section", {class: "hp-screen hp-ended"}, pic("ended", "hp-ended-pic"),
    el("h1", {}, message)));
  statusBox.dataset.status = "ended";
  statusBox.classList.remove("hp-status-fade");
  // For the parent: what was waiting on this phone is not sent any more.
  statusBox.replaceChildren(el("span", {class: "hp-status-text"}, t("Nothing more will be sent from this phone.")));
  document.body.dataset.screen = "ended";
  document.body.dataset.queue = "0";
  await forgetHome();
  // The server answers the page itself with its friendly page now; show that.
  setTimeout(() => location.reload(), 2500);
}

// ------------------------------------------------------------------ fresh from the server

/** Ask for the pack and its log (someone may have changed it); 410/404: ended. */
async function refreshPack() {
  if (ended || navigator.onLine === false) return;
  let res;
  try {
    res = await fetch(urls.pack, {cache: "no-store", credentials: "same-origin"});
  } catch {
    return;
  }
  if (res.status === 410 || res.status === 404) {
    let body = {};
    try { body = await res.json(); } catch { /* the body is not needed */ }
    queue.ended = true;
    end(body);
    return;
  }
  if (!res.ok) return;
  let fresh;
  try { fresh = await res.json(); } catch { return; }
  if (!fresh || !fresh.pack || !Array.isArray(fresh.pack.items)) return;
  const changed = fresh.pack.id !== pack.id;
  if (changed) pack = fresh.pack;
  if (Array.isArray(fresh.log)) setServerLog(fresh.log);
  if (changed) {
    // A new pack: the tiles show it; an open screen of the old one goes home.
    readThisVisit.clear();
    if (screen) goHome();
    else renderTiles();
  } else {
    refresh();
  }
}

// ------------------------------------------------------------------ start

function registerWorker() {
  if (!("serviceWorker" in navigator) || !urls.sw) return;
  navigator.serviceWorker.register(urls.sw, {scope: urls.scope}).catch(() => {
    /* no offline copy then; the page still works online */
  });
  navigator.serviceWorker.ready.then(() => {
    const mark = () => { if (navigator.serviceWorker.controller) document.body.dataset.sw = "ready"; };
    mark();
    navigator.serviceWorker.addEventListener("controllerchange", mark);
  });
}

window.addEventListener("popstate", () => route(true));
window.addEventListener("online", () => {
  sendFailed = false;
  showStatus();
  queue.flush();
  refreshPack();
});
window.addEventListener("offline", () => showStatus());
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible" && queue.size) queue.flush();
});
setInterval(() => {
  if (!ended && queue.size) queue.flush();
}, RETRY_MS);

document.body.dataset.queue = "0";
loadKnownLog();
start();
showStatus();
queue.flush().then(refreshPack);
registerWorker();
