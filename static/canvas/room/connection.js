// The room's one Socket.IO connection: ordered ops, resync, pending ops, ephemeral relay.
//
// Invariants:
// - `seq` is the last op applied locally; ops are applied strictly in seq order.
//   Anything ahead of seq+1 waits in `buffer`; a gap that the next state does not
//   fill triggers a resync (`sync {since: seq}`), and repeated gaps a full snapshot.
// - `pending` holds every op/history request not yet acknowledged, in send order,
//   mirrored to localStorage so a reload or a dead tablet loses nothing. At most one
//   is on the wire at a time (`inflight`): the server handles events concurrently,
//   so sending one after the other is what keeps a stroke before its undo.
// - After every successful sync the whole pending list is (re)sent in order; the
//   server dedupes by op_id, so a resend of an op it already has is harmless.
// - An acknowledged op whose seq has not been applied yet stays in `awaiting`, so
//   the activity keeps drawing it until the confirmed state contains it.
// - A refused op is never dropped without the person seeing why (FAULT4): a toast
//   says so, except an op refused as `frozen`, which stays pending (drawn as
//   pending, under the calm "paused" overlay) and is sent again when the freeze
//   lifts — a child who drew as the pause began expects their drawing to stay.
import {io} from "socket.io-client";
import {N_, language, t} from "./i18n.js";
import {randomId} from "./util.js";
import {PACK, unpack} from "./wire.js";

const RETRYABLE = new Set(["rate_limited", "internal_error", "not_joined", "unavailable"]);
// An undo or redo with nothing left changes nothing the person could miss.
const QUIET_HISTORY = new Set(["nothing_to_do"]);
// A connect refused as `unavailable` (the store is out of reach, FAULT1) is tried
// again after this long, doubling up to the maximum.
const UNAVAILABLE_RETRY_MS = 1000;
const UNAVAILABLE_RETRY_MAX_MS = 30000;
// While waiting to be let in, `sync` is repeated this often: each one is a knock
// the therapist's page sees (CTL1), so a waiting guest is listed on every process.
const KNOCK_MS = 5000;
const MAX_GAP_TRIES = 3;
// An op that arrives ahead of seq+1 usually only overtook its predecessor (with
// several server processes, broadcasts from two of them can cross): wait this long
// for the missing one before asking the server (SEQ1).
const GAP_WAIT_MS = 300;
const INFLIGHT_TIMEOUT_MS = 15000;
const AWAIT_APPLY_MS = 3000;

// Generic codes only: activity-specific refusals (full, conflict, invalid …) keep
// the reason the activity gave ("the tray is full", "this page is full"). Messages
// are marked with N_() and said with t() in the reader's language when shown.
const SOMETHING = N_("Something did not work.");
const FRIENDLY = {
  forbidden: N_("This is paused right now."),
  rate_limited: N_("Whoa, slow down a little."),
  too_large: N_("That was too big to save."),
  internal_error: N_("Something went wrong. Trying again…"),
  unavailable: N_("The room is out of reach for a moment. Trying again…"),
  private_time: N_("Private time: that was not kept."),
  // A page that speaks an older protocol, or a bug: nothing the person can act on.
  bad_event: SOMETHING,
  unknown_activity: SOMETHING,
  unknown_op: SOMETHING,
};
const HELD_TEXT = N_("Paused for a moment: it will be added when we carry on.");

// What a refusal says to a reader of another language when the activity's reason is
// not in their catalog (a rare race, e.g. a step deleted while it was being ticked).
const GENERIC = {
  conflict: N_("Someone changed that just now. Try again."),
  nothing: N_("There is nothing to do there right now."),
  full: N_("There is no more room for that."),
};

export function friendly(code, reason) {
  if (FRIENDLY[code]) return t(FRIENDLY[code]);
  if (!reason) return t(SOMETHING);
  // An activity's reason in the reader's language when its catalog has it (activities
  // mark the refusals a person meets); an English reader reads it as given; anyone
  // else gets a plain sentence in their language rather than English.
  const said = t(reason);
  if (said !== reason || language().startsWith("en")) return said;
  return t(GENERIC[code] || SOMETHING);
}

