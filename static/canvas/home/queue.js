// Home practice: the actions done on this phone, kept in localStorage until the server
// has them. Each action gets its op_id once, when it is done, and keeps it through
// every resend, so an answer lost on the way cannot make the server count it twice
// (it applies each op_id once).
//
// flush() sends up to 50 at a time to `urls.ops`. An op leaves the queue when the
// server answers for it ok, or refuses it for good (any code but "unavailable" or
// "internal_error", which are retried later). A network failure or a 5xx keeps them
// all. A 410 or 404 means the link was switched off or has expired: onEnded(body).

export const BATCH = 50;
const TIMEOUT_MS = 20000;     // a request that hangs is given up (and retried later)
const RETRY_CODES = new Set(["unavailable", "internal_error"]);
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";

/** A random id of `n` characters of [A-Za-z0-9_-] (crypto.getRandomValues). */
export function randomId(n = 16) {
  const bytes = new Uint8Array(n);
  crypto.getRandomValues(bytes);
  let out = "";
  for (const b of bytes) out += ALPHABET[b % ALPHABET.length];   // 256 = 4 × 64: no bias
  return out;
}

function storage() {
  try {
    return window.localStorage;
  } catch {
    return null;      // storage switched off: the queue lives as long as the page
  }
}

export class OpQueue {
  /**
   * key: the localStorage key (one per home, so two links on one phone never mix);
   * url: where ops are posted; hooks: {onChange(queue), onSent(log or null, settled ops),
   * onFailed(),
   * onEnded(body)}.
   */
  constructor(key, url, hooks = {}) {
    this.key = key;
    this.url = url;
    this.hooks = hooks;
    this.store = storage();
    this.memory = [];
    this.sending = null;      // the flush under way (one at a time)
    this.ended = false;
  }

  /** The queued ops, oldest first: [{op_id, d}]. */
  all() {
    if (!this.store) return this.memory.slice();
    try {
      const list = JSON.parse(this.store.getItem(this.key) || "[]");
      return Array.isArray(list) ? list.filter((op) => op && typeof op.op_id === "string" && op.d) : [];
    } catch {
      return [];
    }
  }

  save(list) {
    if (this.store) {
      try {
        if (list.length) this.store.setItem(this.key, JSON.stringify(list));
        else this.store.removeItem(this.key);
      } catch {
        this.store = null;      // full or switched off: keep going in memory
      }
    }
    this.memory = list.slice();
    this.hooks.onChange?.(list);
  }

  get size() {
    return this.all().length;
  }

  /** Queue the action `d`; returns its op. */
  add(d) {
    const op = {op_id: randomId(16), d};
    this.save([...this.all(), op]);
    return op;
  }

  /** Forget everything (the link has ended). */
  clear() {
    if (this.store) {
      try { this.store.removeItem(this.key); } catch { /* nothing to do */ }
    }
    this.memory = [];
    this.hooks.onChange?.([]);
  }

  /** Send what is queued; resolves when done (or failed). Never runs twice at once. */
  flush() {
    if (this.ended) return Promise.resolve();
    if (!this.sending) {
      this.sending = this.sendAll().finally(() => { this.sending = null; });
    }
    return this.sending;
  }

  async sendAll() {
    // Batches until empty, or until a batch makes no progress (ops kept for a retry).
    for (;;) {
      const batch = this.all().slice(0, BATCH);
      if (!batch.length) return;
      if (typeof navigator !== "undefined" && navigator.onLine === false) {
        // Surely offline (no network at all): no request, kept for the "online" event.
        this.hooks.onFailed?.();
        return;
      }
      let res;
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), TIMEOUT_MS);
      try {
        res = await fetch(this.url, {
          method: "POST",
          headers: {"Content-Type": "application/json"},
          body: JSON.stringify({ops: batch}),
          credentials: "same-origin",
          cache: "no-store",
          signal: abort.signal,
        });
      } catch {
        this.hooks.onFailed?.();
        return;
      } finally {
        clearTimeout(timer);
      }
      if (res.status === 410 || res.status === 404) {
        let body = {};
        try { body = await res.json(); } catch { /* the body is not needed */ }
        this.ended = true;
        this.clear();
        this.hooks.onEnded?.(body);
        return;
      }
      if (!res.ok) {
        this.hooks.onFailed?.();
        return;
      }
      let answer;
      try {
        answer = await res.json();
      } catch {
        this.hooks.onFailed?.();
        return;
      }
      const settled = new Set();
      for (const r of (answer && answer.results) || []) {
        if (r && (r.ok || !RETRY_CODES.has(r.code))) settled.add(r.op_id);
      }
      // Ops queued while the request was on its way stay: only the settled ones go.
      this.save(this.all().filter((op) => !settled.has(op.op_id)));
      this.hooks.onSent?.(Array.isArray(answer.log) ? answer.log : null,
        batch.filter((op) => settled.has(op.op_id)));
      if (!batch.some((op) => settled.has(op.op_id))) {
        this.hooks.onFailed?.();
        return;
      }
    }
  }
}
