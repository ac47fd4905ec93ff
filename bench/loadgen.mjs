// Load generator for bench/run.py: many socket.io clients in one Node process, so the
// generator (pinned to its own core) is not the bottleneck and one-way latency is
// measured on one clock.
//
//   node bench/loadgen.mjs PLAN.json
//
// The plan (written by run.py) says the mode:
//   relay  R rooms x 3 participants; in each room one participant (the child) streams
//          stroke previews (`eph`, N new points every interval) and commits the stroke
//          as an `op` every commit period, then starts a new stroke. The others record
//          one-way latency per preview chunk (attributed by its `from` range, since the
//          server may merge several chunks into one relayed item) and per op.
//   join   fresh sockets one after another: time from io() to the `state` event, and
//          the bytes of that packet.
//   idle   connect + sync every client, report, hold until "quit" on stdin (or max_hold_s).
// plan.transports (optional, e.g. ["polling"]) replaces the WebSocket transport.
//
// stdout: one JSON object per line ({event: ...}); the last one is {event: "result"}.
// stderr: progress lines for people.
import { readFileSync } from "node:fs";
import { performance, monitorEventLoopDelay } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { io } from "socket.io-client";
import { WebSocket } from "ws";

const plan = JSON.parse(readFileSync(process.argv[2], "utf8"));
const now = () => performance.now();
const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
const say = (msg) => process.stderr.write(`  [loadgen] ${msg}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Every phase is bounded: a hard stop for the whole process.
const hardStop = setTimeout(() => {
  out({ event: "result", error: "loadgen hard time limit reached" });
  process.exit(3);
}, (plan.max_runtime_s || 600) * 1000);
hardStop.unref();

function pct(arr, p) {
  if (!arr.length) return null;
  const i = Math.min(arr.length - 1, Math.max(0, Math.ceil((p / 100) * arr.length) - 1));
  return arr[i];
}
function summary(values) {
  const a = Float64Array.from(values).sort();
  const r3 = (x) => (x == null ? null : Math.round(x * 1000) / 1000);
  return { n: a.length, p50: r3(pct(a, 50)), p90: r3(pct(a, 90)), p99: r3(pct(a, 99)),
           max: r3(a.length ? a[a.length - 1] : null),
           mean: r3(a.length ? a.reduce((s, x) => s + x, 0) / a.length : null) };
}

function connect(url, room, cookie, extra = {}) {
  // plan.transports ["polling"]: long-polling only, as behind a school's filter that
  // blocks WebSockets (every participant then uses socket.io-client).
  const opts = { transports: plan.transports || ["websocket"], forceNew: true, reconnection: false,
                 timeout: 20000,
                 auth: { v: plan.version, room }, query: { room } };  // query: nginx routes on it (ROUTE1)
  if (cookie) opts.extraHeaders = { Cookie: cookie };
  return io(url, { ...opts, ...extra });
}

// Connect a socket, send sync {since: -1}, resolve once acked.
function join(client, room, handlers) {
  return new Promise((resolve, reject) => {
    const s = connect(plan.url, room, client.cookie);
    const timer = setTimeout(() => { s.close(); reject(new Error("connect/sync timeout")); }, 30000);
    for (const [ev, fn] of Object.entries(handlers || {})) s.on(ev, fn);
    s.on("connect_error", (err) => {
      clearTimeout(timer); s.close();
      reject(new Error(`connect_error ${JSON.stringify(err.data || err.message)}`));
    });
    s.on("connect", () => {
      s.emit("sync", { since: -1 }, (ack) => {
        clearTimeout(timer);
        if (ack && ack.ok) resolve(s); else { s.close(); reject(new Error(`sync refused ${JSON.stringify(ack)}`)); }
      });
    });
  });
}

// A receive-only participant on a bare websocket speaking Engine.IO 4 / Socket.IO 5
// itself (plan.relay.receivers = "raw"): same wire traffic as socket.io-client,
// about half the client CPU per message, so the generator stays ahead of the
// fastest server. Resolves once `sync` is acked.
function rawJoin(client, room, handlers) {
  return new Promise((resolve, reject) => {
    const u = new URL(plan.url);
    const ws = new WebSocket(`ws://${u.host}/socket.io/?room=${encodeURIComponent(room)}&EIO=4&transport=websocket`,
                             { headers: client.cookie ? { Cookie: client.cookie } : {}, perMessageDeflate: false });
    const api = { connected: false, close: () => ws.close() };
    let done = false;
    const fail = (msg) => { if (!done) { done = true; clearTimeout(timer); ws.terminate(); reject(new Error(msg)); } };
    const timer = setTimeout(() => fail("raw connect/sync timeout"), 30000);
    ws.on("message", (buf) => {
      const s = buf.toString();
      const t = s.charCodeAt(0);
      if (t === 52) {                                   // "4": a Socket.IO packet
        const st = s.charCodeAt(1);
        if (st === 50) {                                // "42[event, data]"
          const arr = JSON.parse(s.slice(2));
          const fn = handlers[arr[0]];
          if (fn) fn(arr[1]);
        } else if (st === 51 && !done) {                // "43<id>[ack]": the sync ack
          const ack = JSON.parse(s.slice(s.indexOf("[")))[0];
          if (ack && ack.ok) { done = true; clearTimeout(timer); api.connected = true; resolve(api); }
          else fail(`sync refused ${JSON.stringify(ack)}`);
        } else if (st === 48) {                         // "40{sid}": connected
          ws.send('420["sync",{"since":-1}]');
        } else if (st === 52) {                         // "44{...}": connect refused
          fail(`connect_error ${s.slice(2)}`);
        }
      } else if (t === 48) {                            // "0{...}": Engine.IO open
        ws.send("40" + JSON.stringify({ v: plan.version, room }));
      } else if (t === 50) {                            // "2": ping
        ws.send("3");
      }
    });
    ws.on("error", (e) => fail(`raw socket error ${e.message}`));
    ws.on("close", () => { api.connected = false; fail("closed before sync"); });
  });
}

