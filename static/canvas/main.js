// Entry point of the room page: reads the JSON config from the page, builds the
// shell, one object per activity (registry) and the connection, and wires them up.
import {Connection} from "./connection.js";
import {createActivities} from "./registry.js";
import {Shell} from "./shell.js";

const config = JSON.parse(document.getElementById("playroom-config").textContent);
const me = config.me;
let settings = {};
let participants = new Map([[me.id, {...me, online: true}]]);
let current = null;            // name of the mounted activity
let conn = null;

/** May I change things right now? The server decides too; this only shapes the UI. */
function canDraw() {
  if (me.role === "therapist") return true;
  if (me.role === "child") return Boolean(settings.child_may_draw);
  if (me.role === "parent") return Boolean(settings.parent_may_play);
  return false;
}

const shell = new Shell(config, {
  onSwitch: (name) => mount(name),
  onSetting: (key, value) => conn.setSetting(key, value),
});

const activities = createActivities(config.activities, {config});

function notify(what) {
  for (const a of activities.values()) if (a.changed) a.changed(what);
}

function makeContext(name, spec) {
  return {
    name, spec, config, me,
    pictures: config.pictures,
    urls: config.urls,
    canDraw,
    connected: () => conn.synced,
    seq: () => conn.seq,
    pendingCount: () => conn.pendingCount,
    unconfirmed: () => conn.unconfirmed(name),
    submit: (t, d) => conn.submit(name, t, d),
    history: (action, target) => conn.history(name, action, target),
    sendEph: (item) => conn.sendEph({a: name, ...item}),
    clockSample: () => conn.clockSample(),
    participant: (id) => participants.get(id) || null,
    toast: (text) => shell.toast(text),
    confirm: (q, opts) => shell.confirm(q, opts),
  };
}

function mount(name) {
  if (name === current || !activities.has(name)) return;
  if (current) activities.get(current).unmount();
  shell.stage.replaceChildren();
  current = name;
  const spec = config.activities.find((a) => a.name === name);
  activities.get(name).mount(shell.stage, makeContext(name, spec));
  shell.setActive(name);
}

conn = new Connection(config, {
  status(s) {
    document.body.dataset.conn = s;
    shell.setConn(s);
    notify("conn");
  },
  reset(states) {
    for (const [name, a] of activities) a.reset(states[name]);
  },
  op(op) {
    const a = activities.get(op.a);
    if (!a) return;
    try {
      a.apply(op);
    } catch (err) {
      // A reducer bug must not stop the ordered stream; resync fixes local state.
      console.error("Playroom: could not apply op", op, err);
    }
  },
  eph(by, item) {
    const a = activities.get(item && item.a) || activities.get(current);
    if (a && by !== me.id) a.ephemeral(by, item);
  },
  presence(list) {
    participants = new Map(list.map((p) => [p.id, p]));
    if (!participants.has(me.id)) participants.set(me.id, {...me, online: true});
    shell.setPresence([...participants.values()]);
    notify("presence");
  },
  settings(s) {
    settings = {...s};
    shell.setSettings(settings);
    notify("settings");
  },
  pending: () => notify("pending"),
  applied: () => notify("seq"),
  toast: (text) => shell.toast(text),
  fatal: (code, reason) => shell.fatal(code, reason),
});

document.body.dataset.conn = "reconnecting";
mount(config.activities.find((a) => activities.has(a.name))?.name);
conn.start();
// For debugging in the console only; nothing depends on it.
window.playroom = {config, conn, activities};