export class Connection {
  /**
   * hooks: {status(s), reset(activities), op(op), eph(by, item), presence(list),
   *         settings(obj), pending(), applied(seq), toast(text), fatal(code, reason),
   *         lobby(code | null, reason), knock(person)}
   */
  constructor(config, hooks) {
    this.config = config;
    this.proto = config.protocol;
    this.ev = config.protocol.events;
    this.me = config.me;
    this.hooks = hooks;
    this.seq = -1;
    this.targetSeq = -1;
    this.stacks = null;             // UNDO4: {activity: [undos, redos]} from the server
    this.hasState = false;
    this.buffer = new Map();        // seq -> op, ops that arrived ahead of seq+1
    this.synced = false;            // state received and sync acked on this socket
    this.syncing = false;
    this.gapTries = 0;
    this.gen = 0;                   // bumps per socket connection; stale acks are ignored
    this.inflight = null;
    this.retryTimer = null;
    this.retryDelay = 1000;
    this.connectDelay = UNAVAILABLE_RETRY_MS;
    this.held = false;              // a `frozen` refusal holds `pending` until the freeze lifts
    this.awaiting = new Map();      // op_id -> {entry, seq}
    this.awaitTimer = null;
    this.ephPausedUntil = 0;
    this.closed = false;
    this.waiting = null;            // null, or why we are not let in yet (CTL1/CTL5)
    this.knockTimer = null;
    this.gapTimer = null;
    this.status = "reconnecting";
    this.storeKey = `playroom:pending:${config.room.id}:${config.me.id}`;
    this.pending = this.loadPending();
  }

  // ------------------------------------------------------------ lifecycle
  start() {
    const socket = this.socket = io({
      auth: {v: this.proto.version, room: this.config.room.id},
      // On every Engine.IO request (each long-poll and the WebSocket upgrade): nginx
      // hashes on it so a room's sockets share one process (ROUTE1). A routing hint
      // only; the server reads the room from `auth` and the credentials.
      query: {room: this.config.room.id},
      reconnectionDelay: 500,
      reconnectionDelayMax: 4000,
      // WebSocket first, long-polling only if it fails: one handshake instead of a
      // polling session plus an upgrade, and a big first `state` never races the
      // upgrade onto a long-poll (which the server gzips per joiner).
      transports: ["websocket", "polling"],
      tryAllTransports: true,
    });
    socket.on("connect", () => this.onConnect());
    socket.on("disconnect", (reason) => this.onDisconnect(reason));
    socket.on("connect_error", (err) => this.onConnectError(err));
    socket.on(this.ev.state, (d) => this.onState(d));
    socket.on(this.ev.op, (op) => this.onOp(op));
    socket.on(this.ev.eph, (d) => this.onEph(d));
    socket.on(this.ev.presence, (d) => this.hooks.presence((d && d.participants) || []));
    socket.on(this.ev.room, (d) => d && d.settings && this.onSettings(d.settings));
    socket.on(this.ev.error, (e) => this.onServerError(e || {}));
    socket.on(this.ev.bye, (d) => this.close((d && d.code) || "bye", d && d.reason));
    socket.on(this.ev.lobby, (d) => this.onLobby(d || {}));
    // PAINT1: a big page drawn by the server, sent after our snapshot.
    socket.on(this.ev.picture, (d) => d && this.hooks.picture?.(d));
    const wake = () => {
      if (!this.closed && document.visibilityState === "visible" && !socket.connected && !socket.active) {
        socket.connect();
      }
    };
    document.addEventListener("visibilitychange", wake);
    window.addEventListener("online", wake);
    this.setStatus("reconnecting");
  }

  setStatus(s) {
    if (this.status === s) return;
    this.status = s;
    this.hooks.status(s);
  }