// Run fn over items with at most `limit` in flight.
async function pool(items, limit, fn) {
  let next = 0;
  const results = new Array(items.length);
  async function worker() {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

// ---------------------------------------------------------------- relay

// A smooth path inside the 1600 x 1000 board, different per room and stroke.
function point(roomIdx, strokeNo, i) {
  const a = 0.9 + (roomIdx % 7) * 0.13, b = 1.3 + (strokeNo % 5) * 0.11, t = i * 0.02;
  const x = 800 + 620 * Math.sin(a * t + roomIdx) * Math.cos(0.05 * t);
  const y = 500 + 380 * Math.sin(b * t + strokeNo);
  const p = 0.5 + 0.3 * Math.sin(t * 3);
  return [Math.round(x * 10) / 10, Math.round(y * 10) / 10, Math.round(p * 100) / 100];
}

async function relay() {
  const P = plan.relay;
  const interval = P.interval_ms, nPts = P.points_per_chunk, commitMs = P.commit_every_ms;
  const rooms = plan.rooms;
  const chunkSent = new Map(); // stroke id -> [send time per chunk index]
  const opSent = new Map();    // op_id -> send time
  const lat = { preview: [], op: [], ack: [], sendLag: [] };
  let window = null;           // {t0, t1} once measuring
  const inWin = (t) => window && t >= window.t0 && t <= window.t1;
  const counts = { chunksSent: 0, chunksSentWin: 0, opsSent: 0, opsSentWin: 0, chunkRecvWin: 0,
                   chunkRecvOfWin: 0, opRecvWin: 0, opRecvOfWin: 0, eventsWin: 0, ephEventsWin: 0,
                   errors: 0, opRefused: 0, unknownChunks: 0, bytesOutWin: 0 };
  const errorSamples = [];
  const sockets = [];

  const onEph = (msg) => {
    const t = now();
    if (inWin(t)) { counts.eventsWin++; counts.ephEventsWin++; }
    for (const it of msg.items || []) {
      if (it.k !== "stroke") continue;
      const sent = chunkSent.get(it.id);
      const n = (it.pts ? it.pts.length : 0) / 3;
      if (!sent) { counts.unknownChunks++; continue; }
      for (let f = Math.ceil(it.from / nPts) * nPts; f < it.from + n; f += nPts) {
        const ts = sent[f / nPts];
        if (ts === undefined) { counts.unknownChunks++; continue; }
        if (inWin(t)) counts.chunkRecvWin++;
        if (inWin(ts)) { counts.chunkRecvOfWin++; lat.preview.push(t - ts); }
      }
    }
  };
  const onOp = (msg) => {
    const t = now();
    if (inWin(t)) { counts.eventsWin++; counts.opRecvWin++; }
    const ts = opSent.get(msg.op_id);
    if (ts !== undefined && inWin(ts)) { counts.opRecvOfWin++; lat.op.push(t - ts); }
  };
  const onOther = () => { if (inWin(now())) counts.eventsWin++; };
  const onError = (e) => { counts.errors++; if (errorSamples.length < 5) errorSamples.push(e); };

  // Connect every participant (receivers first so they see the first chunks).
  const jobs = [];
  rooms.forEach((r, ri) => r.clients.forEach((c) => jobs.push({ r, ri, c })));
  jobs.sort((x, y) => (x.c.role === P.sender_role) - (y.c.role === P.sender_role));
  const tc0 = now();
  let connected = 0;
  await pool(jobs, plan.connect_concurrency || 16, async (job) => {
    const isSender = job.c.role === P.sender_role;
    const handlers = { error: onError, presence: onOther, room: onOther, bye: onError, state: onOther };
    if (!isSender) { handlers.eph = onEph; handlers.op = onOp; }
    const s = !isSender && P.receivers === "raw" && !plan.transports ? await rawJoin(job.c, job.r.room, handlers)
      : await join(job.c, job.r.room, handlers);
    sockets.push(s);
    if (isSender) job.r.sender = s;
    if (++connected % 150 === 0) say(`connected ${connected}/${jobs.length}`);
  });
  const connectS = (now() - tc0) / 1000;
  out({ event: "connected", sockets: sockets.length, seconds: connectS });
  say(`${sockets.length} sockets joined in ${connectS.toFixed(1)} s; warm-up ${P.warmup_s} s`);

  const elDelay = monitorEventLoopDelay({ resolution: 5 });
  const start = now() + 50;
  const sendEnd = start + (P.warmup_s + P.measure_s) * 1000;
  let cpu0, elu0, cpu, elu, t1;
  setTimeout(() => {
    window = { t0: now(), t1: sendEnd };
    cpu0 = process.cpuUsage(); elu0 = performance.eventLoopUtilization();
    elDelay.enable();
    out({ event: "measure_start" });
  }, start + P.warmup_s * 1000 - now());
  const windowEnd = new Promise((resolve) => setTimeout(() => {
    t1 = now();
    cpu = process.cpuUsage(cpu0); elu = performance.eventLoopUtilization(elu0);
    elDelay.disable();
    out({ event: "measure_end" });
    resolve();
  }, sendEnd - now()));

  const runId = plan.run_id;
  const streams = rooms.map((r, ri) => new Promise((resolve) => {
    const s = r.sender;
    const phase = (ri / rooms.length) * interval;
    // Commits are spread over the commit period too: room i's first stroke is shorter.
    let strokeNo = 0, k = 0, strokeStart = start + phase - (ri / rooms.length) * commitMs;
    let pts = [], sent = null, sid = null, opNo = 0;
    const newStroke = () => {
      sid = `${runId}r${ri}s${strokeNo}`;
      sent = []; chunkSent.set(sid, sent); pts = [];
    };
    newStroke();
    const tick = () => {
      const due = start + phase + k * interval;
      const t = now();
      if (due >= sendEnd) { resolve(); return; }
      if (inWin(t)) lat.sendLag.push(t - due);
      // Commit the stroke every commit period, then start a new one.
      if (due - strokeStart >= commitMs && pts.length) {
        const op_id = `${runId}o${ri}n${opNo++}`;
        const msg = { op_id, a: "canvas", t: "stroke",
                      d: { page: "p1", id: sid, tool: "pen", color: "#e53935", size: 8, pts } };
        const ts = now();
        opSent.set(op_id, ts);
        counts.opsSent++; if (inWin(ts)) counts.opsSentWin++;
        s.emit("op", msg, (ack) => {
          const ta = now();
          if (!ack || !ack.ok) { counts.opRefused++; if (errorSamples.length < 5) errorSamples.push(ack); }
          else if (inWin(ts)) lat.ack.push(ta - ts);
        });
        strokeNo++; strokeStart = due; newStroke();
      }
      const from = pts.length / 3;
      const chunk = [];
      for (let i = 0; i < nPts; i++) chunk.push(...point(ri, strokeNo, from + i));
      pts = pts.concat(chunk);
      const ts = now();
      sent[from / nPts] = ts;
      counts.chunksSent++; if (inWin(ts)) counts.chunksSentWin++;
      s.emit("eph", { a: "canvas", k: "stroke", id: sid, page: "p1", tool: "pen", color: "#e53935",
                      size: 8, from, pts: chunk });
      k++;
      setTimeout(tick, Math.max(0, start + phase + k * interval - now()));
    };
    setTimeout(tick, Math.max(0, start + phase - now()));
  }));
  await windowEnd;
  await Promise.all(streams);
  const winS = (window.t1 - window.t0) / 1000;
  say(`measured ${winS.toFixed(1)} s; draining ${P.drain_s} s`);
  await sleep(P.drain_s * 1000);
  for (const s of sockets) s.close();

  const receivers = rooms.reduce((n, r) => n + r.clients.length - 1, 0);
  const expectedChunks = counts.chunksSentWin * (receivers / rooms.length);
  const expectedOps = counts.opsSentWin * (receivers / rooms.length);
  const delivered = counts.chunkRecvWin + counts.opRecvWin;
  out({
    event: "result",
    rooms: rooms.length, sockets: sockets.length, connect_s: connectS, window_s: winS,
    preview_ms: summary(lat.preview), op_ms: summary(lat.op), ack_ms: summary(lat.ack),
    send_lag_ms: summary(lat.sendLag),
    sent: { chunks: counts.chunksSentWin, ops: counts.opsSentWin,
            chunks_per_s: counts.chunksSentWin / winS,
            planned_chunks_per_s: rooms.length * 1000 / interval },
    delivered: { msgs: delivered, msgs_per_s: delivered / winS, chunks: counts.chunkRecvWin,
                 ops: counts.opRecvWin, events: counts.eventsWin, events_per_s: counts.eventsWin / winS,
                 eph_events: counts.ephEventsWin,
                 chunk_ratio: expectedChunks ? counts.chunkRecvOfWin / expectedChunks : null,
                 op_ratio: expectedOps ? counts.opRecvOfWin / expectedOps : null },
    loadgen: { cpu_pct: 100 * (cpu.user + cpu.system) / 1e3 / (t1 - window.t0),
               event_loop_util: elu.utilization,
               event_loop_delay_p99_ms: elDelay.percentile(99) / 1e6 },
    errors: counts.errors, op_refused: counts.opRefused, unknown_chunks: counts.unknownChunks,
    error_samples: errorSamples,
  });
}

// ---------------------------------------------------------------- join

async function joinBench() {
  const J = plan.join;
  const one = () => new Promise((resolve, reject) => {
    const t0 = now();
    let tConn = null, tSync = null, bytes = 0;
    const s = connect(plan.url, J.room, J.cookie);
    const timer = setTimeout(() => { s.close(); reject(new Error("join timeout")); }, J.timeout_s * 1000);
    s.io.on("open", () => {
      s.io.engine.on("packet", (p) => {
        if (p.type === "message" && typeof p.data === "string" && p.data.startsWith('2["state"'))
          bytes = Buffer.byteLength(p.data);
      });
    });
    s.on("connect_error", (e) => { clearTimeout(timer); s.close(); reject(new Error(`connect_error ${e.message}`)); });
    s.on("connect", () => { tConn = now(); tSync = now(); s.emit("sync", { since: -1, pack: 1 }); });  // pack: as the browser does (JOIN2)
    s.on("state", (st) => {
      const t = now();
      clearTimeout(timer);
      const items = st.activities && st.activities.canvas ? st.activities.canvas.pages[0].items.length : null;
      s.close();
      resolve({ total_ms: t - t0, connect_ms: tConn - t0, state_ms: t - tSync, bytes, items });
    });
  });
  const cold = [];
  for (let i = 0; i < (J.cold || 0); i++) cold.push(await one());
  const warm = [];
  for (let i = 0; i < J.joins; i++) {
    warm.push(await one());
    await sleep(J.pause_ms || 50);
  }
  say(`${warm.length} joins, items ${warm[0] && warm[0].items}`);
  out({ event: "result", cold, total_ms: summary(warm.map((w) => w.total_ms)),
        state_ms: summary(warm.map((w) => w.state_ms)), connect_ms: summary(warm.map((w) => w.connect_ms)),
        bytes: warm.length ? warm[0].bytes : null, items: warm.length ? warm[0].items : null });
}

// ---------------------------------------------------------------- idle

async function idle() {
  const jobs = [];
  plan.rooms.forEach((r) => r.clients.forEach((c) => jobs.push({ r, c })));
  const sockets = [];
  let failed = 0;
  const firstErrors = [];
  const t0 = now();
  await pool(jobs, plan.connect_concurrency || 16, async (job) => {
    try {
      sockets.push(await join(job.c, job.r.room, {}));
    } catch (e) {
      failed++; if (firstErrors.length < 3) firstErrors.push(String(e.message));
    }
    if ((sockets.length + failed) % 250 === 0) say(`idle: ${sockets.length + failed}/${jobs.length}`);
  });
  const open = () => sockets.filter((s) => s.connected).length;
  out({ event: "connected", sockets: sockets.length, failed, errors: firstErrors,
        seconds: (now() - t0) / 1000 });
  // Hold until run.py has sampled the server and says "quit" (bounded by max_hold_s).
  await new Promise((resolve) => {
    const t = setTimeout(resolve, plan.idle.max_hold_s * 1000);
    createInterface({ input: process.stdin }).on("line", (l) => {
      if (l.trim() === "quit") { clearTimeout(t); resolve(); }
    });
  });
  const stillOpen = open();
  for (const s of sockets) s.close();
  out({ event: "result", sockets: sockets.length, failed, still_open: stillOpen });
}

const modes = { relay, join: joinBench, idle };
modes[plan.mode]().then(() => {
  setTimeout(() => process.exit(0), 100);
}).catch((e) => {
  out({ event: "result", error: String(e && e.stack || e) });
  setTimeout(() => process.exit(2), 100);
});
