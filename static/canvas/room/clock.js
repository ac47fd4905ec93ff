// Server clock estimate (CLK1), the browser twin of ClockEstimator in activities/calm/__init__.py.
//
// A sample is one `clock` round trip over the room's socket: sent and received on
// this page's monotonic clock (performance.now(), ms) around the server's `now` (ms
// since the epoch). offset = now + rtt/2 - received. The sample with the shortest
// round trip among the last KEEP is the best estimate (its one-way delays can differ
// by at most its rtt). A burst of samples is taken at start, after a reconnect and
// every REFRESH_MS, so a drifting clock is followed. Server time = performance.now()
// + offset: the device's wall clock (Date.now) is never used, so a tablet whose clock
// is minutes off still breathes in phase.

export const KEEP = 10;
export const BURST = 5;
export const BURST_GAP_MS = 60;
export const REFRESH_MS = 30000;

/** [rtt, offset] of one sample (all ms). */
export function sample(sent, serverNow, received) {
  const rtt = received - sent;
  return [rtt, serverNow + rtt / 2 - received];
}

/** The estimator's arithmetic, without timers: add samples, read the best offset. */
export class ClockEstimator {
  constructor(keep = KEEP) {
    this.keep = keep;
    this.samples = [];
  }

  add(sent, serverNow, received) {
    const s = sample(sent, serverNow, received);
    if (s[0] < 0) return;                 // a clock that ran backwards: not a sample
    this.samples.push(s);
    if (this.samples.length > this.keep) this.samples.splice(0, this.samples.length - this.keep);
  }

  get best() {
    let best = null;
    for (const s of this.samples) if (best === null || s[0] < best[0]) best = s;
    return best;
  }

  get offset() {
    const b = this.best;
    return b ? b[1] : null;
  }
}

/**
 * A live server clock for one page. `take()` returns a promise of a raw sample
 * {now, sent, received} (or null when offline); the connection measures it.
 */
export class ServerClock {
  constructor(take, {keep = KEEP, burst = BURST, gapMs = BURST_GAP_MS, refreshMs = REFRESH_MS,
    local = () => performance.now()} = {}) {
    this.take = take;
    this.est = new ClockEstimator(keep);
    this.burst = burst;
    this.gapMs = gapMs;
    this.refreshMs = refreshMs;
    this.local = local;
    this.timer = null;
    this.running = false;
    this.busy = false;
    this.onChange = null;
  }

  get ready() {
    return this.est.offset !== null;
  }

  get offset() {
    return this.est.offset;
  }

  get rtt() {
    const b = this.est.best;
    return b ? b[0] : null;
  }

  /** Server time in ms, or null before the first sample. */
  nowMs() {
    const o = this.est.offset;
    return o === null ? null : this.local() + o;
  }

  /** Server time in seconds (the unit of the activity state), or null. */
  nowS() {
    const ms = this.nowMs();
    return ms === null ? null : ms / 1000;
  }

  start() {
    if (this.running) return;
    this.running = true;
    this.sampleBurst();
  }

  stop() {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = null;
  }

  /** Take a fresh burst now (after a reconnect: the path, and so the delay, changed). */
  refresh() {
    if (this.running) this.sampleBurst();
  }

  async sampleBurst() {
    if (this.busy) return;
    this.busy = true;
    clearTimeout(this.timer);
    try {
      for (let i = 0; i < this.burst && this.running; i++) {
        if (i) await new Promise((r) => setTimeout(r, this.gapMs));
        let s = null;
        try { s = await this.take(); } catch { s = null; }
        if (s && Number.isFinite(s.now)) {
          const had = this.est.offset;
          this.est.add(s.sent, s.now, s.received);
          if (this.onChange && this.est.offset !== had) this.onChange();
        }
      }
    } finally {
      this.busy = false;
      if (this.running) this.timer = setTimeout(() => this.sampleBurst(), this.ready ? this.refreshMs : 1000);
    }
  }
}