  onConnect() {
    this.connectDelay = UNAVAILABLE_RETRY_MS;
    this.gen++;
    this.synced = false;
    this.syncing = false;
    this.inflight = null;
    this.gapTries = 0;
    this.sync();
  }

  onDisconnect(reason) {
    this.gen++;
    this.synced = false;
    this.syncing = false;
    this.inflight = null;
    if (this.closed) return;
    this.setStatus("reconnecting");
    // The server closed us without a bye (restart, kick): Socket.IO will not retry by itself.
    if (reason === "io server disconnect") setTimeout(() => this.reconnect(), 2000);
  }

  reconnect() {
    if (!this.closed && !this.socket.connected && !this.socket.active) this.socket.connect();
  }

  onConnectError(err) {
    const code = connectErrorCode(err, this.proto.errors);
    const E = this.proto.errors;
    if (code === E.version) return this.reloadForVersion();
    if (code === E.revoked || code === E.ended || code === E.auth) {
      return this.close(code, err && err.data && err.data.reason);
    }
    this.setStatus("reconnecting");
    // A refusal by the server's connect handler is not retried by Socket.IO itself.
    if (this.socket.active) return;
    let delay = 3000;
    if (code === E.unavailable) {     // FAULT1: try again soon, backing off
      delay = this.connectDelay;
      this.connectDelay = Math.min(this.connectDelay * 2, UNAVAILABLE_RETRY_MAX_MS);
    }
    setTimeout(() => this.reconnect(), delay);
  }

  reloadForVersion() {
    // Guard against a reload loop when the server keeps refusing us.
    const key = "playroom:version-reloads";
    const now = Date.now();
    let stamps = [];
    try { stamps = JSON.parse(sessionStorage.getItem(key) || "[]").filter((t) => now - t < 60000); } catch { /* */ }
    if (stamps.length >= 3) return this.close("version_mismatch", t("Please close this tab and open the link again."));
    stamps.push(now);
    try { sessionStorage.setItem(key, JSON.stringify(stamps)); } catch { /* */ }
    location.reload();
  }

  /** Stop for good (revoked, ended, bye): no more reconnecting. */
  close(code, reason) {
    if (this.closed) return;
    this.closed = true;
    this.synced = false;
    this.socket.io.reconnection(false);
    this.socket.disconnect();
    this.setStatus("closed");
    this.hooks.fatal(code, reason);
  }

  // ------------------------------------------------------------ ordered state
  sync(since = this.seq) {
    if (this.syncing || !this.socket.connected) return;
    this.syncing = true;
    const gen = this.gen;
    this.socket.emit(this.ev.sync, {since, pack: PACK}, (ack) => {
      if (gen !== this.gen) return;
      this.syncing = false;
      if (!ack || !ack.ok) {
        const E = this.proto.errors;
        const code = ack && ack.code;
        if (code === E.waiting || code === E.private) {
          // Not let in yet (or private child time): wait calmly, knock again later.
          this.waiting = code;
          this.synced = false;
          this.setStatus("connected");
          this.hooks.lobby(code, ack.reason);
          clearTimeout(this.knockTimer);
          this.knockTimer = setTimeout(() => gen === this.gen && this.sync(), KNOCK_MS);
          return;
        }
        if (code === E.removed) return this.close(code, ack.reason);
        setTimeout(() => gen === this.gen && this.sync(), 1000);
        return;
      }
      clearTimeout(this.knockTimer);
      if (this.waiting) {
        this.waiting = null;
        this.hooks.lobby(null);
      }
      this.targetSeq = Math.max(this.targetSeq, ack.seq);
      this.setStacks(ack.stacks);
      if (!this.synced) {
        this.synced = true;
        this.setStatus("connected");
      }
      this.checkGap();
      this.pump();
    });
  }

