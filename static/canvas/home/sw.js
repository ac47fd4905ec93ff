// Home practice: the service worker of one home link. Flask serves it at
// /h/<token>/sw.js, so its scope is /h/<token>/ and it sees only that home's page
// (and what the page loads). It keeps the page, pack.json and every asset the pack
// names, so the page opens and works offline once it has been opened online.
//
// Network first, the cache when the network fails (or is very slow); a network 200
// for a URL in the cache refreshes it. A 410 or 404 for the page or pack.json means
// the link was switched off or has expired: this home's cache is deleted (and this
// worker unregisters), so nothing of it is left on the phone, and the answer is
// passed on. POSTs (the ops) are never touched.

const SCOPE = self.registration.scope;                 // absolute, ends with "/"
const SCOPE_PATH = new URL(SCOPE).pathname;            // "/h/<token>/"
const VERSION = "playroom-home-v1";
const CACHE = `${VERSION}:${SCOPE_PATH}`;              // one cache per home: two never mix
const PAGE = SCOPE;
const PACK = new URL("pack.json", SCOPE).href;
const SLOW_MS = 6000;      // a network this slow loses to the cache (and still refreshes it)

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    const packRes = await fetch(PACK, {cache: "no-store", credentials: "same-origin"});
    if (!packRes.ok) throw new Error(String(packRes.status));   // no offline copy of an ended link
    const assets = ((await packRes.clone().json()).assets || []).filter((u) => typeof u === "string");
    await cache.put(PACK, packRes);
    const pageRes = await fetch(PAGE, {cache: "no-store", credentials: "same-origin"});
    if (!pageRes.ok) throw new Error(String(pageRes.status));
    await cache.put(PAGE, pageRes);
    // One asset that fails does not stop the rest (the page still works online).
    await Promise.all([...new Set(assets)].map(async (url) => {
      try {
        const res = await fetch(url, {credentials: "same-origin"});
        if (res.ok) await cache.put(new URL(url, SCOPE).href, res);
      } catch (err) {
        console.warn("home sw: could not keep", url, err);
      }
    }));
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    // Older versions of this home's cache go; other homes' caches stay.
    const names = await caches.keys();
    await Promise.all(names.filter((n) => n.startsWith("playroom-home") && n.endsWith(`:${SCOPE_PATH}`) && n !== CACHE)
      .map((n) => caches.delete(n)));
    await self.clients.claim();
  })());
});

/** The page's own URL (any query) or pack.json: the two whose 410/404 ends the home. */
function isPageOrPack(url) {
  return url.href === PACK || (url.origin + url.pathname) === PAGE;
}

async function forget() {
  await caches.delete(CACHE);
  try {
    await self.registration.unregister();
  } catch { /* already gone */ }
}

async function fromCache(request, url) {
  const cache = await caches.open(CACHE);
  // ignoreVary: the kept copy was fetched by this worker, with other request headers.
  const hit = await cache.match(request, {ignoreVary: true})
    || await cache.match(url.href, {ignoreSearch: true, ignoreVary: true});
  if (hit) return hit;
  if (request.mode === "navigate") return cache.match(PAGE, {ignoreVary: true});   // the page, whatever its query
  return undefined;
}

async function networkFirst(event, request, url) {
  const network = fetch(request).then(async (res) => {
    if ((res.status === 410 || res.status === 404) && isPageOrPack(url)) {
      await forget();
    } else if (res.status === 200 && res.type === "basic") {
      const cache = await caches.open(CACHE);
      const key = isPageOrPack(url) ? (url.href === PACK ? PACK : PAGE) : request;
      if (isPageOrPack(url) || await cache.match(request, {ignoreVary: true})) await cache.put(key, res.clone());
    }
    return res;
  });
  // The refresh of the cache finishes even when the cache answered first.
  event.waitUntil(network.catch(() => undefined));
  let timer;
  const slow = new Promise((resolve) => { timer = setTimeout(resolve, SLOW_MS); });
  try {
    const first = await Promise.race([network, slow.then(() => null)]);
    if (first) return first;
    // Very slow: the cache if it has it, else keep waiting for the network.
    return (await fromCache(request, url)) || await network;
  } catch (err) {
    const hit = await fromCache(request, url);
    if (hit) return hit;
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;                 // ops go straight to the server
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname === `${SCOPE_PATH}sw.js`) return;   // the worker itself: the browser's business
  event.respondWith(networkFirst(event, request, url));
});
