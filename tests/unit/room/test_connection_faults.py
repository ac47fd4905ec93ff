"""The browser's room connection (static/canvas/room/connection.js) under store faults,
run under node with a stand-in socket: a connect refused as `unavailable` is tried
again with back-off (FAULT1), and a refused op is never dropped without the person
seeing why; one refused as `frozen` is held and sent again when the freeze lifts
(FAULT4)."""
import json
import os

from activities.contract.protocol import client_config
from tests.support import run_node

# The page's import map gives connection.js its socket.io client; here a stand-in
# whose io() hands out the test's fake socket.
STUB = "export function io() { return globalThis.fakeSocket; }\n"

SCRIPT = r"""
import {Connection} from "./connection.js";
let text = "";
for await (const chunk of process.stdin) text += chunk;
const input = JSON.parse(text);
const timers = [];
globalThis.setTimeout = (fn, ms) => { timers.push({fn, ms}); return timers.length; };
globalThis.clearTimeout = () => {};
const toasts = [], emitted = [], fatal = [];
const hooks = {status() {}, reset() {}, op() {}, eph() {}, presence() {}, settings() {},
               pending() {}, applied() {}, toast: (t) => toasts.push(t),
               fatal: (code) => fatal.push(code), lobby() {}, knock() {}};
const config = {protocol: input.protocol, me: {id: "kid", role: "child"}, room: {id: "r1"}};
const handlers = {};
const socket = {connected: true, active: false, connects: 0,
                on(ev, fn) { handlers[ev] = fn; },
                emit(ev, msg, cb) { emitted.push({ev, msg, cb}); },
                connect() { socket.connects++; }};
globalThis.fakeSocket = socket;
globalThis.document = {addEventListener() {}, visibilityState: "visible"};
globalThis.window = {addEventListener() {}};
const c = new Connection(config, hooks);
c.start();
const room = (settings) => handlers[input.protocol.events.room]({settings});
const out = {};
if (input.case === "frozen") {
  c.synced = true;
  const id = c.submit("canvas", "stroke", {page: "p1"});
  emitted.at(-1).cb({ok: false, code: "frozen", reason: "paused", op_id: id});
  out.after_refusal = {pending: c.pendingCount, sent: emitted.length, toasts: toasts.length};
  room({freeze: true});
  out.still_frozen = {pending: c.pendingCount, sent: emitted.length};
  room({freeze: false});
  out.lifted = {sent: emitted.length, same_op: emitted.at(-1).msg.op_id === id};
  emitted.at(-1).cb({ok: true, seq: 7});
  out.acked = {pending: c.pendingCount};
  c.submit("canvas", "stroke", {page: "p1"});
  emitted.at(-1).cb({ok: false, code: "private_time", reason: "private"});
  c.history("canvas", "undo");
  emitted.at(-1).cb({ok: false, code: "nothing_to_do", reason: "nothing to undo"});
  out.end = {pending: c.pendingCount, toasts};
} else {
  socket.connected = false;
  const err = {message: "unavailable", data: {code: "unavailable", reason: "out of reach"}};
  timers.length = 0;
  for (let k = 0; k < 7; k++) handlers.connect_error(err);
  out.delays = timers.map((t) => t.ms);
  for (const t of timers) t.fn();
  out.connects = socket.connects;
  out.closed = c.closed;
  out.fatal = fatal;
  handlers.connect();
  timers.length = 0;
  handlers.connect_error(err);
  out.after_connect = timers.map((t) => t.ms);
}
console.log(JSON.stringify(out));
"""


def run(tmp_path, case):
    stub = tmp_path / "node_modules" / "socket.io-client"
    os.makedirs(stub)
    (stub / "package.json").write_text(json.dumps(
        {"name": "socket.io-client", "type": "module", "exports": "./index.js"}))
    (stub / "index.js").write_text(STUB)
    (tmp_path / "package.json").write_text(json.dumps({"type": "module"}))
    modules = {"connection.js": "room/connection.js", "util.js": "room/util.js", "wire.js": "room/wire.js",
               "i18n.js": "room/i18n.js"}
    return run_node(tmp_path, modules, SCRIPT, {"case": case, "protocol": client_config()})


def test_FAULT4_the_browser_holds_a_frozen_op_and_resends_it_when_the_freeze_lifts(tmp_path):
    out = run(tmp_path, "frozen")
    # Refused as frozen: kept (not dropped), not resent while frozen, one calm toast.
    assert out["after_refusal"] == {"pending": 1, "sent": 1, "toasts": 1}
    assert out["still_frozen"] == {"pending": 1, "sent": 1}
    assert out["lifted"] == {"sent": 2, "same_op": True}
    assert out["acked"] == {"pending": 0}
    # Any other refusal of an op is dropped with a message the person sees; an
    # undo with nothing left to undo changes nothing and stays quiet.
    assert out["end"]["pending"] == 0
    assert out["end"]["toasts"] == [out["end"]["toasts"][0], "Private time: that was not kept."]


def test_FAULT1_the_browser_reconnects_after_an_unavailable_refusal_with_back_off(tmp_path):
    out = run(tmp_path, "unavailable")
    assert out["delays"] == [1000, 2000, 4000, 8000, 16000, 30000, 30000]
    assert out["connects"] == 7 and out["closed"] is False and out["fatal"] == []
    assert out["after_connect"] == [1000]          # a connect that worked starts over