  checkGap() {
    const gap = this.buffer.size > 0 || this.seq < this.targetSeq;
    if (!gap) { this.gapTries = 0; return; }
    if (!this.synced || this.syncing) return;
    this.gapTries++;
    // A gap that a replay does not fill: ask for a snapshot instead.
    this.sync(this.gapTries > MAX_GAP_TRIES ? -1 : this.seq);
  }

  onState(data) {
    if (!data) return;
    if (data.mode === "snapshot") {
      this.seq = data.seq;
      for (const s of [...this.buffer.keys()]) if (s <= data.seq) this.buffer.delete(s);
      this.gapTries = 0;
      const states = data.activities || {};
      this.hooks.reset(data.packed === PACK ? unpack(states) : states);
    } else {
      for (const op of data.ops || []) if (op.seq > this.seq) this.buffer.set(op.seq, op);
    }
    this.targetSeq = data.seq;
    // The page's first state replays what happened before it came: history, not news
    // (main.js does not let an old ask pull a guest to another activity).
    this.replaying = !this.hasState;
    this.hasState = true;
    if (data.settings) this.onSettings(data.settings);
    this.drain(data.mode === "snapshot");
    this.replaying = false;
  }

  onOp(op) {
    if (!op || typeof op.seq !== "number") return;
    if (op.seq <= this.seq) return;
    this.buffer.set(op.seq, op);
    if (!this.hasState) return;     // wait for the first state
    this.drain(false);
    if (this.buffer.size && !this.gapTimer) {
      this.gapTimer = setTimeout(() => { this.gapTimer = null; this.checkGap(); }, GAP_WAIT_MS);
    }
  }

  drain(changed) {
    while (this.buffer.has(this.seq + 1)) {
      const op = this.buffer.get(this.seq + 1);
      this.buffer.delete(op.seq);
      this.seq = op.seq;
      this.hooks.op(op);
      this.settle(op);
      changed = true;
    }
    for (const s of [...this.buffer.keys()]) if (s <= this.seq) this.buffer.delete(s);
    if (changed) {
      let dropped = false;
      for (const [id, w] of this.awaiting) if (w.seq <= this.seq) { this.awaiting.delete(id); dropped = true; }
      if (dropped) this.hooks.pending();
      this.hooks.applied(this.seq);
    }
  }

  /** An op of ours came back sequenced: it is no longer pending. */
  settle(op) {
    if (op.by !== this.me.id) return;
    if (this.removePending(op.op_id) && this.inflight === op.op_id) {
      // Its ack is still on the way; the next op may go now (order is already fixed).
      this.inflight = null;
      queueMicrotask(() => this.pump());
    }
    this.awaiting.delete(op.op_id);
  }

  // ------------------------------------------------------------ pending ops
  loadPending() {
    try {
      const list = JSON.parse(localStorage.getItem(this.storeKey) || "[]");
      return Array.isArray(list)
        ? list.filter((e) => e && (e.ev === "op" || e.ev === "history") && e.msg && typeof e.msg.op_id === "string")
        : [];
    } catch {
      return [];
    }
  }

  savePending() {
    try {
      if (this.pending.length) localStorage.setItem(this.storeKey, JSON.stringify(this.pending));
      else localStorage.removeItem(this.storeKey);
    } catch { /* private mode or full: the in-memory list still works */ }
  }

  removePending(opId) {
    const i = this.pending.findIndex((e) => e.msg.op_id === opId);
    if (i < 0) return false;
    this.pending.splice(i, 1);
    this.savePending();
    this.hooks.pending();
    return true;
  }

  newOpId() {
    return randomId(Math.min(24, this.proto.limits.op_id_chars));
  }

  /** Queue a durable op {a, t, d}; it is drawn as pending until confirmed. */
  submit(a, t, d) {
    const msg = {op_id: this.newOpId(), a, t, d};
    this.pending.push({ev: "op", msg});
    this.savePending();
    this.hooks.pending();
    this.pump();
    return msg.op_id;
  }

  /** Undo/redo. Only while connected (a queued undo would surprise later). */
  history(a, action, target) {
    if (!this.synced) return null;
    const msg = {op_id: this.newOpId(), a, action};
    if (target) msg.target = target;
    this.pending.push({ev: "history", msg});
    this.savePending();
    this.hooks.pending();
    this.pump();
    return msg.op_id;
  }

  /** Room settings arrived; a freeze that lifted releases held ops (FAULT4). */
  onSettings(settings) {
    this.hooks.settings(settings);
    if (this.held && !settings.freeze) {
      this.held = false;
      this.pump();
    }
  }

  pump() {
    if (!this.synced || this.held || this.inflight || this.retryTimer || !this.pending.length) return;
    const entry = this.pending[0];
    const opId = entry.msg.op_id;
    const gen = this.gen;
    this.inflight = opId;
    const timer = setTimeout(() => {
      if (gen === this.gen && this.inflight === opId) { this.inflight = null; this.pump(); }
    }, INFLIGHT_TIMEOUT_MS);
    this.socket.emit(this.ev[entry.ev], entry.msg, (ack) => {
      clearTimeout(timer);
      if (gen !== this.gen) return;
      if (this.inflight === opId) this.inflight = null;
      this.onAck(entry, ack || {});
      this.pump();
    });
  }

  onAck(entry, ack) {
    const opId = entry.msg.op_id;
    this.setStacks(ack.stacks);
    if (ack.ok) {
      this.retryDelay = 1000;
      const wasPending = this.pending.includes(entry);
      if (wasPending && typeof ack.seq === "number" && ack.seq > this.seq) {
        this.awaiting.set(opId, {entry, seq: ack.seq});
        this.watchAwaiting();
      }
      this.removePending(opId);
      return;
    }
    if (RETRYABLE.has(ack.code) && this.pending.includes(entry)) {
      this.retryTimer = setTimeout(() => { this.retryTimer = null; this.pump(); }, this.retryDelay);
      this.retryDelay = Math.min(this.retryDelay * 2, 8000);
      if (ack.code === "rate_limited") this.hooks.toast(friendly(ack.code, ack.reason));
      return;
    }
    if (ack.code === this.proto.errors.frozen && entry.ev === "op" && this.pending.includes(entry)) {
      // Held, not dropped: sent again when the freeze lifts (onSettings).
      if (!this.held) this.hooks.toast(t(HELD_TEXT));
      this.held = true;
      return;
    }
    this.removePending(opId);
    if (!(entry.ev === "history" && QUIET_HISTORY.has(ack.code))) this.hooks.toast(friendly(ack.code, ack.reason));
  }

  /** UNDO4: the server says how much we can undo/redo per activity (null: not yet known). */
  setStacks(stacks) {
    if (!stacks || typeof stacks !== "object") return;
    this.stacks = stacks;
    this.hooks.stacks?.();
  }

  /** Undo makes sense with something on our stack or an op of ours not yet stored. */
  canUndo(a) {
    const s = this.stacks && this.stacks[a];
    return !s || s[0] > 0 || this.unconfirmed(a).length > 0;
  }

  canRedo(a) {
    const s = this.stacks && this.stacks[a];
    return !s || s[1] > 0;
  }

  /** An acked op whose seq never arrives means we missed it: resync. */
  watchAwaiting() {
    if (this.awaitTimer) return;
    this.awaitTimer = setTimeout(() => {
      this.awaitTimer = null;
      const late = [...this.awaiting.values()].some((w) => w.seq > this.seq);
      if (late && this.synced) {
        this.targetSeq = Math.max(this.targetSeq, ...[...this.awaiting.values()].map((w) => w.seq));
        this.checkGap();
        this.watchAwaiting();
      }
    }, AWAIT_APPLY_MS);
  }

  /** Ops of activity `a` not yet in the confirmed state, oldest first ({op_id, t, d}). */
  unconfirmed(a) {
    const out = [];
    for (const {entry} of this.awaiting.values()) if (entry.ev === "op" && entry.msg.a === a) out.push(entry.msg);
    for (const e of this.pending) if (e.ev === "op" && e.msg.a === a) out.push(e.msg);
    return out;
  }

  get pendingCount() {
    return this.pending.length;
  }

  // ------------------------------------------------------------ ephemeral and settings
  /** Relay an ephemeral item {a, k, ...}. Dropped while offline; never queued. */
  sendEph(item) {
    if (!this.synced || performance.now() < this.ephPausedUntil) return false;
    this.socket.emit(this.ev.eph, item);
    return true;
  }

  /** CLK1: one clock sample {now: server ms, sent, received: performance.now() ms}, or null. */
  clockSample(timeoutMs = 3000) {
    return new Promise((resolve) => {
      if (!this.socket || !this.socket.connected) return resolve(null);
      const sent = performance.now();
      this.socket.timeout(timeoutMs).emit(this.ev.clock, {}, (err, ack) => {
        const received = performance.now();
        resolve(!err && ack && typeof ack.now === "number" ? {now: ack.now, sent, received} : null);
      });
    });
  }

  onEph(data) {
    if (!data || !Array.isArray(data.items)) return;
    for (const item of data.items) this.hooks.eph(data.by, item);
  }

  setSetting(key, value) {
    return new Promise((resolve) => {
      if (!this.synced) {
        this.hooks.toast(t("Not connected right now."));
        return resolve(false);
      }
      this.socket.emit(this.ev.settings, {[key]: value}, (ack) => {
        if (!ack || !ack.ok) this.hooks.toast(friendly(ack && ack.code, ack && ack.reason));
        resolve(Boolean(ack && ack.ok));
      });
    });
  }

  /** The waiting room (CTL1) and private child time (CTL5). */
  onLobby(d) {
    if (d.knock) { this.hooks.knock(d.knock); return; }
    // Let in, or private time is over: ask again now.
    if ((d.admitted && d.admitted === this.me.id) || d.resume) {
      clearTimeout(this.knockTimer);
      this.syncing = false;
      this.sync();
    }
  }

  /** The room setting says private time for parents: the server stops sending us
   *  the room; wait for `resume`. */
  pauseForPrivateTime() {
    if (this.me.role !== "parent" || this.waiting) return;
    this.waiting = this.proto.errors.private;
    this.synced = false;
    this.hooks.lobby(this.waiting, "");
  }

  /** A therapist's room control (CTL2): settings, view, admit, remove, end. */
  control(action, body = {}) {
    return new Promise((resolve) => {
      if (!this.synced) {
        this.hooks.toast(t("Not connected right now."));
        return resolve(null);
      }
      this.socket.emit(this.ev.control, {op_id: this.newOpId(), action, ...body}, (ack) => {
        if (!ack || !ack.ok) this.hooks.toast(friendly(ack && ack.code, ack && ack.reason));
        resolve(ack || null);
      });
    });
  }

  onServerError(e) {
    if (e.event === "eph") {
      // Previews refused (role may not draw now, or too many): pause them a moment.
      if (e.code === this.proto.errors.forbidden || e.code === this.proto.errors.rate) {
        this.ephPausedUntil = performance.now() + 5000;
      }
      return;
    }
    // Ops, history and settings are answered by their ack; don't say it twice.
    if (e.op_id || ["op", "history", "settings", "sync", "control"].includes(e.event)) return;
    if (e.code === "not_joined") { this.checkGap(); return; }
    this.hooks.toast(friendly(e.code, e.reason));
  }
}

/**
 * The refusal code of a connect_error: `err.data.code` when the server sends
 * ConnectionRefusedError(message, {code, reason}); otherwise found in the message.
 */
export function connectErrorCode(err, errors) {
  if (err && err.data && typeof err.data.code === "string") return err.data.code;
  const text = String((err && err.message) || "");
  for (const code of Object.values(errors)) if (text.includes(code)) return code;
  return null;
}
